// WAL archive through `pgbackrest archive-push`.
#pragma once

#include "absl/strings/string_view.h"
#include <string>
#include <vector>

#include "pgbackrest/engine.h"
#include "wal/wal_archive.h"

namespace cnpgi_pgbackrest {

// The marker CNPG leaves in PGDATA until the first WAL of a new cluster is archived.
inline constexpr absl::string_view kCheckEmptyWalArchiveMarker = ".check-empty-wal-archive";

class PgbackrestWalArchive : public WalArchive {
 public:
  struct Options {
    // Segments pushed in parallel per call when PostgreSQL has a backlog (the requested one
    // included); 1 pushes only what was asked.
    int parallel = 1;
    // Where markers of segments already pushed ahead live (only written after pgBackRest stored them).
    std::string spool_dir;
  };
  PgbackrestWalArchive(Engine* engine, Options options) : engine_(engine), options_(std::move(options)) {}
  absl::Status Archive(const WalArchiveRequest& request) override;

 private:
  // Whether the empty-archive check applies: the request decides, else annotation + marker (CNPG ≤ 1.30).
  bool MustCheckEmpty(const WalArchiveRequest& request, const ClusterView& cluster) const;
  // archive-push of one file, creating the stanza on the first push.
  absl::Status Push(Stanza& stanza, const std::string& path, const std::function<bool()>& cancelled);
  // Up to `count` other segments PostgreSQL has marked .ready, oldest first.
  std::vector<std::string> ReadyNeighbours(const std::string& wal_dir, const std::string& requested, int count) const;

  Engine* engine_;
  Options options_;
};

}  // namespace cnpgi_pgbackrest
