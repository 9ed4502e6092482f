#include "absl/strings/string_view.h"
#include "wal/pgbackrest_wal_restore.h"

#include <unistd.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/wal_name.h"

namespace cnpgi_pgbackrest {

absl::StatusOr<ArchiveUse> RestoreSource(const ClusterView& cluster, absl::string_view pod_name) {
  if (cluster.replica_source && !cluster.current_primary.empty() && cluster.current_primary == pod_name)
    return *cluster.replica_source;
  if (cluster.current_primary.empty()) {
    if (cluster.recovery_source) return *cluster.recovery_source;
    if (cluster.replica_source) return *cluster.replica_source;
  }
  if (cluster.archive) return *cluster.archive;
  if (cluster.recovery_source) return *cluster.recovery_source;
  if (cluster.replica_source) return *cluster.replica_source;
  if (!cluster.archive_problem.empty()) return absl::FailedPreconditionError(cluster.archive_problem);
  return absl::FailedPreconditionError(absl::StrCat("Cluster '", cluster.name,
                                                    "' names no Archive of this plugin to restore WAL from"));
}

absl::Status PgbackrestWalRestore::Restore(const WalRestoreRequest& request) {
  auto cluster = engine_->Cluster(request.cluster_definition);
  if (!cluster.ok()) return cluster.status();
  const std::string& name = request.source_wal_name;
  if (!ClassifyWalName(name))
    return absl::InvalidArgumentError(absl::StrCat("source_wal_name '", name, "' is not a WAL file name"));
  const std::string& dest = request.destination_file_name;
  if (auto s = CheckCleanAbsolutePath(dest, "destination_file_name"); !s.ok()) return s;
  const std::string& pgdata = engine_->options().instance.pgdata;
  if (!IsInsideDirectory(dest, pgdata))
    return absl::InvalidArgumentError(
        absl::StrCat("destination_file_name '", dest, "' is outside the data directory ", pgdata));

  auto use = RestoreSource(*cluster, engine_->options().pod_name);
  if (!use.ok()) return use.status();
  auto stanza = engine_->Open(*use);
  if (!stanza.ok()) return stanza.status();

  // archive-get writes the file in place; a temporary name plus rename means PostgreSQL never sees a partial file.
  std::string tmp = absl::StrCat(dest, ".cnpgi-partial");
  unlink(tmp.c_str());
  PgbackrestCall get{.command = "archive-get", .args = {name, tmp}, .timeout = engine_->options().wal_timeout,
                     .cancelled = request.cancelled};
  auto result = engine_->Run(*stanza, get);
  if (!result.ok()) return result.status();
  std::string where = absl::StrCat("Archive '", use->archive_name, "' stanza '", use->stanza, "'");
  if (result->exit_code == kExitArchiveGetNotFound && !result->timed_out && !result->cancelled &&
      result->term_signal == 0) {
    unlink(tmp.c_str());
    return absl::NotFoundError(absl::StrCat("WAL file ", name, " is not in ", where));
  }
  if (auto s = PgbackrestStatus(*result, absl::StrCat("restoring ", name, " from ", where)); !s.ok()) {
    unlink(tmp.c_str());
    return s;
  }
  if (access(tmp.c_str(), F_OK) != 0)
    return absl::InternalError(absl::StrCat("pgbackrest archive-get reported success but wrote no file for ", name));
  if (rename(tmp.c_str(), dest.c_str()) != 0) {
    unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("cannot move restored ", name, " to ", dest));
  }
  return absl::OkStatus();
}

}  // namespace cnpgi_pgbackrest
