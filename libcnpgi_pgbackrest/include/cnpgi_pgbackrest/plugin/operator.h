// The operator side of the plugin as plain C++: the lifecycle hook that injects the sidecar, the
// reconciler hooks and the Cluster's plugin status, over Archives read from the Kubernetes API (or a
// file). No gRPC here.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

#include "cnpgi_pgbackrest/export.h"
#include "cnpgi_pgbackrest/lifecycle/lifecycle.h"
#include "cnpgi_pgbackrest/operator/cluster_status.h"
#include "cnpgi_pgbackrest/reconciler/reconciler_hooks.h"

namespace cnpgi_pgbackrest {

struct OperatorOptions {
  std::string plugin_name = "pgbackrest.cnpg.opera.com";  // the Service label cnpg.io/pluginName
  std::string sidecar_image;  // the image injected into instance Pods; empty: $SIDECAR_IMAGE (required)
  // Archive objects as JSON instead of the Kubernetes API (local runs and tests); empty: the API
  // through the Pod's in-cluster configuration.
  std::string archives_file;
  // Where the in-cluster configuration's token and CA are (with $KUBERNETES_SERVICE_HOST/PORT).
  std::string service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
};

// Owns the capabilities; thread-safe once Create returned.
class CNPGI_PGBACKREST_EXPORT OperatorCapabilities {
 public:
  // INVALID_ARGUMENT without a sidecar image; FAILED_PRECONDITION without Archives to read (no
  // file and no in-cluster configuration).
  static absl::StatusOr<std::unique_ptr<OperatorCapabilities>> Create(const OperatorOptions& options);
  virtual ~OperatorCapabilities() = default;

  virtual LifecycleMutation& lifecycle() = 0;
  virtual ReconcilerHooks& reconciler() = 0;
  // From the Archive's status; always "" with archives_file (no API to read the status from).
  virtual ClusterStatus& cluster_status() = 0;
  virtual const OperatorOptions& options() const = 0;
};

}  // namespace cnpgi_pgbackrest
