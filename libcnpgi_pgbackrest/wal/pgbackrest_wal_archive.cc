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

std::vector<std::string> PgbackrestWalArchive::ReadyNeighbours(const std::string& wal_dir, const std::string& requested,
                                                              int count) const {
  std::vector<std::string> ready;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(wal_dir + "/archive_status", ec)) {
    std::string f = e.path().filename().string();
    if (!absl::EndsWith(f, ".ready")) continue;
    std::string name = f.substr(0, f.size() - 6);
    if (name != requested && ClassifyWalName(name)) ready.push_back(name);
  }
  std::sort(ready.begin(), ready.end());
  if (ready.size() > static_cast<std::size_t>(count)) ready.resize(static_cast<std::size_t>(count));
  return ready;
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

  // Pushed ahead by an earlier call: pgBackRest already stored it.
  bool ahead = options_.parallel > 1 && !options_.spool_dir.empty() && !check_empty;
  std::string spool = absl::StrCat(options_.spool_dir, "/", stanza->use.archive_name, "/", stanza->use.stanza);
  if (ahead && unlink(absl::StrCat(spool, "/", name).c_str()) == 0) return absl::OkStatus();

  std::vector<std::string> extras = ahead ? ReadyNeighbours(wal_dir, name, options_.parallel - 1) : std::vector<std::string>{};
  std::vector<absl::Status> pushed(extras.size());
  std::vector<std::thread> workers;
  for (std::size_t i = 0; i < extras.size(); ++i)
    workers.emplace_back([&, i] { pushed[i] = Push(*stanza, absl::StrCat(wal_dir, "/", extras[i]), request.cancelled); });
  absl::Status requested = Push(*stanza, path, request.cancelled);
  for (auto& w : workers) w.join();
  if (!extras.empty()) {
    Log("info", "wal pushed ahead", {{"requested", name}, {"extra", std::to_string(extras.size())},
                                     {"first", extras.front()}, {"last", extras.back()}});
    std::error_code ec;
    std::filesystem::create_directories(spool, ec);
    for (std::size_t i = 0; i < extras.size(); ++i) {
      if (!pushed[i].ok()) continue;  // PostgreSQL will ask again and the error will surface then
      int fd = open(absl::StrCat(spool, "/", extras[i]).c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
      if (fd >= 0) close(fd);
    }
  }
  if (!requested.ok()) return requested;
  if (check_empty) unlink(MarkerPath(*engine_).c_str());
  return absl::OkStatus();
}

}  // namespace cnpgi_pgbackrest
