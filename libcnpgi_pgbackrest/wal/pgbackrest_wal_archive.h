// WAL archive through `pgbackrest archive-push`.
#pragma once

#include "absl/strings/string_view.h"
#include <string>

#include "pgbackrest/engine.h"
#include "wal/wal_archive.h"
#include "wal/wal_push_scheduler.h"

namespace cnpgi_pgbackrest {

// The marker CNPG leaves in PGDATA until the first WAL of a new cluster is archived.
inline constexpr absl::string_view kCheckEmptyWalArchiveMarker = ".check-empty-wal-archive";

// A lone segment is pushed synchronously the moment PostgreSQL marks it .ready; a backlog goes to
// pgBackRest's async mode (archive-async, process-max: see ConfigFiles). bench/README.md shows why.
class PgbackrestWalArchive : public WalArchive {
 public:
  struct Options {
    int parallel = 1;   // synchronous pushes at once
    bool ahead = true;  // push on the .ready mark instead of waiting for the Archive call
  };
  PgbackrestWalArchive(Engine* engine, Options options);
  absl::Status Archive(const WalArchiveRequest& request) override;

 private:
  // Whether the empty-archive check applies: the request decides, else annotation + marker (CNPG ≤ 1.30).
  bool MustCheckEmpty(const WalArchiveRequest& request, const ClusterView& cluster) const;
  // archive-push of one file, creating the stanza on the first push.
  absl::Status Push(const Stanza& stanza, const std::string& path, bool async, const std::function<bool()>& cancelled);
  WalPushScheduler::Target TargetFor(const Stanza& stanza);

  Engine* engine_;
  WalPushScheduler scheduler_;
};

}  // namespace cnpgi_pgbackrest
