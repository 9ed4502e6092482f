// Wires the operator side: the Archive catalog (Kubernetes API or a file), the sidecar injection,
// the reconciler hooks (with the Clusters' RBAC) and the Cluster status over it.
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include "cnpgi_pgbackrest/plugin/operator.h"
#include "config/archive_catalog.h"
#include "kubernetes/client.h"
#include "kubernetes/kubernetes_archive_catalog.h"
#include "lifecycle/sidecar_injection.h"
#include "operator/archive_cluster_status.h"
#include "reconciler/archive_reconciler.h"
#include "reconciler/cluster_rbac.h"

namespace cnpgi_pgbackrest {
namespace {

class PluginOperator final : public OperatorCapabilities {
 public:
  PluginOperator(OperatorOptions options, std::unique_ptr<KubernetesClient> kubernetes,
                 std::unique_ptr<ArchiveCatalog> catalog)
      : options_(std::move(options)),
        kubernetes_(std::move(kubernetes)),
        catalog_(std::move(catalog)),
        injection_({.plugin_name = options_.plugin_name, .image = options_.sidecar_image}, catalog_.get()),
        rbac_(kubernetes_.get()),
        reconciler_(options_.plugin_name, catalog_.get(), std::chrono::seconds(30), kubernetes_ ? &rbac_ : nullptr),
        status_(options_.plugin_name, [client = kubernetes_.get()](absl::string_view ns, absl::string_view name) {
          if (!client)
            return absl::StatusOr<nlohmann::json>(absl::UnavailableError("no Kubernetes API (--archives-file)"));
          return client->Get(absl::StrCat("/apis/pgbackrest.cnpg.opera.com/v1/namespaces/", ns, "/archives/", name));
        }) {}

  LifecycleMutation& lifecycle() override { return injection_; }
  ReconcilerHooks& reconciler() override { return reconciler_; }
  ClusterStatus& cluster_status() override { return status_; }
  const OperatorOptions& options() const override { return options_; }

 private:
  OperatorOptions options_;
  std::unique_ptr<KubernetesClient> kubernetes_;  // used by catalog_, so declared before it
  std::unique_ptr<ArchiveCatalog> catalog_;
  SidecarInjection injection_;
  ClusterRbac rbac_;
  ArchiveReconciler reconciler_;
  ArchiveClusterStatus status_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<OperatorCapabilities>> OperatorCapabilities::Create(const OperatorOptions& given) {
  OperatorOptions options = given;
  if (options.sidecar_image.empty() && std::getenv("SIDECAR_IMAGE"))
    options.sidecar_image = std::getenv("SIDECAR_IMAGE");
  if (options.sidecar_image.empty())
    return absl::InvalidArgumentError("no sidecar image: set --sidecar-image or $SIDECAR_IMAGE");
  // Archives come from the Kubernetes API in a cluster; a file replaces it for local runs and tests.
  std::unique_ptr<KubernetesClient> kubernetes;
  std::unique_ptr<ArchiveCatalog> catalog;
  if (!options.archives_file.empty()) {
    auto loaded = LoadArchiveCatalog(options.archives_file);
    if (!loaded.ok())
      return absl::Status(loaded.status().code(),
                          absl::StrCat("cannot load Archive definitions: ", loaded.status().message()));
    catalog = std::move(*loaded);
  } else {
    auto config = KubernetesConfig::InCluster(options.service_account_dir);
    if (!config.ok())
      return absl::FailedPreconditionError(absl::StrCat(config.status().message(), " (or give --archives-file)"));
    kubernetes = std::make_unique<KubernetesClient>(*config);
    catalog = std::make_unique<KubernetesArchiveCatalog>(kubernetes.get());
  }
  return std::unique_ptr<OperatorCapabilities>(
      std::make_unique<PluginOperator>(std::move(options), std::move(kubernetes), std::move(catalog)));
}

}  // namespace cnpgi_pgbackrest
