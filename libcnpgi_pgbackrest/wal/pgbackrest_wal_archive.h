// WAL archive through `pgbackrest archive-push`.
#pragma once

#include "absl/strings/string_view.h"
#include "pgbackrest/engine.h"
#include "wal/wal_archive.h"

namespace cnpgi_pgbackrest {

// The marker CNPG leaves in PGDATA until the first WAL of a new cluster is archived.
inline constexpr absl::string_view kCheckEmptyWalArchiveMarker = ".check-empty-wal-archive";

class PgbackrestWalArchive : public WalArchive {
 public:
  explicit PgbackrestWalArchive(Engine* engine) : engine_(engine) {}
  absl::Status Archive(const WalArchiveRequest& request) override;

 private:
  // Whether the empty-archive check applies: the request decides, else annotation + marker (CNPG ≤ 1.30).
  bool MustCheckEmpty(const WalArchiveRequest& request, const ClusterView& cluster) const;

  Engine* engine_;
};

}  // namespace cnpgi_pgbackrest
