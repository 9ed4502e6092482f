// The operator side as gRPC services behind mutual TLS 1.3, as CNPG's operator dials plugins.
#pragma once

#include <memory>

#include "absl/status/statusor.h"

#include "cnpgi_pgbackrest/export.h"
#include "cnpgi_pgbackrest/plugin/operator.h"
#include "cnpgi_pgbackrest/plugin/plugin_services.h"
#include "cnpgi_pgbackrest/transport/tls_server.h"

namespace cnpgi_pgbackrest {

class CNPGI_PGBACKREST_EXPORT OperatorPlugin {
 public:
  static absl::StatusOr<std::unique_ptr<OperatorPlugin>> Create(const OperatorOptions& options);
  ~OperatorPlugin();

  OperatorCapabilities& capabilities();
  // Adds the OperatorLifecycle, ReconcilerHooks and Operator (SetStatusInCluster) services and the
  // sidecar-injection capability.
  void Mount(PluginServices& services);

 private:
  explicit OperatorPlugin(std::unique_ptr<OperatorCapabilities> capabilities);
  class Services;
  std::unique_ptr<OperatorCapabilities> capabilities_;
  std::unique_ptr<Services> services_;
};

// The operator-side process: the services on tls.address until SIGTERM or SIGINT; exit code as RunSidecar.
CNPGI_PGBACKREST_EXPORT int RunOperator(const OperatorOptions& options, const MutualTlsOptions& tls);

}  // namespace cnpgi_pgbackrest
