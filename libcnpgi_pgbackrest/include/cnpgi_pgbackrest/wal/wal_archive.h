// WAL archive capability: store one WAL file PostgreSQL asked to archive.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"

#include "cnpgi_pgbackrest/export.h"

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
  // Called for every file PostgreSQL's archive_command gets, from any thread, many at once (the
  // same file too: PostgreSQL retries). OK only once the file is stored in every repository of
  // the Archive: PostgreSQL then recycles it. A file already stored with the same content is OK;
  // with other content it is an error. Otherwise PostgreSQL keeps the file and retries:
  //   INVALID_ARGUMENT     the request or the Cluster's plugin parameters are malformed
  //   NOT_FOUND            the file or the Archive does not exist
  //   FAILED_PRECONDITION  configuration or repository state (a non-empty stanza for a new cluster)
  //   PERMISSION_DENIED    the repository refused the credentials
  //   UNAVAILABLE          the repository cannot be reached, or the sidecar is stopping
  //   DEADLINE_EXCEEDED    the push overran its time limit; CANCELLED: request.cancelled() said so
  virtual absl::Status Archive(const WalArchiveRequest& request) = 0;
};

}  // namespace cnpgi_pgbackrest
