// The sidecar as gRPC services: the capabilities of sidecar.h behind CNPG-I adapters, ready for
// any C++ host to mount on its own server, or run as the whole sidecar process.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"

#include "cnpgi_pgbackrest/export.h"
#include "cnpgi_pgbackrest/plugin/plugin_services.h"
#include "cnpgi_pgbackrest/plugin/sidecar.h"

namespace cnpgi_pgbackrest {

class CNPGI_PGBACKREST_EXPORT SidecarPlugin {
 public:
  static absl::StatusOr<std::unique_ptr<SidecarPlugin>> Create(const SidecarOptions& options);
  ~SidecarPlugin();

  SidecarCapabilities& capabilities();
  // Adds the gRPC services of the chosen capabilities (kWal, kBackup, kRestoreJob, kMetrics) to
  // services; each is owned by this object, which must outlive the server.
  void Mount(PluginServices& services,
             const std::vector<PluginService>& which = {PluginService::kWal, PluginService::kBackup,
                                                        PluginService::kRestoreJob, PluginService::kMetrics});
  // <plugin_path>/<plugin_name>: where the instance manager looks for the socket.
  std::string socket_path() const;

 private:
  explicit SidecarPlugin(std::unique_ptr<SidecarCapabilities> capabilities);
  class Services;
  std::unique_ptr<SidecarCapabilities> capabilities_;
  std::unique_ptr<Services> services_;
};

// The sidecar process: every capability on socket_path() until SIGTERM or SIGINT. Returns the
// process exit code (0 after a clean stop; 1 when the server cannot start; 2 for bad options).
// Blocks the termination signals first: call it before starting threads of your own.
CNPGI_PGBACKREST_EXPORT int RunSidecar(const SidecarOptions& options);

// The startupProbe: 0 only when a server answers Identity on the socket within timeout.
CNPGI_PGBACKREST_EXPORT int ProbeSidecar(const SidecarOptions& options, std::chrono::milliseconds timeout);

}  // namespace cnpgi_pgbackrest
