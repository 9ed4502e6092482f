// Backup capability: take a base backup of the local instance for a CNPG Backup (sidecar).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"

#include "cnpgi_pgbackrest/export.h"

namespace cnpgi_pgbackrest {

struct BackupRequest {
  std::string cluster_definition;                 // Cluster JSON
  std::string backup_definition;                  // Backup JSON
  std::map<std::string, std::string> parameters;  // Backup.spec.pluginConfiguration.parameters
  std::function<bool()> cancelled;
};

// Maps one to one onto CNPG's Backup status.
struct BackupResult {
  std::string backup_id;    // pgBackRest label
  std::string backup_name;  // the CNPG Backup's name
  int64_t started_at = 0;   // Unix seconds; never left 0
  int64_t stopped_at = 0;
  std::string begin_wal, end_wal;
  std::string begin_lsn, end_lsn;
  std::string backup_label_file;
  std::string tablespace_map_file;
  std::string instance_id;
  bool online = true;
  std::map<std::string, std::string> metadata;
};

class CNPGI_PGBACKREST_EXPORT Backup {
 public:
  virtual ~Backup() = default;
  // Runs the backup on the local instance and blocks until it ends (hours for a large database:
  // request.cancelled() stops it). May be called from any thread; a second Backup while one runs
  // waits for pgBackRest's lock or fails with its reason. OK only when the backup and the WAL
  // needed to restore it are in the repository. INVALID_ARGUMENT for bad parameters (nothing ran),
  // FAILED_PRECONDITION when this instance cannot take it, others as WalArchive::Archive.
  virtual absl::StatusOr<BackupResult> Run(const BackupRequest& request) = 0;
};

}  // namespace cnpgi_pgbackrest
