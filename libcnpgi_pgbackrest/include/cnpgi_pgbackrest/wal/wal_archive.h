// WAL archive capability: store one WAL file PostgreSQL asked to archive.
#pragma once

#include "cnpgi_pgbackrest/export.h"

#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"

namespace cnpgi_pgbackrest {

struct WalArchiveRequest {
  std::string cluster_definition;  // Cluster JSON
  std::string source_file_name;    // absolute path under $PGDATA/pg_wal
  // Set by operators with cnpg-i >= 0.6.0; unset means "decide from annotation and marker file".
  std::optional<bool> check_empty_wal_archive;
  std::function<bool()> cancelled;
};

class CNPGI_PGBACKREST_EXPORT WalArchive {
 public:
  virtual ~WalArchive() = default;
  // OK only once the file is stored in every repository of the Archive.
  virtual absl::Status Archive(const WalArchiveRequest& request) = 0;
};

}  // namespace cnpgi_pgbackrest
