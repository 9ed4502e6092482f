#include "restore_job/pgbackrest_restore_job.h"

#include <filesystem>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

#include "common/files.h"
#include "common/json.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "pgbackrest/catalog.h"
#include "restore_job/recovery_target.h"

namespace cnpgi_pgbackrest {
namespace {

namespace fs = std::filesystem;

absl::Status RequireEmptyDataDirectory(const std::string& pgdata) {
  std::error_code ec;
  if (!fs::exists(pgdata, ec)) return absl::OkStatus();
  if (!fs::is_directory(pgdata, ec))
    return absl::FailedPreconditionError(absl::StrCat("PGDATA ", pgdata, " exists and is not a directory"));
  if (!fs::is_empty(pgdata, ec))
    return absl::FailedPreconditionError(absl::StrCat(
        "PGDATA ", pgdata, " is not empty; refusing to restore over existing data (delete the PVC to re-bootstrap)"));
  return absl::OkStatus();
}

// The backup's postgresql.auto.conf may carry recovery settings naming binaries (pgbackrest) that
// the postgres container does not have; CNPG writes its own, so drop them.
absl::Status ScrubRecoverySettings(const std::string& pgdata) {
  std::string path = pgdata + "/postgresql.auto.conf";
  auto text = ReadFile(path);
  if (absl::IsNotFound(text.status())) return absl::OkStatus();
  if (!text.ok()) return text.status();
  std::string kept;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    absl::string_view key = absl::StripLeadingAsciiWhitespace(line);
    if (absl::StartsWith(key, "restore_command") || absl::StartsWith(key, "recovery_target") ||
        absl::StartsWith(key, "archive_cleanup_command") || absl::StartsWith(key, "recovery_end_command"))
      continue;
    absl::StrAppend(&kept, line, "\n");
  }
  while (absl::EndsWith(kept, "\n\n")) kept.pop_back();
  return WriteFileAtomically(path, kept);
}

// spec.walStorage: WAL lives on its own volume and pg_wal is a symlink to it.
absl::Status MoveWalToStorage(const std::string& pgdata, const std::string& wal_dir) {
  std::error_code ec;
  fs::path pg_wal = fs::path(pgdata) / "pg_wal";
  if (fs::is_symlink(pg_wal, ec)) return absl::OkStatus();
  fs::create_directories(wal_dir, ec);
  if (ec)
    return absl::FailedPreconditionError(absl::StrCat("cannot create WAL directory ", wal_dir, ": ", ec.message()));
  for (const auto& entry : fs::directory_iterator(pg_wal, ec)) {
    fs::path dest = fs::path(wal_dir) / entry.path().filename();
    fs::rename(entry.path(), dest, ec);
    if (ec) {  // another volume: copy, then remove
      ec.clear();
      fs::copy(entry.path(), dest, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
      if (ec) return absl::InternalError(absl::StrCat("cannot move ", entry.path().string(), ": ", ec.message()));
      fs::remove_all(entry.path(), ec);
    }
  }
  fs::remove_all(pg_wal, ec);
  fs::create_directory_symlink(wal_dir, pg_wal, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot link pg_wal to ", wal_dir, ": ", ec.message()));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RestoreJobResult> PgbackrestRestoreJob::Restore(const RestoreJobRequest& request) {
  ASSIGN_OR_RETURN(auto cluster, engine_->Cluster(request.cluster_definition));
  if (!cluster.recovery_source)
    return absl::FailedPreconditionError(
        absl::StrCat("Cluster '", cluster.name,
                     "': spec.bootstrap.recovery.source does not name an externalClusters entry "
                     "whose plugin is ",
                     engine_->options().plugin_name));
  const nlohmann::json& recovery = ObjectAt(ObjectAt(cluster.spec, "bootstrap"), "recovery");
  ASSIGN_OR_RETURN(auto target, ParseRecoveryTarget(recovery.contains("recoveryTarget") ? recovery["recoveryTarget"]
                                                                                        : nlohmann::json()));
  const std::string& pgdata = engine_->options().instance.pgdata;
  RETURN_IF_ERROR(RequireEmptyDataDirectory(pgdata));

  ASSIGN_OR_RETURN(auto source, engine_->Open(*cluster.recovery_source));
  ASSIGN_OR_RETURN(auto info, engine_->Info(source, request.cancelled));
  ASSIGN_OR_RETURN(auto catalog, ParseStanzaInfo(info));
  RETURN_IF_ERROR(RequireReadable(catalog, Describe(source.use)));
  if (catalog.status_code == 1)
    return absl::FailedPreconditionError(absl::StrCat("Archive '", source.use.archive_name, "' has no stanza '",
                                                      source.use.stanza, "' (declared at ", source.use.declared_at,
                                                      ")"));
  auto backup = SelectBackup(catalog, target);
  if (!backup.ok())
    return absl::Status(backup.status().code(),
                        absl::StrCat("Archive '", source.use.archive_name, "': ", backup.status().message()));

  // A new cluster that archives must start from an empty stanza, unless told otherwise.
  bool check_empty = request.check_empty_wal_archive.value_or(!cluster.SkipsEmptyWalArchiveCheck());
  if (check_empty && cluster.archive) {
    ASSIGN_OR_RETURN(auto own, engine_->Open(*cluster.archive));
    RETURN_IF_ERROR(engine_->RequireEmptyArchive(own, request.cancelled));
  }

  Log("info", "restore starting",
      {{"backup", backup->label},
       {"archive", source.use.archive_name},
       {"stanza", source.use.stanza},
       {"pgdata", pgdata}});
  PgbackrestCall call{
      .command = "restore",
      .options = {absl::StrCat("--set=", backup->label), "--type=none", absl::StrCat("--repo=", backup->repo_key)},
      .timeout = timeout_,
      .cancelled = request.cancelled};
  ASSIGN_OR_RETURN(auto run, engine_->Run(source, call));
  RETURN_IF_ERROR(PgbackrestStatus(run, absl::StrCat("restoring backup ", backup->label)));
  RETURN_IF_ERROR(ScrubRecoverySettings(pgdata));
  if (cluster.has_wal_storage) RETURN_IF_ERROR(MoveWalToStorage(pgdata, engine_->options().wal_storage_dir));
  Log("info", "restore done", {{"backup", backup->label}});

  RestoreJobResult result;
  // CNPG appends the recovery-target settings after this text; recovery must end by promoting.
  result.restore_config =
      absl::StrCat("recovery_target_action = 'promote'\nrestore_command = '", engine_->options().instance_manager,
                   " wal-restore --log-destination /controller/log/postgres.json %f %p'\n");
  return result;
}

}  // namespace cnpgi_pgbackrest
