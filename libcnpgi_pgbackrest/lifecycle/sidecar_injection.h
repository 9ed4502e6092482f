// Lifecycle mutation: the sidecar, its /plugins volume and its configuration in instance Pods and recovery Jobs.
#pragma once

#include <string>
#include <vector>

#include "cnpgi_pgbackrest/lifecycle/lifecycle.h"
#include "config/archive_catalog.h"

namespace cnpgi_pgbackrest {

struct SidecarInjectionOptions {
  std::string plugin_name = "pgbackrest.cnpg.opera.com";
  std::string image;  // the sidecar image (operator env SIDECAR_IMAGE)
  std::string container_name = "plugin-pgbackrest";
  std::string binary = "/usr/local/bin/cnpgi-pgbackrest-sidecar";
};

// The patch adds, replacing by name so that EVALUATE then CREATE (or a re-EVALUATE) changes nothing more:
// an emptyDir `plugins` mounted at /plugins in the main container, and the sidecar as a native sidecar
// (initContainer, restartPolicy Always) with the main container's env and mounts, the Archives it needs
// as JSON in CNPGI_PGBACKREST_ARCHIVES and their Secret keys as secretKeyRef env (CNPGI_SECRET_*), so the
// sidecar never calls the Kubernetes API. A changed Archive changes the Pod spec, which CNPG rolls out.
class SidecarInjection : public LifecycleMutation {
 public:
  SidecarInjection(SidecarInjectionOptions options, const ArchiveCatalog* catalog)
      : options_(std::move(options)), catalog_(catalog) {}
  std::vector<LifecycleSubscription> Subscriptions() const override;
  absl::StatusOr<std::string> Mutate(const LifecycleRequest& request) override;

 private:
  SidecarInjectionOptions options_;
  const ArchiveCatalog* catalog_;
};

}  // namespace cnpgi_pgbackrest
