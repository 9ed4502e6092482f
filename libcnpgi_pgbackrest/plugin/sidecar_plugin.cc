#include "cnpgi_pgbackrest/plugin/sidecar_plugin.h"

#include <iostream>
#include <unistd.h>

#include "absl/strings/str_cat.h"

#include "cnpgi_pgbackrest/backup/backup_grpc.h"
#include "cnpgi_pgbackrest/metrics/metrics_grpc.h"
#include "cnpgi_pgbackrest/plugin/termination.h"
#include "cnpgi_pgbackrest/restore_job/restore_job_grpc.h"
#include "cnpgi_pgbackrest/transport/unix_socket_server.h"
#include "cnpgi_pgbackrest/version.h"
#include "cnpgi_pgbackrest/wal/wal_grpc.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace cnpgi_pgbackrest {

// The adapters over the capabilities, built once and mounted on request.
class SidecarPlugin::Services {
 public:
  explicit Services(SidecarCapabilities& c)
      : wal(&c.wal_archive(), &c.wal_restore()),
        backup(&c.backup()),
        restore_job(&c.restore_job()),
        metrics(&c.metrics()) {}
  grpc::Service* For(PluginService type) {
    switch (type) {
      case PluginService::kWal:
        return &wal;
      case PluginService::kBackup:
        return &backup;
      case PluginService::kRestoreJob:
        return &restore_job;
      case PluginService::kMetrics:
        return &metrics;
      default:
        return nullptr;
    }
  }

 private:
  WalGrpcService wal;
  BackupGrpcService backup;
  RestoreJobGrpcService restore_job;
  MetricsGrpcService metrics;
};

SidecarPlugin::SidecarPlugin(std::unique_ptr<SidecarCapabilities> capabilities)
    : capabilities_(std::move(capabilities)), services_(std::make_unique<Services>(*capabilities_)) {}
SidecarPlugin::~SidecarPlugin() = default;

absl::StatusOr<std::unique_ptr<SidecarPlugin>> SidecarPlugin::Create(const SidecarOptions& options) {
  ASSIGN_OR_RETURN(auto capabilities, SidecarCapabilities::Create(options));
  return std::unique_ptr<SidecarPlugin>(new SidecarPlugin(std::move(capabilities)));
}

SidecarCapabilities& SidecarPlugin::capabilities() { return *capabilities_; }

void SidecarPlugin::Mount(PluginServices& services, const std::vector<PluginService>& which) {
  for (PluginService type : which)
    if (grpc::Service* service = services_->For(type)) services.Add(type, service);
}

std::string SidecarPlugin::socket_path() const {
  const SidecarOptions& o = capabilities_->options();
  return absl::StrCat(o.plugin_path, "/", o.plugin_name);
}

int RunSidecar(const SidecarOptions& options) {
  // Before any thread starts (push-ahead, metrics), so that only the waiter below sees SIGTERM.
  BlockTerminationSignals();
  auto plugin = SidecarPlugin::Create(options);
  if (!plugin.ok()) {
    std::cerr << "cannot start the sidecar: " << plugin.status().message() << "\n";
    return 2;
  }
  // One sidecar for every phase: CNPG <= 1.30 restores in a Job, newer CNPG inside the instance
  // Pod; each request picks its Archive from the Cluster, so the Pod spec never changes.
  PluginServices services(DefaultPluginMetadata(options.plugin_name));
  (*plugin)->Mount(services);
  (*plugin)->capabilities().Resume();  // before serving: no Archive call may be overtaken by it
  std::string socket = (*plugin)->socket_path();
  auto server = StartUnixSocketServer(socket, services.All());
  if (!server.ok()) {
    std::cerr << "cannot start the sidecar: " << server.status().message() << "\n";
    return 1;
  }
  std::vector<std::pair<std::string, std::string>> fields = {{"socket", socket}, {"version", kPluginVersion}};
  for (const auto& setting : (*plugin)->capabilities().Settings()) fields.push_back(setting);
  LogFields("info", "sidecar serving", fields);
  ServeUntilTerminated(**server);
  unlink(socket.c_str());
  Log("info", "sidecar stopped", {{"socket", socket}});
  return 0;
}

int ProbeSidecar(const SidecarOptions& options, std::chrono::milliseconds timeout) {
  absl::Status s = ProbeUnixSocket(absl::StrCat(options.plugin_path, "/", options.plugin_name), timeout);
  if (!s.ok()) std::cerr << s.message() << "\n";
  return s.ok() ? 0 : 1;
}

}  // namespace cnpgi_pgbackrest
