// WAL restore through `pgbackrest archive-get`.
#pragma once

#include "absl/strings/string_view.h"
#include "pgbackrest/engine.h"
#include "wal/wal_restore.h"

namespace cnpgi_pgbackrest {

class PgbackrestWalRestore : public WalRestore {
 public:
  explicit PgbackrestWalRestore(Engine* engine) : engine_(engine) {}
  absl::Status Restore(const WalRestoreRequest& request) override;

 private:
  Engine* engine_;
};

// The Archive WAL is read from: the replica source on a designated primary, the recovery
// source while the Cluster has no primary yet (bootstrap), else the Cluster's own Archive.
absl::StatusOr<ArchiveUse> RestoreSource(const ClusterView& cluster, absl::string_view pod_name);

}  // namespace cnpgi_pgbackrest
