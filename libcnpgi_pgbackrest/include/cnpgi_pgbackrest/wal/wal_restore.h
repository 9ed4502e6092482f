// WAL restore capability: fetch one WAL file PostgreSQL asked for during recovery or replication.
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"

#include "cnpgi_pgbackrest/export.h"

namespace cnpgi_pgbackrest {

// Values equal WALRestoreRequest.Mode on the wire.
enum class WalRestoreMode { kUnspecified = 0, kRecovery = 1, kRewind = 2 };

struct WalRestoreRequest {
  std::string cluster_definition;     // Cluster JSON
  std::string source_wal_name;        // PostgreSQL's %f
  std::string destination_file_name;  // absolute path inside $PGDATA
  WalRestoreMode mode = WalRestoreMode::kUnspecified;
  std::function<bool()> cancelled;
};

class CNPGI_PGBACKREST_EXPORT WalRestore {
 public:
  virtual ~WalRestore() = default;
  // Called for every file PostgreSQL's restore_command asks for, from any thread, possibly at
  // once. OK only when the complete file is at destination_file_name (never a partial one).
  //   NOT_FOUND     the archive lacks the file (PostgreSQL then ends recovery or tries streaming)
  //   OUT_OF_RANGE  the archive ran out and streaming can take over (answered once)
  //   others        as WalArchive::Archive
  virtual absl::Status Restore(const WalRestoreRequest& request) = 0;
};

}  // namespace cnpgi_pgbackrest
