// Metrics from the instance sidecar: WAL archiving as this process saw it, and what the
// repository holds according to `pgbackrest info` (refreshed in the background, at most once a TTL,
// so a Prometheus scrape never waits for object storage after the first one).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

#include "backup/pgbackrest_backup.h"
#include "cnpgi_pgbackrest/metrics/metrics.h"
#include "pgbackrest/engine.h"
#include "wal/pgbackrest_wal_archive.h"

namespace cnpgi_pgbackrest {

// The plugin name as a Prometheus name prefix: "pgbackrest.cnpg.opera.com" → "pgbackrest_cnpg_opera_com_".
std::string MetricPrefix(absl::string_view plugin_name);

class PgbackrestMetrics : public Metrics {
 public:
  struct Options {
    std::chrono::milliseconds info_ttl{std::chrono::minutes(1)};    // age at which `pgbackrest info` is re-run
    std::chrono::milliseconds first_wait{std::chrono::seconds(3)};  // how long the first scrape waits for it
  };
  // wal and backup may be null (then their metrics read 0).
  PgbackrestMetrics(Engine* engine, const PgbackrestWalArchive* wal, const PgbackrestBackup* backup, Options options);
  ~PgbackrestMetrics() override;

  std::vector<MetricDefinition> Define(const std::string& cluster_definition) override;
  absl::StatusOr<std::vector<MetricSample>> Collect(const std::string& cluster_definition) override;

 private:
  struct Repository {
    bool reachable = false;
    int64_t first_recoverability_point = 0;  // start of the oldest backup, Unix seconds
    int64_t last_backup = 0;                 // end of the newest backup
    int full = 0, diff = 0, incr = 0;
    std::map<int, int64_t> backup_bytes, wal_bytes;  // by repo key, for the repositories last read
    std::chrono::steady_clock::time_point at;
  };
  // The repository view for use, starting a refresh when it is missing or older than the TTL.
  std::optional<Repository> RepositoryFor(const ArchiveUse& use);
  void Refresh();

  Engine* engine_;
  const PgbackrestWalArchive* wal_;
  const PgbackrestBackup* backup_;
  Options options_;
  std::string prefix_;
  absl::Mutex mu_;
  absl::CondVar changed_;
  std::map<std::string, Repository> repositories_ ABSL_GUARDED_BY(mu_);  // by Archive/stanza
  std::map<std::string, ArchiveUse> wanted_ ABSL_GUARDED_BY(mu_);        // refreshes to run, by key
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread refresher_;
};

}  // namespace cnpgi_pgbackrest
