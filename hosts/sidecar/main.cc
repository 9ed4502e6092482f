// Sidecar host: serves CNPG-I on /plugins/<name> inside the instance Pod (and recovery Job Pod).
//   cnpgi-pgbackrest-sidecar [serve] [flags]   run the server
//   cnpgi-pgbackrest-sidecar probe [flags]     exit 0 only when the server answers (startupProbe)
#include <cstdlib>
#include <iostream>
#include <memory>
#include <unistd.h>
#include <thread>

#include "absl/flags/flag.h"
#include "backup/backup_grpc.h"
#include "backup/pgbackrest_backup.h"
#include "restore_job/pgbackrest_restore_job.h"
#include "restore_job/restore_job_grpc.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/cpus.h"
#include "common/log.h"
#include "config/archive_catalog.h"
#include "hosts/common/flags.h"
#include "identity/identity.h"
#include "identity/identity_grpc.h"
#include "metrics/metrics_grpc.h"
#include "metrics/pgbackrest_metrics.h"
#include "version.h"
#include "pgbackrest/engine.h"
#include "transport/unix_socket_server.h"
#include "wal/pgbackrest_wal_archive.h"
#include "wal/pgbackrest_wal_restore.h"
#include "wal/wal_grpc.h"

namespace {

std::string Env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

}  // namespace

ABSL_FLAG(std::string, plugin_name, "pgbackrest.cnpg.opera.com", "plugin name: the socket file name and metadata name");
ABSL_FLAG(std::string, plugin_path, "/plugins", "directory of the instance manager's plugin sockets");
ABSL_FLAG(std::string, archives_file, "",
          "JSON file with the Archive objects this Pod uses; empty: $CNPGI_PGBACKREST_ARCHIVES");
ABSL_FLAG(std::string, secrets_dir, "", "directory of mounted Secrets (<dir>/<secret>/<key>); env CNPGI_SECRET_* too");
ABSL_FLAG(std::string, work_dir, "/controller/pgbackrest", "writable directory for configs, locks and spool");
ABSL_FLAG(std::string, pgdata, "", "PostgreSQL data directory (default $PGDATA)");
ABSL_FLAG(std::string, pg_socket_dir, "", "PostgreSQL socket directory (default $PGHOST or /controller/run)");
ABSL_FLAG(int, pg_port, 0, "PostgreSQL port (default $PGPORT or 5432)");
ABSL_FLAG(std::string, pg_user, "postgres", "PostgreSQL user pgBackRest connects as");
ABSL_FLAG(std::string, pgbackrest, "pgbackrest", "pgbackrest binary");
ABSL_FLAG(absl::Duration, wal_timeout, absl::Minutes(5), "longest a single archive-push/archive-get may take");
ABSL_FLAG(absl::Duration, wal_io_timeout, absl::Seconds(10),
          "pgBackRest io-timeout for archive-push/archive-get (it retries about 8 times before failing)");
ABSL_FLAG(int, wal_push_parallel, 0,
          "WAL pushes at once: synchronous push-ahead slots, and pgBackRest async process-max for a backlog "
          "(0: the CPUs the container may use, its CPU limit included; -1: synchronous pushes only)");
ABSL_FLAG(bool, wal_push_ahead, true,
          "push a WAL segment as soon as PostgreSQL marks it .ready, before archive_command asks for it");
ABSL_FLAG(bool, wal_mark_done, true,
          "while PostgreSQL waits on one Archive call, mark other segments already stored .done so it skips them "
          "instead of starting CNPG's wal-archive for each");
ABSL_FLAG(int, wal_prefetch, 4,
          "WAL segments fetched in parallel per restore_command call (the requested one included; 1: no prefetch)");
ABSL_FLAG(absl::Duration, backup_timeout, absl::Hours(24), "longest a backup or restore may take");
ABSL_FLAG(absl::Duration, backup_wal_wait, absl::Minutes(5),
          "how long a finished backup waits for its last WAL segment to be archived");
ABSL_FLAG(std::string, instance_manager, "/controller/manager",
          "CNPG's instance manager in the postgres container (used in the restore_command returned to CNPG)");
ABSL_FLAG(std::string, wal_storage_dir, "/var/lib/postgresql/wal/pg_wal", "where CNPG mounts spec.walStorage");
ABSL_FLAG(absl::Duration, probe_timeout, absl::Seconds(3), "probe: how long to wait for an answer");

int main(int argc, char** argv) {
  using namespace cnpgi_pgbackrest;
  absl::SetProgramUsageMessage("cnpgi-pgbackrest sidecar: [serve|probe] [--flags]");
  std::vector<std::string> storage;
  // The WAL and backup tunables: an Archive's instanceSidecarConfiguration.env can set them.
  auto normalized = hosts::NormalizeFlags(argc, argv, storage,
                                          {"wal_timeout", "wal_io_timeout", "wal_push_parallel", "wal_push_ahead",
                                           "wal_mark_done", "wal_prefetch", "backup_timeout", "backup_wal_wait"});
  std::vector<char*> rest = absl::ParseCommandLine(static_cast<int>(normalized.size()), normalized.data());
  std::string mode = rest.size() > 1 ? rest[1] : "serve";
  std::string socket_path = absl::StrCat(absl::GetFlag(FLAGS_plugin_path), "/", absl::GetFlag(FLAGS_plugin_name));

  if (mode == "probe") {
    absl::Status s = ProbeUnixSocket(socket_path, absl::ToChronoMilliseconds(absl::GetFlag(FLAGS_probe_timeout)));
    if (!s.ok()) std::cerr << s.message() << "\n";
    return s.ok() ? 0 : 1;
  }
  if (mode != "serve") {
    std::cerr << "unknown mode '" << mode << "' (expected serve or probe)\n";
    return 2;
  }

  // Before any thread starts (push-ahead, metrics), so that only main's sigwait sees SIGTERM.
  hosts::BlockTerminationSignals();
  EngineOptions options;
  options.plugin_name = absl::GetFlag(FLAGS_plugin_name);
  options.pod_name = Env("POD_NAME", "");
  options.work_dir = absl::GetFlag(FLAGS_work_dir);
  options.instance.pgdata = absl::GetFlag(FLAGS_pgdata).empty() ? Env("PGDATA", "") : absl::GetFlag(FLAGS_pgdata);
  options.instance.socket_dir = absl::GetFlag(FLAGS_pg_socket_dir).empty() ? Env("PGHOST", "/controller/run")
                                                                          : absl::GetFlag(FLAGS_pg_socket_dir);
  options.instance.port = absl::GetFlag(FLAGS_pg_port) ? absl::GetFlag(FLAGS_pg_port) : std::atoi(Env("PGPORT", "5432").c_str());
  options.instance.user = absl::GetFlag(FLAGS_pg_user);
  options.pgbackrest_binary = absl::GetFlag(FLAGS_pgbackrest);
  options.wal_timeout = absl::ToChronoMilliseconds(absl::GetFlag(FLAGS_wal_timeout));
  options.instance_manager = absl::GetFlag(FLAGS_instance_manager);
  options.wal_storage_dir = absl::GetFlag(FLAGS_wal_storage_dir);
  int parallel = absl::GetFlag(FLAGS_wal_push_parallel);
  int cpus = UsableCpus();
  options.instance.wal_push_processes = parallel == 0 ? cpus : std::max(parallel, 0);
  options.instance.wal_io_timeout_seconds = absl::ToDoubleSeconds(absl::GetFlag(FLAGS_wal_io_timeout));
  if (options.instance.pgdata.empty()) {
    std::cerr << "no PostgreSQL data directory: set --pgdata or $PGDATA\n";
    return 2;
  }

  auto catalog = LoadArchiveCatalog(absl::GetFlag(FLAGS_archives_file));
  if (!catalog.ok()) {
    std::cerr << "cannot load Archive definitions: " << catalog.status().message() << "\n";
    return 2;
  }
  std::vector<std::unique_ptr<SecretResolver>> chain;
  if (!absl::GetFlag(FLAGS_secrets_dir).empty())
    chain.push_back(std::make_unique<DirectorySecretResolver>(absl::GetFlag(FLAGS_secrets_dir)));
  chain.push_back(std::make_unique<EnvSecretResolver>());

  Engine engine(options, std::move(*catalog), std::make_unique<ChainSecretResolver>(std::move(chain)));
  const int push_slots = parallel > 0 ? parallel : cpus;
  PgbackrestWalArchive wal_archive(&engine, {.parallel = push_slots,
                                             .ahead = absl::GetFlag(FLAGS_wal_push_ahead),
                                             .mark_done = absl::GetFlag(FLAGS_wal_mark_done)});
  PgbackrestWalRestore wal_restore(&engine, {.prefetch = absl::GetFlag(FLAGS_wal_prefetch),
                                            .spool_dir = options.work_dir + "/wal-restore-spool"});
  PgbackrestBackup backup(&engine, {.backup_timeout = absl::ToChronoMilliseconds(absl::GetFlag(FLAGS_backup_timeout)),
                                    .wal_wait = absl::ToChronoMilliseconds(absl::GetFlag(FLAGS_backup_wal_wait))});
  PgbackrestRestoreJob restore_job(&engine, absl::ToChronoMilliseconds(absl::GetFlag(FLAGS_backup_timeout)));
  PgbackrestMetrics metrics(&engine, &wal_archive, &backup, {});
  // One sidecar for every phase: CNPG <= 1.30 restores in a Job, newer CNPG inside the instance
  // Pod; each request picks its Archive from the Cluster, so the Pod spec never changes.
  StaticIdentity identity(DefaultPluginMetadata(options.plugin_name),
                          {PluginService::kWal, PluginService::kBackup, PluginService::kRestoreJob,
                           PluginService::kMetrics});
  IdentityGrpcService identity_service(&identity);
  WalGrpcService wal_service(&wal_archive, &wal_restore);
  BackupGrpcService backup_service(&backup);
  RestoreJobGrpcService restore_job_service(&restore_job);
  MetricsGrpcService metrics_service(&metrics);

  wal_archive.Resume();  // before serving, so that no Archive call can be overtaken by it
  auto server = StartUnixSocketServer(socket_path, {&identity_service, &wal_service, &backup_service, &restore_job_service, &metrics_service});
  if (!server.ok()) {
    std::cerr << "cannot start the sidecar: " << server.status().message() << "\n";
    return 1;
  }
  Log("info", "sidecar serving",
      {{"socket", socket_path}, {"pgdata", options.instance.pgdata}, {"pod", options.pod_name},
       {"version", kPluginVersion}, {"wal_push_parallel", absl::StrCat(push_slots)},
       {"wal_push_ahead", absl::GetFlag(FLAGS_wal_push_ahead) ? "true" : "false"},
       {"wal_mark_done", absl::GetFlag(FLAGS_wal_mark_done) ? "true" : "false"},
       {"wal_prefetch", absl::StrCat(absl::GetFlag(FLAGS_wal_prefetch))}});
  std::thread waiter([&] {
    hosts::WaitForTerminationSignal();
    (*server)->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
  });
  (*server)->Wait();
  waiter.join();
  unlink(socket_path.c_str());
  Log("info", "sidecar stopped", {{"socket", socket_path}});
  return 0;
}
