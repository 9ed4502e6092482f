// Sidecar host: serves CNPG-I on /plugins/<name> inside the instance Pod (and recovery Job Pod).
//   cnpgi-pgbackrest-sidecar [serve] [flags]   run the server
//   cnpgi-pgbackrest-sidecar probe [flags]     exit 0 only when the server answers (startupProbe)
//   cnpgi-pgbackrest-sidecar [flags] pgbackrest [--archive=A] [--stanza=S] COMMAND [OPTIONS]
//                                              pgbackrest for an operator's shell (the image's `pgbr`)
//   cnpgi-pgbackrest-sidecar --version
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/time.h"

#include "cnpgi_pgbackrest/plugin/sidecar_plugin.h"
#include "hosts/common/flags.h"

using cnpgi_pgbackrest::SidecarOptions;
const SidecarOptions kDefaults;

ABSL_FLAG(std::string, plugin_name, kDefaults.plugin_name, "plugin name: the socket file name and metadata name");
ABSL_FLAG(std::string, plugin_path, kDefaults.plugin_path, "directory of the instance manager's plugin sockets");
ABSL_FLAG(std::string, archives_file, "",
          "JSON file with the Archive objects this Pod uses; empty: $CNPGI_PGBACKREST_ARCHIVES");
ABSL_FLAG(std::string, secrets_dir, "", "directory of mounted Secrets (<dir>/<secret>/<key>); env CNPGI_SECRET_* too");
ABSL_FLAG(std::string, work_dir, kDefaults.work_dir, "writable directory for configs, locks and spool");
ABSL_FLAG(std::string, pgdata, "", "PostgreSQL data directory (default $PGDATA)");
ABSL_FLAG(std::string, pg_socket_dir, "", "PostgreSQL socket directory (default $PGHOST or /controller/run)");
ABSL_FLAG(int, pg_port, 0, "PostgreSQL port (default $PGPORT or 5432)");
ABSL_FLAG(std::string, pg_user, kDefaults.pg_user, "PostgreSQL user pgBackRest connects as");
ABSL_FLAG(std::string, pgbackrest, kDefaults.pgbackrest, "pgbackrest binary");
ABSL_FLAG(absl::Duration, wal_timeout, absl::Minutes(5), "longest a single archive-push/archive-get may take");
ABSL_FLAG(absl::Duration, wal_io_timeout, absl::Seconds(10),
          "pgBackRest io-timeout for archive-push/archive-get (it retries about 8 times before failing)");
ABSL_FLAG(int, wal_push_parallel, 0,
          "WAL pushes at once: synchronous push-ahead slots, and pgBackRest async process-max for a backlog "
          "(0: the CPUs the container may use, its CPU limit included; -1: synchronous pushes only)");
ABSL_FLAG(bool, wal_push_ahead, true,
          "push a WAL segment as soon as PostgreSQL marks it .ready, before archive_command asks");
ABSL_FLAG(bool, wal_mark_done, true,
          "while PostgreSQL waits on one Archive call, mark other segments already stored .done so it skips them");
ABSL_FLAG(int, wal_prefetch, 4, "WAL segments fetched in parallel per restore_command call (1: no prefetch)");
ABSL_FLAG(absl::Duration, backup_timeout, absl::Hours(24), "longest a backup or restore may take");
ABSL_FLAG(absl::Duration, backup_wal_wait, absl::Minutes(5),
          "how long a finished backup waits for its last WAL segment");
ABSL_FLAG(std::string, instance_manager, kDefaults.instance_manager,
          "CNPG's instance manager in the postgres container (used in the restore_command returned to CNPG)");
ABSL_FLAG(std::string, wal_storage_dir, kDefaults.wal_storage_dir, "where CNPG mounts spec.walStorage");
ABSL_FLAG(absl::Duration, status_interval, absl::Seconds(60),
          "the primary's sidecar writes Archive.status at least this often, and after each backup (0: never)");
ABSL_FLAG(std::string, service_account_dir, kDefaults.service_account_dir,
          "the Pod's service account files (token, ca.crt) for the Kubernetes API");
ABSL_FLAG(absl::Duration, probe_timeout, absl::Seconds(3), "probe: how long to wait for an answer");

int main(int argc, char** argv) {
  cnpgi_pgbackrest::hosts::SetUsage("cnpgi-pgbackrest-sidecar", "cnpgi-pgbackrest sidecar: [serve|probe] [--flags]");
  // Everything after the word `pgbackrest` is pgbackrest's own, not flags of ours.
  int own = cnpgi_pgbackrest::hosts::FindWord(argc, argv, "pgbackrest");
  std::vector<std::string> storage;
  // The WAL and backup tunables: an Archive's instanceSidecarConfiguration.env can set them.
  auto normalized = cnpgi_pgbackrest::hosts::NormalizeFlags(
      own, argv, storage,
      {"wal_timeout", "wal_io_timeout", "wal_push_parallel", "wal_push_ahead", "wal_mark_done", "wal_prefetch",
       "backup_timeout", "backup_wal_wait", "status_interval"});
  std::vector<char*> rest = absl::ParseCommandLine(static_cast<int>(normalized.size()), normalized.data());
  std::string mode = rest.size() > 1 ? rest[1] : "serve";
  SidecarOptions o{.plugin_name = absl::GetFlag(FLAGS_plugin_name),
                   .plugin_path = absl::GetFlag(FLAGS_plugin_path),
                   .archives_file = absl::GetFlag(FLAGS_archives_file),
                   .secrets_dir = absl::GetFlag(FLAGS_secrets_dir),
                   .work_dir = absl::GetFlag(FLAGS_work_dir),
                   .pgdata = absl::GetFlag(FLAGS_pgdata),
                   .pg_socket_dir = absl::GetFlag(FLAGS_pg_socket_dir),
                   .pg_port = absl::GetFlag(FLAGS_pg_port),
                   .pg_user = absl::GetFlag(FLAGS_pg_user),
                   .pgbackrest = absl::GetFlag(FLAGS_pgbackrest),
                   .wal_timeout = absl::ToChronoMilliseconds(absl::GetFlag(FLAGS_wal_timeout)),
                   .wal_io_timeout = absl::ToChronoMilliseconds(absl::GetFlag(FLAGS_wal_io_timeout)),
                   .wal_push_parallel = absl::GetFlag(FLAGS_wal_push_parallel),
                   .wal_push_ahead = absl::GetFlag(FLAGS_wal_push_ahead),
                   .wal_mark_done = absl::GetFlag(FLAGS_wal_mark_done),
                   .wal_prefetch = absl::GetFlag(FLAGS_wal_prefetch),
                   .backup_timeout = absl::ToChronoMilliseconds(absl::GetFlag(FLAGS_backup_timeout)),
                   .backup_wal_wait = absl::ToChronoMilliseconds(absl::GetFlag(FLAGS_backup_wal_wait)),
                   .instance_manager = absl::GetFlag(FLAGS_instance_manager),
                   .wal_storage_dir = absl::GetFlag(FLAGS_wal_storage_dir),
                   .status_interval = absl::ToChronoMilliseconds(absl::GetFlag(FLAGS_status_interval)),
                   .service_account_dir = absl::GetFlag(FLAGS_service_account_dir)};
  if (own < argc) return cnpgi_pgbackrest::ExecPgbackrest(o, std::vector<std::string>(argv + own + 1, argv + argc));
  if (mode == "serve") return cnpgi_pgbackrest::RunSidecar(o);
  if (mode == "probe")
    return cnpgi_pgbackrest::ProbeSidecar(o, absl::ToChronoMilliseconds(absl::GetFlag(FLAGS_probe_timeout)));
  std::cerr << "unknown mode '" << mode << "' (expected serve or probe)\n";
  return 2;
}
