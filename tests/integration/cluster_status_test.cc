// Issue 14 §1, operator side, through the operator host exactly as CNPG's operator calls it (mutual
// TLS) against the fake Kubernetes API: the RBAC the Cluster's sidecars write the Archive status with
// (Reconciler Pre), and the Cluster's plugin status from that Archive status (SetStatusInCluster).
#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>

#include "harness.h"
#include "operator.grpc.pb.h"
#include "operator_host.h"
#include "reconciler.grpc.pb.h"

using namespace cnpgi_it;
namespace op = cnpgi::operator_::v1;
namespace rc = cnpgi::reconciler::v1;
using cnpgi_pgbackrest::KubernetesClient;

namespace {

constexpr char kPlugin[] = "pgbackrest.cnpg.opera.com";
constexpr char kRbac[] = "/apis/rbac.authorization.k8s.io/v1/namespaces/";
constexpr char kArchives[] = "/apis/pgbackrest.cnpg.opera.com/v1/namespaces/";

// A Cluster as CNPG sends it: with its uid, and the plugin's status.pluginStatus entry (empty status).
json Cluster(const std::string& namespace_, const std::string& archive) {
  json c = json::parse(R"({"apiVersion":"postgresql.cnpg.io/v1","kind":"Cluster",
    "metadata":{"name":"cluster-example","uid":"0b7c4f7e-5a51-4a3c-9d7e-1f2a3b4c5d6e"},
    "spec":{"instances":3,"plugins":[{"name":"pgbackrest.cnpg.opera.com","parameters":{}}]},
    "status":{"pluginStatus":[{"name":"pgbackrest.cnpg.opera.com","version":"0.1.0",
      "capabilities":["TYPE_OPERATOR_SERVICE","TYPE_LIFECYCLE_SERVICE","TYPE_RECONCILER_HOOKS"],
      "operatorCapabilities":["TYPE_SET_STATUS_IN_CLUSTER"]}]}})");
  c["metadata"]["namespace"] = namespace_;
  c["spec"]["plugins"][0]["parameters"]["pgbackrestObjectName"] = archive;
  return c;
}

// Archives the fake API server holds besides default/minio-store (as if applied with kubectl).
json Archives() {
  json list = json::array();
  for (const auto& [namespace_, name] : {std::pair{"default", "other-store"}, std::pair{"default", "status-store"},
                                         std::pair{"rbac-locked", "minio-store"}}) {
    json archive = json::parse(R"({"apiVersion":"pgbackrest.cnpg.opera.com/v1","kind":"Archive","metadata":{},
      "spec":{"configuration":{"repositories":[{"type":"posix","destinationPath":"/backups"}]}}})");
    archive["metadata"] = {{"name", name}, {"namespace", namespace_}};
    list.push_back(archive);
  }
  return list;
}

rc::ReconcilerHooksResult::Behavior Pre(OperatorHost& host, const json& cluster) {
  rc::ReconcilerHooksRequest request;
  request.set_cluster_definition(cluster.dump());
  request.set_resource_definition(cluster.dump());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  rc::ReconcilerHooksResult result;
  auto status = rc::ReconcilerHooks::NewStub(host.Channel("client"))->Pre(&ctx, request, &result);
  REQUIRE_MESSAGE(status.ok(), status.error_message());
  return result.behavior();
}

// What CNPG does with a non-empty answer: it becomes the plugin's status.pluginStatus[].status.
json Stored(json cluster, const std::string& answer) {
  for (auto& entry : cluster["status"]["pluginStatus"])
    if (entry["name"] == kPlugin) entry["status"] = answer;
  return cluster;
}

json Writes(const KubernetesClient& client, const std::string& plural) {
  auto writes = client.Get("/writes");
  REQUIRE(writes.ok());
  return writes->value(plural, 0);
}

}  // namespace

TEST_CASE("Reconciler Pre creates the Cluster's Role and RoleBinding once, updates the Role when its Archive changes") {
  FakeApiServer api(Archives());
  OperatorHost host(nullptr, &api);
  KubernetesClient client(api.Config());
  json cluster = Cluster("default", "minio-store");

  CHECK(Pre(host, cluster) == rc::ReconcilerHooksResult::BEHAVIOR_CONTINUE);
  auto role = client.Get(std::string(kRbac) + "default/roles/cluster-example-pgbackrest");
  REQUIRE_MESSAGE(role.ok(), role.status().message() << "\n" << ReadFile(host.dir / "operator.log"));
  CHECK((*role)["rules"] == json::parse(R"([
    {"apiGroups":["pgbackrest.cnpg.opera.com"],"resources":["archives"],"verbs":["get"],"resourceNames":["minio-store"]},
    {"apiGroups":["pgbackrest.cnpg.opera.com"],"resources":["archives/status"],"verbs":["get","patch"],
     "resourceNames":["minio-store"]}])"));
  auto binding = client.Get(std::string(kRbac) + "default/rolebindings/cluster-example-pgbackrest");
  REQUIRE(binding.ok());
  CHECK((*binding)["roleRef"]["name"] == "cluster-example-pgbackrest");
  CHECK((*binding)["subjects"] ==
        json::parse(R"([{"kind":"ServiceAccount","name":"cluster-example","namespace":"default"}])"));
  for (const json* object : {&*role, &*binding}) {
    const json& owner = (*object)["metadata"]["ownerReferences"][0];
    CHECK(owner["kind"] == "Cluster");
    CHECK(owner["uid"] == cluster["metadata"]["uid"]);
    CHECK(owner["controller"] == true);
    CHECK(owner["blockOwnerDeletion"] == false);
  }
  CHECK(Writes(client, "roles") == 1);
  CHECK(Writes(client, "rolebindings") == 1);

  // The next reconcile changes nothing: no write at all.
  CHECK(Pre(host, cluster) == rc::ReconcilerHooksResult::BEHAVIOR_CONTINUE);
  CHECK(Writes(client, "roles") == 1);
  CHECK(Writes(client, "rolebindings") == 1);
  CHECK(client.Get(std::string(kRbac) + "default/roles/cluster-example-pgbackrest")
            .value()["metadata"]["resourceVersion"] == (*role)["metadata"]["resourceVersion"]);

  // The Cluster moves to another Archive: the Role's rules follow, the binding stays.
  json moved = Cluster("default", "other-store");
  CHECK(Pre(host, moved) == rc::ReconcilerHooksResult::BEHAVIOR_CONTINUE);
  auto updated = client.Get(std::string(kRbac) + "default/roles/cluster-example-pgbackrest");
  REQUIRE(updated.ok());
  CHECK((*updated)["rules"][0]["resourceNames"] == json::array({"other-store"}));
  CHECK((*updated)["rules"][1]["resourceNames"] == json::array({"other-store"}));
  CHECK((*updated)["metadata"]["ownerReferences"] == (*role)["metadata"]["ownerReferences"]);
  CHECK(Writes(client, "roles") == 2);
  CHECK(Writes(client, "rolebindings") == 1);
  CHECK(Pre(host, moved) == rc::ReconcilerHooksResult::BEHAVIOR_CONTINUE);
  CHECK(Writes(client, "roles") == 2);

  // RBAC the API refuses never holds the Cluster: it continues, and the refusal is logged.
  CHECK(Pre(host, Cluster("rbac-locked", "minio-store")) == rc::ReconcilerHooksResult::BEHAVIOR_CONTINUE);
  CHECK(ReadFile(host.dir / "operator.log").find("Cluster RBAC for the Archive status not ensured") !=
        std::string::npos);
}

TEST_CASE("SetStatusInCluster answers the Archive's status for the stanza once, and nothing while it is unchanged") {
  FakeApiServer api(Archives());
  OperatorHost host(nullptr, &api);
  KubernetesClient client(api.Config());
  auto operator_stub = op::Operator::NewStub(host.Channel("client"));
  grpc::ClientContext ctx;
  op::OperatorCapabilitiesResult caps;
  REQUIRE(operator_stub->GetCapabilities(&ctx, {}, &caps).ok());
  REQUIRE(caps.capabilities_size() == 1);
  CHECK(caps.capabilities(0).rpc().type() == op::OperatorCapability::RPC::TYPE_SET_STATUS_IN_CLUSTER);

  json cluster = Cluster("default", "status-store");
  // No status for the stanza yet: nothing to show.
  CHECK(host.SetStatusInCluster(cluster).empty());

  // The primary's sidecar writes its stanza's entry through the status subresource.
  const std::string status_path = std::string(kArchives) + "default/archives/status-store/status";
  auto written = client.MergePatch(status_path, json::parse(R"({"status":{"stanzaRecoveryWindow":{"cluster-example":{
    "cluster":"cluster-example",
    "firstRecoverabilityPoint":"2026-12-01T09:01:00Z","lastRecoverabilityPoint":"2026-12-01T10:10:00Z",
    "lastSuccessfulBackup":"2026-12-01T09:01:00Z","lastSuccessfulBackupId":"20261201-090000F",
    "lastArchivedWAL":"00000001000000000000000A","lastArchivedWALTime":"2026-12-01T10:10:00Z",
    "repositories":[{"repo":1,"reachable":true,"backupSets":1,"backupBytes":25165824,"walBytes":50331648}],
    "conditions":[{"type":"RepositoryReachable","status":"True","reason":"InfoSucceeded","message":"",
                   "lastTransitionTime":"2026-12-01T09:00:00Z"},
                  {"type":"LastBackupSucceeded","status":"True","reason":"BackupSucceeded","message":"",
                   "lastTransitionTime":"2026-12-01T09:01:00Z"},
                  {"type":"WALArchiving","status":"True","reason":"Archived","message":"",
                   "lastTransitionTime":"2026-12-01T09:00:00Z"}]}}}})"));
  REQUIRE_MESSAGE(written.ok(), written.status().message());

  std::string first = host.SetStatusInCluster(cluster);
  REQUIRE_FALSE(first.empty());
  json shown = json::parse(first);
  CHECK(shown == json::parse(R"({"firstRecoverabilityPoint":"2026-12-01T09:01:00Z",
    "lastRecoverabilityPoint":"2026-12-01T10:10:00Z","lastSuccessfulBackup":"2026-12-01T09:01:00Z",
    "lastSuccessfulBackupId":"20261201-090000F","lastArchivedWAL":"00000001000000000000000A",
    "lastArchivedWALTime":"2026-12-01T10:10:00Z",
    "repositories":[{"repo":1,"reachable":true,"backupBytes":25165824,"walBytes":50331648}],
    "conditions":{"RepositoryReachable":"True","LastBackupSucceeded":"True","WALArchiving":"True"},
    "archive":"status-store","stanza":"cluster-example"})"));
  CHECK(first.find("\"firstRecoverabilityPoint\"") < first.find("\"lastArchivedWAL\""));  // recovery window first

  // CNPG stores the answer: the next loops get nothing (no patch, no 5 s requeue).
  json stored = Stored(cluster, first);
  CHECK(host.SetStatusInCluster(stored).empty());
  CHECK(host.SetStatusInCluster(stored).empty());

  // A new WAL archived: exactly one non-empty answer, then nothing again.
  REQUIRE(client
              .MergePatch(status_path, json::parse(R"({"status":{"stanzaRecoveryWindow":{"cluster-example":{
                 "lastArchivedWAL":"00000001000000000000000B","lastArchivedWALTime":"2026-12-01T10:11:00Z",
                 "lastRecoverabilityPoint":"2026-12-01T10:11:00Z"}}}})"))
              .ok());
  std::string changed = host.SetStatusInCluster(stored);
  REQUIRE_FALSE(changed.empty());
  CHECK(json::parse(changed)["lastArchivedWAL"] == "00000001000000000000000B");
  stored = Stored(cluster, changed);
  CHECK(host.SetStatusInCluster(stored).empty());
  CHECK(host.SetStatusInCluster(stored).empty());

  // The API goes away: nothing is answered, so the Cluster keeps what it shows.
  api.Stop();
  CHECK(host.SetStatusInCluster(stored).empty());
  CHECK(host.SetStatusInCluster(Stored(cluster, first)).empty());
}
