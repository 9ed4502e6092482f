// Wires the sidecar's capabilities: one Engine (Archives, Secrets, pgbackrest.conf, pgbackrest)
// shared by the WAL, backup, restore and metrics implementations.
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include "backup/pgbackrest_backup.h"
#include "cnpgi_pgbackrest/plugin/sidecar.h"
#include "common/cpus.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "config/archive_catalog.h"
#include "kubernetes/client.h"
#include "metrics/pgbackrest_metrics.h"
#include "pgbackrest/engine.h"
#include "plugin/sidecar_engine.h"
#include "restore_job/pgbackrest_restore_job.h"
#include "status/archive_status_publisher.h"
#include "wal/pgbackrest_wal_archive.h"
#include "wal/pgbackrest_wal_restore.h"

namespace cnpgi_pgbackrest {
namespace {

std::string Env(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// The synchronous push slots: the option, or the CPUs the container may use.
int PushSlots(const SidecarOptions& o) { return o.wal_push_parallel > 0 ? o.wal_push_parallel : UsableCpus(); }

EngineOptions EngineOptionsFor(const SidecarOptions& o) {
  EngineOptions e;
  e.plugin_name = o.plugin_name;
  e.pod_name = o.pod_name;
  e.work_dir = o.work_dir;
  e.instance.pgdata = o.pgdata;
  e.instance.socket_dir = o.pg_socket_dir;
  e.instance.port = o.pg_port;
  e.instance.user = o.pg_user;
  e.pgbackrest_binary = o.pgbackrest;
  e.wal_timeout = o.wal_timeout;
  e.instance_manager = o.instance_manager;
  e.wal_storage_dir = o.wal_storage_dir;
  // pgBackRest's async worker only when pushes may run in parallel at all.
  e.instance.wal_push_processes = o.wal_push_parallel < 0 ? 0 : PushSlots(o);
  e.instance.wal_io_timeout_seconds = std::chrono::duration<double>(o.wal_io_timeout).count();
  return e;
}

class PgbackrestSidecar final : public SidecarCapabilities {
 public:
  PgbackrestSidecar(SidecarOptions options, std::unique_ptr<Engine> engine)
      : options_(std::move(options)),
        engine_(std::move(engine)),
        wal_archive_(
            engine_.get(),
            {.parallel = PushSlots(options_), .ahead = options_.wal_push_ahead, .mark_done = options_.wal_mark_done}),
        wal_restore_(engine_.get(),
                     {.prefetch = options_.wal_prefetch, .spool_dir = options_.work_dir + "/wal-restore-spool"}),
        backup_(engine_.get(), {.backup_timeout = options_.backup_timeout, .wal_wait = options_.backup_wal_wait}),
        restore_job_(engine_.get(), options_.backup_timeout),
        metrics_(engine_.get(), &wal_archive_, &backup_, {}),
        publisher_(MakePublisher()) {}

  WalArchive& wal_archive() override { return wal_archive_; }
  WalRestore& wal_restore() override { return wal_restore_; }
  Backup& backup() override { return backup_; }
  RestoreJob& restore_job() override { return restore_job_; }
  Metrics& metrics() override { return metrics_; }
  void Resume() override { wal_archive_.Resume(); }
  const SidecarOptions& options() const override { return options_; }
  std::vector<std::pair<std::string, std::string>> Settings() const override {
    auto yes = [](bool b) { return std::string(b ? "true" : "false"); };
    return {{"pgdata", options_.pgdata},
            {"pod", options_.pod_name},
            {"wal_push_parallel", absl::StrCat(PushSlots(options_))},
            {"wal_push_async", yes(options_.wal_push_parallel >= 0)},
            {"wal_push_ahead", yes(options_.wal_push_ahead)},
            {"wal_mark_done", yes(options_.wal_mark_done)},
            {"wal_prefetch", absl::StrCat(options_.wal_prefetch)},
            {"status_interval", publisher_ ? absl::StrCat(options_.status_interval.count() / 1000.0, "s") : "off"}};
  }

 private:
  // The Archive status writer; none when it is switched off or the Pod has no Kubernetes API.
  std::unique_ptr<ArchiveStatusPublisher> MakePublisher() {
    if (options_.status_interval.count() <= 0) return nullptr;
    auto config = KubernetesConfig::InCluster(options_.service_account_dir);
    if (!config.ok()) {
      Log("info", "Archive status off: no Kubernetes API here", {{"reason", config.status().message()}});
      return nullptr;
    }
    return std::make_unique<ArchiveStatusPublisher>(
        engine_.get(), &wal_archive_, &backup_, std::make_unique<KubernetesClient>(*config),
        ArchiveStatusPublisher::Options{.interval = options_.status_interval});
  }

  SidecarOptions options_;
  std::unique_ptr<Engine> engine_;
  PgbackrestWalArchive wal_archive_;
  PgbackrestWalRestore wal_restore_;
  PgbackrestBackup backup_;
  PgbackrestRestoreJob restore_job_;
  PgbackrestMetrics metrics_;
  std::unique_ptr<ArchiveStatusPublisher> publisher_;  // last: stopped first
};

}  // namespace

absl::StatusOr<SidecarOptions> ResolveSidecarOptions(SidecarOptions o) {
  if (o.pod_name.empty()) o.pod_name = Env("POD_NAME", "");
  if (o.pgdata.empty()) o.pgdata = Env("PGDATA", "");
  if (o.pg_socket_dir.empty()) o.pg_socket_dir = Env("PGHOST", "/controller/run");
  if (o.pg_port == 0) o.pg_port = std::atoi(Env("PGPORT", "5432").c_str());
  if (o.pgdata.empty()) return absl::InvalidArgumentError("no PostgreSQL data directory: set --pgdata or $PGDATA");
  if (o.pg_port <= 0 || o.pg_port > 65535)
    return absl::InvalidArgumentError(absl::StrCat("PostgreSQL port ", o.pg_port, " is not a TCP port"));
  if (o.wal_prefetch < 1) return absl::InvalidArgumentError("wal_prefetch must be at least 1");
  return o;
}

absl::StatusOr<std::unique_ptr<Engine>> MakeSidecarEngine(const SidecarOptions& options) {
  auto catalog = LoadArchiveCatalog(options.archives_file);
  if (!catalog.ok())
    return absl::Status(catalog.status().code(),
                        absl::StrCat("cannot load Archive definitions: ", catalog.status().message()));
  std::vector<std::unique_ptr<SecretResolver>> chain;
  if (!options.secrets_dir.empty()) chain.push_back(std::make_unique<DirectorySecretResolver>(options.secrets_dir));
  chain.push_back(std::make_unique<EnvSecretResolver>());
  return std::make_unique<Engine>(EngineOptionsFor(options), std::move(*catalog),
                                  std::make_unique<ChainSecretResolver>(std::move(chain)));
}

absl::StatusOr<std::unique_ptr<SidecarCapabilities>> SidecarCapabilities::Create(const SidecarOptions& given) {
  ASSIGN_OR_RETURN(auto options, ResolveSidecarOptions(given));
  ASSIGN_OR_RETURN(auto engine, MakeSidecarEngine(options));
  return std::unique_ptr<SidecarCapabilities>(
      std::make_unique<PgbackrestSidecar>(std::move(options), std::move(engine)));
}

}  // namespace cnpgi_pgbackrest
