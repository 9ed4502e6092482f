// Restore-job capability: fill PGDATA from a backup when a Cluster bootstraps from an archive (sidecar).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "cnpgi_pgbackrest/export.h"

namespace cnpgi_pgbackrest {

struct RestoreJobRequest {
  std::string cluster_definition;  // Cluster JSON
  std::optional<bool> check_empty_wal_archive;
  std::function<bool()> cancelled;
};

struct RestoreJobResult {
  std::string restore_config;     // appended to custom.conf: must make recovery fetch WAL and promote
  std::vector<std::string> envs;  // NAME=VALUE for PostgreSQL during recovery
};

class CNPGI_PGBACKREST_EXPORT RestoreJob {
 public:
  virtual ~RestoreJob() = default;
  // Restores the backup the Cluster's recovery target selects into an empty PGDATA, once per
  // bootstrap (any thread; blocks until done). INVALID_ARGUMENT for a malformed recovery target,
  // NOT_FOUND for an unknown backupID, FAILED_PRECONDITION when no backup can reach the target,
  // PGDATA is not empty or the repository cannot be read: nothing is written in those cases.
  virtual absl::StatusOr<RestoreJobResult> Restore(const RestoreJobRequest& request) = 0;
};

}  // namespace cnpgi_pgbackrest
