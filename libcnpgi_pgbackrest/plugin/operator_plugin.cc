#include "cnpgi_pgbackrest/plugin/operator_plugin.h"

#include <iostream>

#include "cnpgi_pgbackrest/lifecycle/lifecycle_grpc.h"
#include "cnpgi_pgbackrest/operator/operator_grpc.h"
#include "cnpgi_pgbackrest/plugin/termination.h"
#include "cnpgi_pgbackrest/reconciler/reconciler_grpc.h"
#include "cnpgi_pgbackrest/version.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace cnpgi_pgbackrest {

class OperatorPlugin::Services {
 public:
  explicit Services(OperatorCapabilities& c)
      : lifecycle(&c.lifecycle()), reconciler(&c.reconciler()), cluster_status(&c.cluster_status()) {}
  LifecycleGrpcService lifecycle;
  ReconcilerGrpcService reconciler;
  OperatorGrpcService cluster_status;
};

OperatorPlugin::OperatorPlugin(std::unique_ptr<OperatorCapabilities> capabilities)
    : capabilities_(std::move(capabilities)), services_(std::make_unique<Services>(*capabilities_)) {}
OperatorPlugin::~OperatorPlugin() = default;

absl::StatusOr<std::unique_ptr<OperatorPlugin>> OperatorPlugin::Create(const OperatorOptions& options) {
  ASSIGN_OR_RETURN(auto capabilities, OperatorCapabilities::Create(options));
  return std::unique_ptr<OperatorPlugin>(new OperatorPlugin(std::move(capabilities)));
}

OperatorCapabilities& OperatorPlugin::capabilities() { return *capabilities_; }

void OperatorPlugin::Mount(PluginServices& services) {
  services.Add(PluginService::kLifecycle, &services_->lifecycle);
  services.Add(PluginService::kReconcilerHooks, &services_->reconciler);
  services.Add(PluginService::kOperator, &services_->cluster_status);  // SetStatusInCluster
  // Every instance Pod of a Cluster using the plugin gets the sidecar (the lifecycle hook puts it
  // there), so the instance manager may rely on it: a capability without a service of its own.
  services.Add(PluginService::kInstanceSidecarInjection, &services_->lifecycle);
}

int RunOperator(const OperatorOptions& options, const MutualTlsOptions& tls) {
  BlockTerminationSignals();
  auto plugin = OperatorPlugin::Create(options);
  if (!plugin.ok()) {
    std::cerr << "cannot start the operator-side server: " << plugin.status().message() << "\n";
    return 2;
  }
  PluginServices services(DefaultPluginMetadata(options.plugin_name));
  (*plugin)->Mount(services);
  auto server = StartMutualTlsServer(tls, services.All());
  if (!server.ok()) {
    std::cerr << "cannot start the operator-side server: " << server.status().message() << "\n";
    return 1;
  }
  Log("info", "operator-side server listening", {{"address", tls.address}, {"version", kPluginVersion}});
  ServeUntilTerminated(*(*server)->grpc);
  return 0;
}

}  // namespace cnpgi_pgbackrest
