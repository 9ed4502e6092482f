#include "reconciler/cluster_rbac.h"

#include <doctest/doctest.h>

using namespace cnpgi_pgbackrest;
using json = nlohmann::json;

namespace {

ClusterView Parse(const std::string& text) {
  auto cluster = ParseCluster(text);
  REQUIRE_MESSAGE(cluster.ok(), cluster.status().message());
  return *cluster;
}

// Archives as archive (minio-store), recovery source (old-store) and replica source (minio-store again).
const char* kCluster = R"({"kind":"Cluster","metadata":{"name":"cluster-restore","namespace":"prod",
  "uid":"6a1f0e2c-1111-4222-8333-444455556666"},
  "spec":{"plugins":[{"name":"pgbackrest.cnpg.opera.com","parameters":{"pgbackrestObjectName":"minio-store"}}],
    "bootstrap":{"recovery":{"source":"origin"}},
    "replica":{"enabled":true,"source":"dc-b"},
    "externalClusters":[
      {"name":"origin","plugin":{"name":"pgbackrest.cnpg.opera.com","parameters":{"pgbackrestObjectName":"old-store"}}},
      {"name":"dc-b","plugin":{"name":"pgbackrest.cnpg.opera.com","parameters":{"pgbackrestObjectName":"minio-store"}}}]}})";

}  // namespace

TEST_CASE("Cluster RBAC: a Role on exactly the Archives the Cluster uses, bound to its service account, owned by it") {
  ClusterView cluster = Parse(kCluster);
  CHECK(ClusterRbacName(cluster) == "cluster-restore-pgbackrest");
  CHECK(ClusterArchiveNames(cluster) == std::vector<std::string>{"minio-store", "old-store"});

  json role = BuildClusterRole(cluster);
  CHECK(role["kind"] == "Role");
  CHECK(role["metadata"]["name"] == "cluster-restore-pgbackrest");
  CHECK(role["metadata"]["namespace"] == "prod");
  CHECK(role["rules"] == json::parse(R"([
    {"apiGroups":["pgbackrest.cnpg.opera.com"],"resources":["archives"],"verbs":["get"],
     "resourceNames":["minio-store","old-store"]},
    {"apiGroups":["pgbackrest.cnpg.opera.com"],"resources":["archives/status"],"verbs":["get","patch"],
     "resourceNames":["minio-store","old-store"]}])"));
  json owner = role["metadata"]["ownerReferences"];
  REQUIRE(owner.size() == 1);
  CHECK(owner[0] == json::parse(R"({"apiVersion":"postgresql.cnpg.io/v1","kind":"Cluster","name":"cluster-restore",
    "uid":"6a1f0e2c-1111-4222-8333-444455556666","controller":true,"blockOwnerDeletion":false})"));

  json binding = BuildClusterRoleBinding(cluster);
  CHECK(binding["kind"] == "RoleBinding");
  CHECK(binding["metadata"]["name"] == "cluster-restore-pgbackrest");
  CHECK(binding["metadata"]["ownerReferences"] == owner);
  CHECK(binding["roleRef"] ==
        json::parse(R"({"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"cluster-restore-pgbackrest"})"));
  // CNPG runs the instance Pods as the Cluster's name unless spec.serviceAccountName names another.
  CHECK(binding["subjects"] ==
        json::parse(R"([{"kind":"ServiceAccount","name":"cluster-restore","namespace":"prod"}])"));
  json shared = json::parse(kCluster);
  shared["spec"]["serviceAccountName"] = "postgres-shared";
  CHECK(BuildClusterRoleBinding(Parse(shared.dump()))["subjects"][0]["name"] == "postgres-shared");
}

TEST_CASE("Cluster RBAC: nothing is needed without an Archive, and nothing is written without the Cluster's uid") {
  // No client is needed for either: Ensure returns before any request (a null client would crash otherwise).
  ClusterRbac rbac(nullptr);
  ClusterView plain = Parse(R"({"kind":"Cluster","metadata":{"name":"c","namespace":"d","uid":"u"},"spec":{}})");
  CHECK(ClusterArchiveNames(plain).empty());
  CHECK(rbac.Ensure(plain).ok());
  json no_uid = json::parse(kCluster);
  no_uid["metadata"].erase("uid");
  CHECK(rbac.Ensure(Parse(no_uid.dump())).ok());
}
