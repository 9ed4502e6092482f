#include "reconciler/cluster_rbac.h"

#include <set>

#include "absl/strings/str_cat.h"

#include "common/json.h"
#include "common/log.h"

namespace cnpgi_pgbackrest {
namespace {

using json = nlohmann::json;

constexpr char kArchiveGroup[] = "pgbackrest.cnpg.opera.com";
constexpr char kRbacApi[] = "/apis/rbac.authorization.k8s.io/v1/namespaces/";

json Metadata(const ClusterView& cluster) {
  return {
      {"name", ClusterRbacName(cluster)},
      {"namespace", cluster.namespace_},
      {"labels", {{"cnpg.io/cluster", cluster.name}, {"app.kubernetes.io/managed-by", "pgbackrest.cnpg.opera.com"}}},
      // The Cluster's deletion removes them; blockOwnerDeletion needs the Cluster's finalizers
      // permission, which the plugin does not hold (and does not need).
      {"ownerReferences", json::array({{{"apiVersion", "postgresql.cnpg.io/v1"},
                                        {"kind", "Cluster"},
                                        {"name", cluster.name},
                                        {"uid", cluster.uid},
                                        {"controller", true},
                                        {"blockOwnerDeletion", false}}})}};
}

}  // namespace

std::string ClusterRbacName(const ClusterView& cluster) { return absl::StrCat(cluster.name, "-pgbackrest"); }

std::string ClusterServiceAccount(const ClusterView& cluster) {
  std::string named = StringAt(cluster.spec, "serviceAccountName");
  return named.empty() ? cluster.name : named;
}

std::vector<std::string> ClusterArchiveNames(const ClusterView& cluster) {
  std::set<std::string> names;
  for (const auto* use : {&cluster.archive, &cluster.recovery_source, &cluster.replica_source})
    if (*use) names.insert((*use)->archive_name);
  return {names.begin(), names.end()};
}

json BuildClusterRole(const ClusterView& cluster) {
  json names = ClusterArchiveNames(cluster);
  json role = {{"apiVersion", "rbac.authorization.k8s.io/v1"}, {"kind", "Role"}, {"metadata", Metadata(cluster)}};
  role["rules"] = json::array({
      {{"apiGroups", {kArchiveGroup}}, {"resources", {"archives"}}, {"verbs", {"get"}}, {"resourceNames", names}},
      {{"apiGroups", {kArchiveGroup}},
       {"resources", {"archives/status"}},
       {"verbs", {"get", "patch"}},
       {"resourceNames", names}},
  });
  return role;
}

json BuildClusterRoleBinding(const ClusterView& cluster) {
  json binding = {
      {"apiVersion", "rbac.authorization.k8s.io/v1"}, {"kind", "RoleBinding"}, {"metadata", Metadata(cluster)}};
  binding["roleRef"] = {
      {"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", ClusterRbacName(cluster)}};
  binding["subjects"] = json::array(
      {{{"kind", "ServiceAccount"}, {"name", ClusterServiceAccount(cluster)}, {"namespace", cluster.namespace_}}});
  return binding;
}

absl::Status ClusterRbac::EnsureObject(const std::string& collection, const json& wanted, const char* field) const {
  std::string path = absl::StrCat(collection, "/", StringAt(wanted["metadata"], "name"));
  auto stored = client_->Get(path);
  if (absl::IsNotFound(stored.status())) {
    auto created = client_->Create(collection, wanted);
    if (!created.ok()) return created.status();
    Log("info", "created RBAC for the Cluster's Archive status",
        {{"kind", StringAt(wanted, "kind")},
         {"name", StringAt(wanted["metadata"], "name")},
         {"namespace", StringAt(wanted["metadata"], "namespace")}});
    return absl::OkStatus();
  }
  if (!stored.ok()) return stored.status();
  if (stored->value(field, json()) == wanted[field]) return absl::OkStatus();
  if (wanted.contains("roleRef") && stored->value("roleRef", json()) != wanted["roleRef"])
    // roleRef is immutable: this binding is not one the plugin made.
    return absl::FailedPreconditionError(absl::StrCat("RoleBinding ", path, " binds another Role; delete it"));
  json replaced = *stored;  // its resourceVersion makes the PUT conditional: a concurrent write is ABORTED
  replaced[field] = wanted[field];
  auto written = client_->Replace(path, replaced);
  if (!written.ok()) return written.status();
  Log("info", "updated RBAC for the Cluster's Archive status",
      {{"kind", StringAt(wanted, "kind")},
       {"name", StringAt(wanted["metadata"], "name")},
       {"namespace", StringAt(wanted["metadata"], "namespace")},
       {"field", field}});
  return absl::OkStatus();
}

absl::Status ClusterRbac::Ensure(const ClusterView& cluster) const {
  if (ClusterArchiveNames(cluster).empty() || cluster.uid.empty() || cluster.namespace_.empty())
    return absl::OkStatus();
  std::string base = absl::StrCat(kRbacApi, cluster.namespace_);
  // The Role first: a binding to a missing Role would grant nothing anyway.
  if (auto s = EnsureObject(base + "/roles", BuildClusterRole(cluster), "rules"); !s.ok()) return s;
  return EnsureObject(base + "/rolebindings", BuildClusterRoleBinding(cluster), "subjects");
}

}  // namespace cnpgi_pgbackrest
