// Reconciler hooks: a Cluster never runs without its backups silently.
#pragma once

#include "cnpgi_pgbackrest/reconciler/reconciler_hooks.h"
#include "config/archive_catalog.h"
#include "reconciler/cluster_rbac.h"

namespace cnpgi_pgbackrest {

// Pre on a Cluster: every Archive it names must exist and be valid; otherwise REQUEUE (the reason
// is logged, as the protocol carries no message) so the Cluster waits instead of running unarchived.
// With `rbac`, Pre also ensures the Role and RoleBinding its sidecars write the Archive status with.
// RBAC never holds a Cluster: a refused write is logged and retried at the next reconcile, and only
// the status reports wait for it (WAL and backups need no API: the lifecycle hook resolves Archives
// and Secrets into the Pod spec).
class ArchiveReconciler : public ReconcilerHooks {
 public:
  ArchiveReconciler(std::string plugin_name, const ArchiveCatalog* catalog,
                    std::chrono::seconds requeue_after = std::chrono::seconds(30), const ClusterRbac* rbac = nullptr)
      : plugin_name_(std::move(plugin_name)), catalog_(catalog), requeue_after_(requeue_after), rbac_(rbac) {}
  std::vector<ReconciledKind> Kinds() const override;
  absl::StatusOr<ReconcilerResult> Pre(const ReconcilerRequest& request) override;
  absl::StatusOr<ReconcilerResult> Post(const ReconcilerRequest& request) override;

 private:
  std::string plugin_name_;
  const ArchiveCatalog* catalog_;
  std::chrono::seconds requeue_after_;
  const ClusterRbac* rbac_;
};

}  // namespace cnpgi_pgbackrest
