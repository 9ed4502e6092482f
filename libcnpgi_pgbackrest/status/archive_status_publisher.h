// Writes Archive.status.stanzaRecoveryWindow.<stanza> from the sidecar of the Cluster's primary,
// on a thread of its own: the WAL and backup code only record facts in memory (their stats), so
// neither ever waits on the Kubernetes API. Best effort: API errors are logged once per change of
// error and retried at the next round.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

#include "backup/pgbackrest_backup.h"
#include "kubernetes/client.h"
#include "pgbackrest/engine.h"
#include "wal/pgbackrest_wal_archive.h"

namespace cnpgi_pgbackrest {

// Whether the sidecar of pod publishes for cluster: pod is status.currentPrimary and PostgreSQL in
// pgdata is not (about to be) a standby.
bool PublishesStatus(const ClusterView& cluster, const std::string& pod, const std::string& pgdata);

// The API path of an Archive object.
std::string ArchivePath(const std::string& namespace_, const std::string& name);

class ArchiveStatusPublisher {
 public:
  struct Options {
    // A round at least this often (0: never; the sidecar does not build a publisher then).
    std::chrono::milliseconds interval{std::chrono::seconds(60)};
    // How often the in-memory facts are looked at for a finished backup or WAL archiving turning
    // between OK and failing, which start a round at once.
    std::chrono::milliseconds poll{std::chrono::seconds(1)};
  };
  ArchiveStatusPublisher(Engine* engine, const PgbackrestWalArchive* wal, const PgbackrestBackup* backup,
                         std::unique_ptr<KubernetesClient> client, Options options);
  ~ArchiveStatusPublisher();

 private:
  void Run();
  // One round: on the primary, the entry built from the facts and written when it changed.
  void Round();
  // Logs a failed round once per distinct error; an empty error ends a series of them.
  void Report(const std::string& error);

  Engine* engine_;
  const PgbackrestWalArchive* wal_;
  const PgbackrestBackup* backup_;
  std::unique_ptr<KubernetesClient> client_;
  Options options_;
  // The publisher thread's own state.
  std::string target_;       // namespace/archive/stanza the entries below are about
  nlohmann::json previous_;  // the entry as last built (or taken over from the Archive)
  nlohmann::json written_;   // the entry as last written (or read)
  std::string last_error_;
  bool primary_logged_ = false, standby_logged_ = false;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace cnpgi_pgbackrest
