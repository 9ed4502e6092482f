#include "wal/pgbackrest_wal_archive.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/wal_name.h"

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

}  // namespace

bool PgbackrestWalArchive::MustCheckEmpty(const WalArchiveRequest& request, const ClusterView& cluster) const {
  if (request.check_empty_wal_archive.has_value()) return *request.check_empty_wal_archive;
  return !cluster.SkipsEmptyWalArchiveCheck() && access(MarkerPath(*engine_).c_str(), F_OK) == 0;
}

absl::Status PgbackrestWalArchive::Push(Stanza& stanza, const std::string& path,
                                        const std::function<bool()>& cancelled) {
  std::string name = path.substr(path.rfind('/') + 1);
  std::string what = absl::StrCat("archiving ", name, " to Archive '", stanza.use.archive_name, "' stanza '",
                                  stanza.use.stanza, "'");
  PgbackrestCall push{.command = "archive-push", .args = {path}, .timeout = engine_->options().wal_timeout,
                      .cancelled = cancelled};
  auto result = engine_->Run(stanza, push);
  if (!result.ok()) return result.status();
  if (IsMissingStanza(*result)) {
    // First WAL of this stanza: create it now instead of waiting for a backup.
    engine_->ForgetStanza(stanza);
    if (auto s = engine_->EnsureStanza(stanza, cancelled); !s.ok()) return s;
    result = engine_->Run(stanza, push);
    if (!result.ok()) return result.status();
  }
  return PgbackrestStatus(*result, what);
}

PgbackrestWalArchive::~PgbackrestWalArchive() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(+[](int* n) { return *n == 0; }, &workers_));
}

std::string PgbackrestWalArchive::Key(const Stanza& stanza, const std::string& name) const {
  return absl::StrCat(stanza.use.archive_name, "/", stanza.use.stanza, "/", name);
}

std::string PgbackrestWalArchive::MarkerFile(const Stanza& stanza, const std::string& name) const {
  return absl::StrCat(options_.spool_dir, "/", Key(stanza, name));
}

std::string PgbackrestWalArchive::ClaimNext(const Stanza& stanza, const std::string& wal_dir) {
  std::vector<std::string> ready;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(wal_dir + "/archive_status", ec)) {
    std::string f = e.path().filename().string();
    if (absl::EndsWith(f, ".ready") && ClassifyWalName(f.substr(0, f.size() - 6))) ready.push_back(f.substr(0, f.size() - 6));
  }
  std::sort(ready.begin(), ready.end());
  // Outcomes PostgreSQL has acknowledged (its .ready became .done) are no longer needed.
  std::string prefix = Key(stanza, "");
  for (auto it = ahead_.begin(); it != ahead_.end();) {
    bool mine = absl::StartsWith(it->first, prefix);
    std::string name = it->first.substr(prefix.size());
    if (mine && it->second.has_value() && !std::binary_search(ready.begin(), ready.end(), name)) {
      it = ahead_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& name : ready) {
    if (ahead_.count(Key(stanza, name)) || access(MarkerFile(stanza, name).c_str(), F_OK) == 0) continue;
    ahead_[Key(stanza, name)] = std::nullopt;
    return name;
  }
  return {};
}

void PgbackrestWalArchive::PushAhead(Stanza stanza, std::string wal_dir) {
  std::error_code ec;
  std::filesystem::create_directories(MarkerFile(stanza, "x").substr(0, MarkerFile(stanza, "x").size() - 2), ec);
  int pushed = 0;
  while (true) {
    std::string name;
    {
      absl::MutexLock lock(&mu_);
      name = ClaimNext(stanza, wal_dir);
      if (name.empty()) {
        --workers_;
        break;
      }
    }
    absl::Status s = Push(stanza, absl::StrCat(wal_dir, "/", name), {});
    if (s.ok()) {
      // Survives a sidecar restart: PostgreSQL's next call for it returns at once.
      int fd = open(MarkerFile(stanza, name).c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
      if (fd >= 0) close(fd);
      ++pushed;
    }
    absl::MutexLock lock(&mu_);
    ahead_[Key(stanza, name)] = s;
  }
  if (pushed > 0) Log("info", "wal pushed ahead", {{"segments", std::to_string(pushed)}, {"stanza", stanza.use.stanza}});
}

absl::Status PgbackrestWalArchive::Archive(const WalArchiveRequest& request) {
  auto cluster = engine_->Cluster(request.cluster_definition);
  if (!cluster.ok()) return cluster.status();
  if (!cluster->archive) {
    if (!cluster->archive_problem.empty()) return absl::FailedPreconditionError(cluster->archive_problem);
    return absl::FailedPreconditionError(absl::StrCat(
        "Cluster '", cluster->name, "' has no enabled spec.plugins entry named ", engine_->options().plugin_name,
        " with parameters.pgbackrestObjectName, so there is no Archive to store WAL in"));
  }
  const std::string& path = request.source_file_name;
  if (auto s = CheckCleanAbsolutePath(path, "source_file_name"); !s.ok()) return s;
  std::string wal_dir = absl::StrCat(engine_->options().instance.pgdata, "/pg_wal");
  if (!IsInsideDirectory(path, wal_dir))
    return absl::InvalidArgumentError(absl::StrCat("source_file_name '", path, "' is not inside ", wal_dir));
  std::string name = path.substr(path.rfind('/') + 1);
  if (!ClassifyWalName(name))
    return absl::InvalidArgumentError(absl::StrCat("source_file_name '", path, "' does not name a WAL file"));
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return absl::NotFoundError(absl::StrCat("WAL file ", path, " does not exist"));

  auto stanza = engine_->Open(*cluster->archive);
  if (!stanza.ok()) return stanza.status();

  bool check_empty = MustCheckEmpty(request, *cluster);
  if (check_empty)
    if (auto s = engine_->RequireEmptyArchive(*stanza, request.cancelled); !s.ok()) return s;

  bool ahead = options_.parallel > 1 && !options_.spool_dir.empty() && !check_empty;
  if (ahead) {
    absl::MutexLock lock(&mu_);
    auto key = Key(*stanza, name);
    if (auto it = ahead_.find(key); it != ahead_.end()) {
      // Pushed, or being pushed, in the background: wait for that push instead of starting another.
      mu_.Await(absl::Condition(
          +[](std::optional<absl::Status>* outcome) { return outcome->has_value(); }, &it->second));
      absl::Status outcome = *it->second;
      if (outcome.ok()) {
        // Kept (as done) until PostgreSQL marks it .done, so no worker claims it again meanwhile.
        unlink(MarkerFile(*stanza, name).c_str());
        return absl::OkStatus();
      }
      ahead_.erase(it);
      // It failed in the background: push it here, so that the error reaches PostgreSQL.
    } else if (unlink(MarkerFile(*stanza, name).c_str()) == 0) {
      return absl::OkStatus();  // stored by a previous run of this sidecar
    }
    // Keep up to parallel-1 workers pushing the backlog while this call pushes its own segment.
    ahead_[key] = std::nullopt;
    while (workers_ < options_.parallel - 1) {
      ++workers_;
      std::thread(&PgbackrestWalArchive::PushAhead, this, *stanza, wal_dir).detach();
    }
  }
  absl::Status requested = Push(*stanza, path, request.cancelled);
  if (ahead) {
    absl::MutexLock lock(&mu_);
    if (requested.ok()) {
      ahead_[Key(*stanza, name)] = requested;
    } else {
      ahead_.erase(Key(*stanza, name));
    }
  }
  if (!requested.ok()) return requested;
  if (check_empty) unlink(MarkerPath(*engine_).c_str());
  return absl::OkStatus();
}

}  // namespace cnpgi_pgbackrest
