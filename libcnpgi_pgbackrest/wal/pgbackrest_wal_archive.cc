#include "wal/pgbackrest_wal_archive.h"

#include <algorithm>
#include <unistd.h>

#include <sys/stat.h>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

#include "common/files.h"
#include "common/log.h"
#include "common/text.h"
#include "common/wal_name.h"
#include "stanza/stanza_state.h"

namespace cnpgi_pgbackrest {
namespace {

// pgBackRest's answer to a push into a stanza that was never created: exit 103 (55 in other
// releases) with "[FileMissingError] unable to load info file '.../archive.info'". The
// stanza-create hint alone proves nothing: it follows every archive.info failure (403, refused).
bool IsMissingStanza(const ProcessResult& r) {
  return (r.exit_code == kExitRepoInvalid || r.exit_code == kExitFileMissing) &&
         absl::StrContains(r.err, "[FileMissingError]") && absl::StrContains(r.err, "archive.info");
}

std::string MarkerPath(const Engine& engine) {
  return absl::StrCat(engine.options().instance.pgdata, "/", kCheckEmptyWalArchiveMarker);
}

std::string TargetFile(const Engine& engine) { return LastArchiveCallFile(engine.options().work_dir); }

}  // namespace

std::string LastArchiveCallFile(const std::string& work_dir) { return work_dir + "/wal-push-target.json"; }

bool PgbackrestWalArchive::MustCheckEmpty(const WalArchiveRequest& request, const ClusterView& cluster) const {
  if (request.check_empty_wal_archive.has_value()) return *request.check_empty_wal_archive;
  return !cluster.SkipsEmptyWalArchiveCheck() && access(MarkerPath(*engine_).c_str(), F_OK) == 0;
}

PgbackrestWalArchive::PgbackrestWalArchive(Engine* engine, Options options)
    : engine_(engine),
      scheduler_({.wal_dir = absl::StrCat(engine->options().instance.pgdata, "/pg_wal"),
                  .parallel = std::max(options.parallel, 1),
                  .ahead = options.ahead,
                  .timeout = engine->options().wal_timeout,
                  .mark_done = options.mark_done}) {}

WalPushScheduler::Target PgbackrestWalArchive::TargetFor(const Stanza& stanza) {
  WalPushScheduler::Target target;
  // A changed Archive spec is a new target: what was pushed under the old one proves nothing.
  target.identity = absl::StrCat(stanza.use.archive_name, "\n", stanza.use.stanza, "\n", stanza.rendered.config_path,
                                 "\n", stanza.archive.definition.dump());
  target.push = [this, stanza](const std::string& path, bool async, const std::function<bool()>& cancelled) {
    return Push(stanza, path, async, cancelled);
  };
  if (engine_->options().instance.wal_push_processes > 0) {
    const std::string& conf = stanza.rendered.config_path;
    target.async = AsyncPushSpoolFor(conf.substr(0, conf.rfind('/')), stanza.use.stanza);
  }
  target.warned = [this](const std::string& name, const std::string& warning) { NoteWarning(name, warning); };
  return target;
}

void PgbackrestWalArchive::Arm(const Stanza& stanza, const std::string& cluster_definition) {
  WalPushScheduler::Target target = TargetFor(stanza);
  std::string identity = target.identity;
  absl::MutexLock lock(&armed_mu_);
  scheduler_.Arm(std::move(target));
  if (identity == armed_identity_) return;
  armed_identity_ = identity;
  // Best effort: without the file a restarted sidecar waits for the next Archive call, as before.
  WriteFileAtomically(TargetFile(*engine_), cluster_definition).IgnoreError();
}

void PgbackrestWalArchive::Resume() {
  std::string text = ReadFileText(TargetFile(*engine_));
  if (text.empty()) return;
  auto cluster = engine_->Cluster(text);
  if (!cluster.ok() || !cluster->archive) return;
  // While CNPG's marker is there the empty-archive check is pending: that takes CNPG's call.
  if (access(MarkerPath(*engine_).c_str(), F_OK) == 0) return;
  auto stanza = engine_->Open(*cluster->archive);
  if (!stanza.ok()) {
    Log("warning", "push-ahead not resumed", {{"error", stanza.status().message()}});
    return;
  }
  stanza->cluster_major_version = PgDataMajorVersion(cluster->status);
  {
    // An Archive call that came first knows better than the file.
    absl::MutexLock lock(&armed_mu_);
    if (!armed_identity_.empty()) return;
  }
  Arm(*stanza, text);
  Log("info", "push-ahead resumed", {{"archive", stanza->use.archive_name}, {"stanza", stanza->use.stanza}});
}

absl::Status PgbackrestWalArchive::Push(const Stanza& stanza, const std::string& path, bool async,
                                        const std::function<bool()>& cancelled) {
  std::string name = path.substr(path.rfind('/') + 1);
  std::string what = absl::StrCat("archiving ", name, " to ", Describe(stanza.use));
  PgbackrestCall push{
      .command = "archive-push", .args = {path}, .timeout = engine_->options().wal_timeout, .cancelled = cancelled};
  // The async worker only pushes what PostgreSQL marked .ready (and asserts otherwise): the
  // scheduler asks for async only for such files.
  if (engine_->options().instance.wal_push_processes > 0 && !async) push.options.push_back("--no-archive-async");
  // Checked once per Archive spec: a stanza of another database never receives a push (not even
  // push-ahead), and a new repository or a major upgrade is dealt with before the first one.
  if (auto s = engine_->EnsureStanza(stanza, cancelled); !s.ok())
    return absl::Status(s.code(), absl::StrCat(what, " refused: ", s.message()));
  auto result = engine_->Run(stanza, push);
  if (!result.ok()) return result.status();
  if (IsMissingStanza(*result)) {
    // First WAL of this stanza: create it now instead of waiting for a backup.
    engine_->ForgetStanza(stanza);
    if (auto s = engine_->EnsureStanza(stanza, cancelled); !s.ok()) return s;
    result = engine_->Run(stanza, push);
    if (!result.ok()) return result.status();
  }
  absl::Status status = PgbackrestStatus(*result, what);
  // An async push's segments are acknowledged from their .ok files, which carry the same warnings.
  if (status.ok() && !async)
    for (absl::string_view line : absl::StrSplit(result->err, '\n', absl::SkipWhitespace()))
      if (absl::ConsumePrefix(&line, "WARN: ")) NoteWarning(name, std::string(line));
  return status;
}

void PgbackrestWalArchive::NoteWarning(const std::string& name, const std::string& warning) {
  if (absl::StrContains(warning, "dropped WAL file")) {
    ++dropped_;
    Log("warning", "WAL dropped, not archived: archive-push-queue-max was exceeded; recovery cannot pass this segment",
        {{"wal", name}, {"pgbackrest", warning}});
    return;
  }
  Log("info", "pgBackRest warning while archiving", {{"wal", name}, {"pgbackrest", warning}});
}

absl::Status PgbackrestWalArchive::Archive(const WalArchiveRequest& request) {
  absl::Status status = ArchiveOnce(request);
  int64_t now = absl::ToUnixSeconds(absl::Now());
  std::string name = request.source_file_name.substr(request.source_file_name.rfind('/') + 1);
  absl::MutexLock lock(&facts_mu_);
  last_cluster_definition_ = request.cluster_definition;
  failing_ = !status.ok();
  if (status.ok()) {
    ++archived_;
    last_archived_unix_ = now;
    last_archived_wal_ = name;
  } else {
    ++failed_;
    last_failed_unix_ = now;
    last_failed_wal_ = name;
    last_failure_ = std::string(status.message());
  }
  return status;
}

PgbackrestWalArchive::Stats PgbackrestWalArchive::stats() const {
  Stats s{archived_.load(),         failed_.load(),  scheduler_.pushes_started(false), scheduler_.pushes_started(true),
          scheduler_.marked_done(), dropped_.load(), last_archived_unix_.load(),       last_failed_unix_.load()};
  absl::MutexLock lock(&facts_mu_);
  s.last_archived_wal = last_archived_wal_;
  s.last_failed_wal = last_failed_wal_;
  s.last_failure = last_failure_;
  s.failing = failing_;
  return s;
}

std::string PgbackrestWalArchive::last_cluster_definition() const {
  absl::MutexLock lock(&facts_mu_);
  return last_cluster_definition_;
}

absl::Status PgbackrestWalArchive::ArchiveOnce(const WalArchiveRequest& request) {
  auto cluster = engine_->Cluster(request.cluster_definition);
  if (!cluster.ok()) return cluster.status();
  if (!cluster->archive) {
    if (!cluster->archive_problem.ok()) return cluster->archive_problem;
    return absl::FailedPreconditionError(absl::StrCat(
        "Cluster '", cluster->name, "' has no enabled spec.plugins entry named ", engine_->options().plugin_name,
        " with parameters.pgbackrestObjectName, so there is no Archive to store WAL in"));
  }
  const std::string& path = request.source_file_name;
  if (auto s = CheckCleanAbsolutePath(path, "source_file_name"); !s.ok()) return s;
  std::string wal_dir = absl::StrCat(engine_->options().instance.pgdata, "/pg_wal");
  // PostgreSQL archives %p = pg_wal/<name>: nothing deeper, so no directory below pg_wal can lead elsewhere.
  if (path.substr(0, path.rfind('/')) != wal_dir)
    return absl::InvalidArgumentError(absl::StrCat("source_file_name ", Quoted(path), " is not a file in ", wal_dir));
  std::string name = path.substr(path.rfind('/') + 1);
  if (!ClassifyWalName(name))
    return absl::InvalidArgumentError(absl::StrCat("source_file_name ", Quoted(path), " does not name a WAL file"));
  if (auto s = RequireRegularWalFile(path); !s.ok()) return s;

  auto stanza = engine_->Open(*cluster->archive);
  if (!stanza.ok()) return stanza.status();
  stanza->cluster_major_version = PgDataMajorVersion(cluster->status);

  if (MustCheckEmpty(request, *cluster)) {
    // The first WAL of a new cluster: nothing may reach the stanza before this push succeeds, or a
    // retry of it would find WAL there and fail for good. So no push-ahead until then.
    absl::MutexLock first_push(&first_push_mu_);
    if (auto s = engine_->RequireEmptyArchive(*stanza, request.cancelled); !s.ok()) return s;
    if (auto s = Push(*stanza, path, /*async=*/false, request.cancelled); !s.ok()) return s;
    unlink(MarkerPath(*engine_).c_str());
    Arm(*stanza, request.cluster_definition);
    return absl::OkStatus();
  }
  // From here on segments are pushed as soon as PostgreSQL marks them ready.
  Arm(*stanza, request.cluster_definition);
  return scheduler_.Archive(path, request.cancelled);
}

}  // namespace cnpgi_pgbackrest
