#include "reconciler/archive_reconciler.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

#include "common/json.h"
#include "common/log.h"
#include "config/cluster.h"

namespace cnpgi_pgbackrest {

std::vector<ReconciledKind> ArchiveReconciler::Kinds() const {
  return {ReconciledKind::kCluster, ReconciledKind::kBackup};
}

absl::StatusOr<ReconcilerResult> ArchiveReconciler::Pre(const ReconcilerRequest& request) {
  auto resource = ParseJsonObject(request.resource_definition, "resource definition");
  if (!resource.ok()) return resource.status();
  if (StringAt(*resource, "kind") == "Backup") return ReconcilerResult{};
  auto cluster = ParseCluster(request.cluster_definition, plugin_name_);
  if (!cluster.ok()) return cluster.status();
  if (rbac_) {
    if (auto rbac = rbac_->Ensure(*cluster); !rbac.ok())
      Log("warning", "Cluster RBAC for the Archive status not ensured; retried at the next reconcile",
          {{"cluster", cluster->name}, {"namespace", cluster->namespace_}, {"error", rbac.message()}});
  }
  std::string problem(cluster->archive_problem.message());
  for (const auto* use : {&cluster->archive, &cluster->recovery_source, &cluster->replica_source}) {
    if (!*use || !problem.empty()) continue;
    auto archive = LookupArchive(*catalog_, **use);
    if (!archive.ok()) problem = std::string(archive.status().message());
  }
  if (problem.empty()) return ReconcilerResult{};
  Log("warning", "Cluster waits for its Archive",
      {{"cluster", cluster->name}, {"namespace", cluster->namespace_}, {"problem", problem}});
  return ReconcilerResult{.behavior = ReconcilerBehavior::kRequeue, .requeue_after = requeue_after_};
}

absl::StatusOr<ReconcilerResult> ArchiveReconciler::Post(const ReconcilerRequest&) { return ReconcilerResult{}; }

}  // namespace cnpgi_pgbackrest
