// The instance side of the plugin as plain C++: every sidecar capability, implemented with
// pgBackRest, built from one set of options. No gRPC here (see sidecar_plugin.h for the services).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

#include "cnpgi_pgbackrest/backup/backup.h"
#include "cnpgi_pgbackrest/export.h"
#include "cnpgi_pgbackrest/metrics/metrics.h"
#include "cnpgi_pgbackrest/restore_job/restore_job.h"
#include "cnpgi_pgbackrest/wal/wal_archive.h"
#include "cnpgi_pgbackrest/wal/wal_restore.h"

namespace cnpgi_pgbackrest {

// Empty strings and zeros mean "from the Pod's environment, else the default" as noted.
struct SidecarOptions {
  std::string plugin_name = "pgbackrest.cnpg.opera.com";  // socket file name and metadata name
  std::string plugin_path = "/plugins";                   // directory of the instance manager's sockets
  std::string pod_name;                                   // $POD_NAME
  std::string archives_file;                        // JSON list of Archive objects; empty: $CNPGI_PGBACKREST_ARCHIVES
  std::string secrets_dir;                          // <dir>/<secret>/<key> files; $CNPGI_SECRET_<secret>_<key> always
  std::string work_dir = "/controller/pgbackrest";  // rendered configs, locks, spool
  std::string pgdata;                               // $PGDATA (required)
  std::string pg_socket_dir;                        // $PGHOST, else /controller/run
  int pg_port = 0;                                  // $PGPORT, else 5432
  std::string pg_user = "postgres";
  std::string pgbackrest = "pgbackrest";  // the binary, looked up in PATH
  std::chrono::milliseconds wal_timeout{std::chrono::minutes(5)};
  std::chrono::milliseconds wal_io_timeout{std::chrono::seconds(10)};
  // Synchronous push slots and pgBackRest async process-max: 0 follows the container's CPU limit,
  // -1 pushes synchronously only.
  int wal_push_parallel = 0;
  bool wal_push_ahead = true;
  bool wal_mark_done = true;
  int wal_prefetch = 4;
  std::chrono::milliseconds backup_timeout{std::chrono::hours(24)};
  std::chrono::milliseconds backup_wal_wait{std::chrono::minutes(5)};
  std::string instance_manager = "/controller/manager";
  std::string wal_storage_dir = "/var/lib/postgresql/wal/pg_wal";
  // Archive.status written by the primary's sidecar at least this often (0: never), through the
  // Kubernetes API of the Pod (KUBERNETES_SERVICE_HOST/PORT and service_account_dir).
  std::chrono::milliseconds status_interval{std::chrono::seconds(60)};
  std::string service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
};

// The options with every environment default filled in; INVALID_ARGUMENT when one cannot work.
CNPGI_PGBACKREST_EXPORT absl::StatusOr<SidecarOptions> ResolveSidecarOptions(SidecarOptions options);

// Owns the capabilities. Every method may be called from any thread once Create returned; the
// capabilities stay valid for the object's lifetime. Statuses follow the interfaces' contracts.
class CNPGI_PGBACKREST_EXPORT SidecarCapabilities {
 public:
  // INVALID_ARGUMENT for options that cannot work (no PGDATA); the Archive loader's status when
  // the Archive definitions cannot be read.
  static absl::StatusOr<std::unique_ptr<SidecarCapabilities>> Create(const SidecarOptions& options);
  virtual ~SidecarCapabilities() = default;

  virtual WalArchive& wal_archive() = 0;
  virtual WalRestore& wal_restore() = 0;
  virtual Backup& backup() = 0;
  virtual RestoreJob& restore_job() = 0;
  virtual Metrics& metrics() = 0;
  // After a restart: resumes WAL push-ahead for the Cluster of the last Archive call. Call once,
  // before the services are reachable, so that no Archive call is overtaken by it.
  virtual void Resume() = 0;
  // The options in force (resolved), as name/value pairs for a start-up log line.
  virtual std::vector<std::pair<std::string, std::string>> Settings() const = 0;
  virtual const SidecarOptions& options() const = 0;
};

// An operator's shell in the sidecar container: runs pgbackrest against the Archive's rendered
// configuration and stanza, with its credentials and encryption key in pgbackrest's environment
// only (never argv, never a file, never the log), replacing this process. args are pgbackrest's
// own (a command and its options), optionally led by --archive=NAME and --stanza=NAME; without
// them, the Archive and stanza of the last WAL archive call, else the only Archive with the
// stanza $CLUSTER_NAME. Returns only on failure: the exit code, after saying why on stderr.
CNPGI_PGBACKREST_EXPORT int ExecPgbackrest(const SidecarOptions& options, std::vector<std::string> args);

}  // namespace cnpgi_pgbackrest
