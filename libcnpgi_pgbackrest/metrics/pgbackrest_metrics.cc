#include "metrics/pgbackrest_metrics.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "common/files.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "pgbackrest/catalog.h"
#include "pgbackrest/repository_state.h"

namespace cnpgi_pgbackrest {
namespace {

std::string RepositoryKey(const ArchiveUse& use) {
  return absl::StrCat(use.namespace_, "/", use.archive_name, "/", use.stanza);
}

// PostgreSQL's archiving backlog: files marked .ready and not yet seen archived.
int CountReady(const std::string& pgdata) {
  int n = 0;
  for (const auto& f : ListDirectory(pgdata + "/pg_wal/archive_status")) n += absl::EndsWith(f, ".ready");
  return n;
}

}  // namespace

std::string MetricPrefix(absl::string_view plugin_name) {
  std::string out;
  for (char c : plugin_name) out += (c == '.' || c == '-' || c == '/') ? '_' : c;
  return out + "_";
}

PgbackrestMetrics::PgbackrestMetrics(Engine* engine, const PgbackrestWalArchive* wal, const PgbackrestBackup* backup,
                                     Options options)
    : engine_(engine),
      wal_(wal),
      backup_(backup),
      options_(options),
      prefix_(MetricPrefix(engine->options().plugin_name)),
      refresher_([this] { Refresh(); }) {}

PgbackrestMetrics::~PgbackrestMetrics() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    changed_.SignalAll();
  }
  refresher_.join();
}

std::vector<MetricDefinition> PgbackrestMetrics::Define(const std::string&) {
  auto gauge = [&](const char* name, const char* help, std::vector<std::string> labels = {}) {
    return MetricDefinition{prefix_ + name, help, std::move(labels), {}, MetricType::kGauge};
  };
  auto counter = [&](const char* name, const char* help, std::vector<std::string> labels = {}) {
    return MetricDefinition{prefix_ + name, help, std::move(labels), {}, MetricType::kCounter};
  };
  // The same list for every Cluster: CNPG matches each collected sample to a definition.
  return {
      gauge("wal_ready", "WAL files PostgreSQL marked .ready and has not seen archived yet (pg_wal backlog)"),
      counter("wal_archived_total", "WAL files this sidecar acknowledged as stored"),
      counter("wal_marked_done_total",
              "WAL segments stored ahead and marked .done during another Archive call, so PostgreSQL skipped "
              "them (pg_stat_archiver does not count these)"),
      counter("wal_dropped_total",
              "WAL segments pgBackRest dropped instead of storing because the Archive's archivePushQueueMax was "
              "exceeded (recovery cannot pass them)"),
      counter("wal_archive_failures_total", "WAL archive requests this sidecar answered with an error"),
      counter("wal_pushes_total", "pgBackRest archive-push runs started, push-ahead included", {"mode"}),
      gauge("wal_last_archived_timestamp", "Unix time of the last WAL file acknowledged (0: none yet)"),
      gauge("wal_last_failed_timestamp", "Unix time of the last failed WAL archive request (0: none)"),
      gauge("repository_reachable", "1 when the last pgbackrest info could read every repository of the Archive"),
      gauge("first_recoverability_point", "Unix time of the start of the oldest backup (0: no backup)"),
      gauge("last_available_backup_timestamp", "Unix time of the end of the newest backup (0: no backup)"),
      gauge("last_failed_backup_timestamp", "Unix time of the last backup this sidecar failed (0: none)"),
      gauge("backups", "Backups in the repositories by type", {"type"}),
      gauge("repository_backup_bytes",
            "Bytes the stanza's backup sets store in the repository (sum of pgBackRest's repository delta)", {"repo"}),
      gauge("repository_wal_bytes", "Bytes the stanza's archived WAL takes in the repository", {"repo"}),
  };
}

absl::StatusOr<std::vector<MetricSample>> PgbackrestMetrics::Collect(const std::string& cluster_definition) {
  ASSIGN_OR_RETURN(auto cluster, engine_->Cluster(cluster_definition));
  PgbackrestWalArchive::Stats wal = wal_ ? wal_->stats() : PgbackrestWalArchive::Stats{};
  Repository repo;
  if (cluster.archive)
    if (auto r = RepositoryFor(*cluster.archive)) repo = *r;
  auto d = [](auto v) { return static_cast<double>(v); };
  std::vector<MetricSample> samples{
      {prefix_ + "wal_ready", d(CountReady(engine_->options().instance.pgdata)), {}},
      {prefix_ + "wal_archived_total", d(wal.archived), {}},
      {prefix_ + "wal_marked_done_total", d(wal.marked_done), {}},
      {prefix_ + "wal_dropped_total", d(wal.dropped), {}},
      {prefix_ + "wal_archive_failures_total", d(wal.failed), {}},
      {prefix_ + "wal_pushes_total", d(wal.pushes_sync), {"sync"}},
      {prefix_ + "wal_pushes_total", d(wal.pushes_async), {"async"}},
      {prefix_ + "wal_last_archived_timestamp", d(wal.last_archived_unix), {}},
      {prefix_ + "wal_last_failed_timestamp", d(wal.last_failed_unix), {}},
      {prefix_ + "repository_reachable", repo.reachable ? 1.0 : 0.0, {}},
      {prefix_ + "first_recoverability_point", d(repo.first_recoverability_point), {}},
      {prefix_ + "last_available_backup_timestamp", d(repo.last_backup), {}},
      {prefix_ + "last_failed_backup_timestamp", d(backup_ ? backup_->last_failed_unix() : 0), {}},
      {prefix_ + "backups", d(repo.full), {"full"}},
      {prefix_ + "backups", d(repo.diff), {"diff"}},
      {prefix_ + "backups", d(repo.incr), {"incr"}},
  };
  for (const auto& [key, bytes] : repo.backup_bytes)
    samples.push_back({prefix_ + "repository_backup_bytes", d(bytes), {absl::StrCat(key)}});
  for (const auto& [key, bytes] : repo.wal_bytes)
    samples.push_back({prefix_ + "repository_wal_bytes", d(bytes), {absl::StrCat(key)}});
  return samples;
}

std::optional<PgbackrestMetrics::Repository> PgbackrestMetrics::RepositoryFor(const ArchiveUse& use) {
  std::string key = RepositoryKey(use);
  absl::MutexLock lock(&mu_);
  auto it = repositories_.find(key);
  bool stale = it == repositories_.end() || std::chrono::steady_clock::now() - it->second.at > options_.info_ttl;
  if (stale && !wanted_.count(key)) {
    wanted_.emplace(key, use);
    changed_.SignalAll();
  }
  if (it != repositories_.end()) return it->second;
  // The first scrape waits a little so that it does not report "no backups" for a full repository.
  auto has = [&] { return stopping_ || repositories_.count(key) > 0; };
  absl::Time deadline = absl::Now() + absl::FromChrono(options_.first_wait);
  while (!has() && !changed_.WaitWithDeadline(&mu_, deadline)) {
  }
  it = repositories_.find(key);
  if (it == repositories_.end()) return std::nullopt;
  return it->second;
}

void PgbackrestMetrics::Refresh() {
  absl::MutexLock lock(&mu_);
  while (true) {
    mu_.Await(absl::Condition(
        +[](PgbackrestMetrics* m) ABSL_NO_THREAD_SAFETY_ANALYSIS { return m->stopping_ || !m->wanted_.empty(); },
        this));
    if (stopping_) return;
    ArchiveUse use = wanted_.begin()->second;
    // A failed refresh keeps the last known backups: unreachable is not the same as empty.
    auto known = repositories_.find(RepositoryKey(use));
    Repository last = known == repositories_.end() ? Repository{} : known->second;
    mu_.Unlock();
    Repository repo;
    auto cancelled = [this] {
      absl::MutexLock l(&mu_);
      return stopping_;
    };
    auto stanza = engine_->Open(use);
    RepositoryState state = stanza.ok() ? ReadRepositoryState(*engine_, *stanza, cancelled) : RepositoryState{};
    absl::StatusOr<StanzaCatalog>& catalog = state.catalog;
    if (!stanza.ok()) catalog = stanza.status();
    // Every repository read: with several, pgBackRest's stanza status says "different across
    // repos" (code 4) as soon as one holds fewer backups, so each repository's own status decides.
    bool all_read =
        catalog.ok() && (catalog->repositories.empty() ? RequireReadable(*catalog, use.archive_name).ok() : true);
    if (catalog.ok()) {
      auto usage = BackupUsageByRepository(*catalog);
      for (const auto& r : catalog->repositories) {
        all_read = all_read && r.readable();
        if (!r.readable()) continue;
        repo.backup_bytes[r.key] = usage[r.key].bytes;
        if (auto w = state.wal_bytes.find(r.key); w != state.wal_bytes.end()) repo.wal_bytes[r.key] = w->second;
      }
    }
    if (all_read) {
      repo.reachable = true;
      for (const auto& b : catalog->backups) {
        if (repo.first_recoverability_point == 0 || b.start_time < repo.first_recoverability_point)
          repo.first_recoverability_point = b.start_time;
        repo.last_backup = std::max(repo.last_backup, b.stop_time);
        (b.type == "full" ? repo.full : b.type == "diff" ? repo.diff : repo.incr) += 1;
      }
    } else {
      // Sizes of the repositories read now, the last known figures for the others.
      std::map<int, int64_t> backup_bytes = repo.backup_bytes, wal_bytes = repo.wal_bytes;
      repo = last;
      repo.reachable = false;
      for (const auto& [k, v] : backup_bytes) repo.backup_bytes[k] = v;
      for (const auto& [k, v] : wal_bytes) repo.wal_bytes[k] = v;
      std::string why = !catalog.ok()                   ? std::string(catalog.status().message())
                        : !catalog->repo_errors.empty() ? catalog->repo_errors
                                                        : RequireReadable(*catalog, use.archive_name).ToString();
      Log("warning", "metrics: cannot read the repository", {{"archive", use.archive_name}, {"error", why}});
    }
    repo.at = std::chrono::steady_clock::now();
    mu_.Lock();
    repositories_[RepositoryKey(use)] = repo;
    wanted_.erase(RepositoryKey(use));
    changed_.SignalAll();
  }
}

}  // namespace cnpgi_pgbackrest
