#include "backup/pgbackrest_backup.h"

#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "backup/backup_options.h"
#include "common/json.h"
#include "common/log.h"
#include "common/text.h"
#include "common/wal_name.h"
#include "stanza/stanza_state.h"

namespace cnpgi_pgbackrest {
namespace {

using json = nlohmann::json;

}  // namespace

absl::Status PgbackrestBackup::WaitForStopWal(const Stanza& stanza, const StanzaCatalog& catalog,
                                              const BackupRecord& backup, const std::function<bool()>& cancelled) {
  std::string archive_id;
  for (const auto& a : catalog.archives)
    if (a.database_id == backup.database_id && a.repo_key == backup.repo_key) archive_id = a.id;
  // Both come from the repository's catalog and name a directory in it: checked before use.
  if (!IsArchiveId(archive_id) || ClassifyWalName(backup.wal_stop) != WalFileKind::kSegment)
    return absl::InternalError(absl::StrCat("cannot tell where backup ", Quoted(backup.label), "'s WAL is archived"));
  std::string dir = absl::StrCat("archive/", stanza.use.stanza, "/", archive_id, "/", backup.wal_stop.substr(0, 16));
  auto deadline = std::chrono::steady_clock::now() + options_.wal_wait;
  while (true) {
    PgbackrestCall ls{.command = "repo-ls",
                      .options = {"--output=json", absl::StrCat("--repo=", backup.repo_key),
                                  absl::StrCat("--filter=^", backup.wal_stop)},
                      .args = {dir},
                      .timeout = std::chrono::minutes(2),
                      .cancelled = cancelled};
    auto r = engine_->Run(stanza, ls);
    if (!r.ok()) return r.status();
    if (auto s = PgbackrestStatus(*r, "listing the WAL archive"); !s.ok()) return s;
    auto files = ParseJson(r->out, "pgbackrest repo-ls output");
    if (files.ok() && files->is_object() && !files->empty()) return absl::OkStatus();
    if (cancelled && cancelled()) return absl::CancelledError("backup cancelled while waiting for its WAL");
    if (std::chrono::steady_clock::now() > deadline)
      return absl::DeadlineExceededError(absl::StrCat(
          "backup ", backup.label, " finished but its last WAL segment ", backup.wal_stop, " was not archived within ",
          std::chrono::duration_cast<std::chrono::seconds>(options_.wal_wait).count(),
          " s; the backup cannot be restored until it is (check WAL archiving of this Cluster)"));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

absl::StatusOr<BackupResult> PgbackrestBackup::Run(const BackupRequest& request) {
  auto result = RunBackup(request);
  if (!result.ok()) {
    absl::MutexLock lock(&failure_mu_);
    last_failure_ = std::string(result.status().message());
    last_failed_unix_ = absl::ToUnixSeconds(absl::Now());
  }
  ++finished_;
  return result;
}

PgbackrestBackup::Outcomes PgbackrestBackup::outcomes() const {
  absl::MutexLock lock(&failure_mu_);
  return {finished_.load(), last_failed_unix_.load(), last_failure_};
}

absl::StatusOr<BackupResult> PgbackrestBackup::RunBackup(const BackupRequest& request) {
  auto cluster = engine_->Cluster(request.cluster_definition);
  if (!cluster.ok()) return cluster.status();
  if (!cluster->archive_problem.ok()) return cluster->archive_problem;
  if (!cluster->archive)
    return absl::FailedPreconditionError(
        absl::StrCat("Cluster '", cluster->name, "' has no enabled spec.plugins entry named ",
                     engine_->options().plugin_name, " with pgbackrestObjectName: nothing to back up to"));
  auto object = ParseBackupObject(request.backup_definition);
  if (!object.ok()) return object.status();
  if (!object->online)
    return absl::InvalidArgumentError("offline backups (spec.online: false) are not supported by this plugin");
  const std::string& pod = engine_->options().pod_name;
  if (!cluster->current_primary.empty() && cluster->current_primary != pod)
    return absl::FailedPreconditionError(absl::StrCat("backups from a standby are not supported yet: this is ", pod,
                                                      ", the primary is ", cluster->current_primary,
                                                      "; set spec.target: primary on the Backup (or ScheduledBackup)"));
  auto flags = BackupFlags(request.parameters);
  if (!flags.ok()) return flags.status();

  auto stanza = engine_->Open(*cluster->archive);
  if (!stanza.ok()) return stanza.status();
  stanza->cluster_major_version = PgDataMajorVersion(cluster->status);
  if (auto s = engine_->EnsureStanza(*stanza, request.cancelled); !s.ok())
    return absl::Status(s.code(), absl::StrCat("backup ", object->name, " refused: ", s.message()));

  // CNPG's archive_command does not contain "pgbackrest", so pgBackRest's own archive check
  // cannot run; WaitForStopWal below gives the same guarantee.
  std::vector<std::string> options = {"--no-archive-check",
                                      absl::StrCat("--annotation=", kBackupNameAnnotation, "=", object->name)};
  if (!object->uid.empty()) options.push_back(absl::StrCat("--annotation=", kBackupUidAnnotation, "=", object->uid));
  bool start_fast_given = request.parameters.count("start-fast") > 0;
  if (object->immediate_checkpoint && !start_fast_given) options.push_back("--start-fast");
  options.insert(options.end(), flags->begin(), flags->end());
  Log("info", "backup starting",
      {{"backup", object->name}, {"archive", stanza->use.archive_name}, {"stanza", stanza->use.stanza}});
  PgbackrestCall call{
      .command = "backup", .options = options, .timeout = options_.backup_timeout, .cancelled = request.cancelled};
  auto run = engine_->Run(*stanza, call);
  if (!run.ok()) return run.status();
  if (auto s = PgbackrestStatus(*run, absl::StrCat("backup ", object->name)); !s.ok()) return s;

  auto info = engine_->Info(*stanza, request.cancelled);
  if (!info.ok()) return info.status();
  auto catalog = ParseStanzaInfo(*info);
  if (!catalog.ok()) return catalog.status();
  const BackupRecord* found = nullptr;
  for (const auto& b : catalog->backups) {
    auto name = b.annotations.find(kBackupNameAnnotation);
    auto uid = b.annotations.find(kBackupUidAnnotation);
    if (name != b.annotations.end() && name->second == object->name &&
        (object->uid.empty() || (uid != b.annotations.end() && uid->second == object->uid)))
      found = &b;
  }
  if (!found)
    return absl::InternalError(absl::StrCat("pgbackrest backup succeeded but no backup annotated ",
                                            kBackupNameAnnotation, "=", object->name, " is in the repository"));
  if (auto s = WaitForStopWal(*stanza, *catalog, *found, request.cancelled); !s.ok()) return s;

  BackupResult result;
  result.backup_id = found->label;
  result.backup_name = object->name;
  result.started_at = found->start_time;
  result.stopped_at = found->stop_time;
  result.begin_wal = found->wal_start;
  result.end_wal = found->wal_stop;
  result.begin_lsn = found->lsn_start;
  result.end_lsn = found->lsn_stop;
  result.instance_id = pod;
  result.online = true;
  result.metadata = {{"type", found->type},
                     {"repository", std::to_string(found->repo_key)},
                     {"stanza", stanza->use.stanza},
                     {"archive", stanza->use.archive_name}};
  if (!found->prior.empty()) result.metadata["prior"] = found->prior;
  Log("info", "backup done", {{"backup", object->name}, {"label", found->label}, {"type", found->type}});
  return result;
}

}  // namespace cnpgi_pgbackrest
