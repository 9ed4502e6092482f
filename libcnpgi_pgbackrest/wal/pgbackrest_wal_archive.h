// WAL archive through `pgbackrest archive-push`.
#pragma once

#include "absl/strings/string_view.h"
#include <string>

#include "pgbackrest/engine.h"
#include "wal/wal_archive.h"

namespace cnpgi_pgbackrest {

// The marker CNPG leaves in PGDATA until the first WAL of a new cluster is archived.
inline constexpr absl::string_view kCheckEmptyWalArchiveMarker = ".check-empty-wal-archive";

// Parallelism comes from pgBackRest's own async mode (archive-async, process-max: see
// ConfigFiles), which measured faster than pushing ahead from here (bench/README.md).
class PgbackrestWalArchive : public WalArchive {
 public:
  explicit PgbackrestWalArchive(Engine* engine) : engine_(engine) {}
  absl::Status Archive(const WalArchiveRequest& request) override;

 private:
  // Whether the empty-archive check applies: the request decides, else annotation + marker (CNPG ≤ 1.30).
  bool MustCheckEmpty(const WalArchiveRequest& request, const ClusterView& cluster) const;
  // archive-push of one file, creating the stanza on the first push.
  absl::Status Push(const Stanza& stanza, const std::string& path, const std::function<bool()>& cancelled);

  Engine* engine_;
};

}  // namespace cnpgi_pgbackrest
