// The RBAC a Cluster's instance Pods need to report on their Archives: a Role <cluster>-pgbackrest
// (get of the Archives the Cluster uses, get and patch of their status subresource) and a RoleBinding
// of it to the Cluster's service account, both owned by the Cluster so they go with it.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"

#include "config/cluster.h"
#include "kubernetes/client.h"

namespace cnpgi_pgbackrest {

// "<cluster>-pgbackrest": the name of both objects.
std::string ClusterRbacName(const ClusterView& cluster);
// The service account CNPG runs the instance Pods as: spec.serviceAccountName, else the Cluster's name.
std::string ClusterServiceAccount(const ClusterView& cluster);
// The Archives the Cluster uses (archive, recovery source, replica source), sorted, each once.
std::vector<std::string> ClusterArchiveNames(const ClusterView& cluster);

// The objects as they are created (rbac.authorization.k8s.io/v1). The Cluster must have a uid.
nlohmann::json BuildClusterRole(const ClusterView& cluster);
nlohmann::json BuildClusterRoleBinding(const ClusterView& cluster);

class ClusterRbac {
 public:
  explicit ClusterRbac(const KubernetesClient* client) : client_(client) {}
  // Creates both objects, or replaces the Role's rules or the RoleBinding's subjects when they differ
  // from what the Cluster needs; writes nothing when they match. A Cluster using no Archive, or without
  // a uid, needs nothing. Errors are the API's (ABORTED for a write that lost a race: retry later).
  absl::Status Ensure(const ClusterView& cluster) const;

 private:
  // GET; create when missing; replace when `field` differs (keeping everything else of the stored object).
  absl::Status EnsureObject(const std::string& collection, const nlohmann::json& wanted, const char* field) const;
  const KubernetesClient* client_;
};

}  // namespace cnpgi_pgbackrest
