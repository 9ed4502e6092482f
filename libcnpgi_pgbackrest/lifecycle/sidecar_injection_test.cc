#include "lifecycle/sidecar_injection.h"

#include <fstream>
#include <set>
#include <sstream>

#include <doctest/doctest.h>

using namespace cnpgi_pgbackrest;
using json = nlohmann::json;

namespace {

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(CNPGI_FIXTURES_DIR) + "/" + name);
  REQUIRE_MESSAGE(in.good(), "missing fixture " << name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

StaticArchiveCatalog Catalog() {
  auto archives = ParseArchiveList(R"([
    {"apiVersion":"pgbackrest.cnpg.opera.com/v1","kind":"Archive","metadata":{"name":"minio-store","namespace":"default",
      "resourceVersion":"1234"},
     "spec":{"configuration":{"repositories":[{"destinationPath":"/","bucket":"backups","endpointURL":"minio:9000",
       "endpointCA":{"name":"minio-ca","key":"ca.crt"},"encryption":"aes-256-cbc","encryptionKey":{"name":"minio","key":"ENCRYPTION_KEY"},
       "s3Credentials":{"region":"dummy","accessKeyId":{"name":"minio","key":"ACCESS_KEY_ID"},
                        "secretAccessKey":{"name":"minio","key":"ACCESS_SECRET_KEY"}}}],"compression":"zst"},
      "instanceSidecarConfiguration":{"resources":{"limits":{"memory":"2Gi","cpu":"2"}},
                                      "env":[{"name":"TZ","value":"UTC"}]}}},
    {"metadata":{"name":"local"},"spec":{"configuration":{"repositories":[{"type":"posix","destinationPath":"/backup"}]}}},
    {"metadata":{"name":"azure-store"},"spec":{"configuration":{"repositories":[{"bucket":"backups",
      "azureCredentials":{"account":{"name":"azure","key":"AZURE_STORAGE_ACCOUNT"},"key":{"name":"azure","key":"AZURE_STORAGE_KEY"}}},
      {"bucket":"gcs-backups","gcsCredentials":{"key":{"name":"gcs","key":"sa.json"}}}]}}}])");
  REQUIRE(archives.ok());
  return StaticArchiveCatalog(*archives);
}

const char* kCluster =
    R"({"apiVersion":"postgresql.cnpg.io/v1","kind":"Cluster","metadata":{"name":"cluster-example","namespace":"default"},
  "spec":{"instances":3,"imagePullPolicy":"IfNotPresent","plugins":[{"name":"pgbackrest.cnpg.opera.com","parameters":{"pgbackrestObjectName":"minio-store"}}]}})";

const char* kRecoveryCluster =
    R"({"metadata":{"name":"cluster-restore"},"spec":{"bootstrap":{"recovery":{"source":"source"}},
  "externalClusters":[{"name":"source","plugin":{"name":"pgbackrest.cnpg.opera.com",
    "parameters":{"pgbackrestObjectName":"local","stanza":"cluster-example"}}}]}})";

struct Injected {
  json original;
  json result;
  std::string patch;
};

Injected Inject(SidecarInjection& hook, const char* cluster, const std::string& object,
                LifecycleOperation op = LifecycleOperation::kEvaluate) {
  auto patch = hook.Mutate({op, cluster, object});
  REQUIRE_MESSAGE(patch.ok(), patch.status().message());
  json original = json::parse(object);
  json result = patch->empty() ? original : original.patch(json::parse(*patch));
  return {original, result, *patch};
}

// Every volumeMount of every container refers to a volume of the Pod spec.
void CheckMountsBacked(const json& spec) {
  std::set<std::string> volumes;
  for (const auto& v : spec["volumes"]) volumes.insert(v["name"]);
  for (const char* list : {"containers", "initContainers"})
    for (const auto& c : spec.value(list, json::array()))
      for (const auto& m : c.value("volumeMounts", json::array()))
        CHECK_MESSAGE(volumes.count(m["name"]), c["name"] << " mounts missing volume " << m["name"]);
}

int CountNamed(const json& list, const std::string& name) {
  int n = 0;
  for (const auto& e : list) n += e.value("name", "") == name;
  return n;
}

}  // namespace

TEST_CASE("Instance Pod: the native sidecar, the /plugins volume, nothing else changed") {
  auto catalog = Catalog();
  SidecarInjection hook({.image = "ghcr.io/cnpgi-pgbackrest/sidecar:0.1.0"}, &catalog);
  auto r = Inject(hook, kCluster, Fixture("instance-pod.json"));
  REQUIRE_FALSE(r.patch.empty());
  const json& spec = r.result["spec"];
  REQUIRE(CountNamed(spec["initContainers"], "plugin-pgbackrest") == 1);
  const json& sidecar = spec["initContainers"][1];
  CHECK(sidecar["name"] == "plugin-pgbackrest");
  CHECK(sidecar["restartPolicy"] == "Always");
  CHECK(sidecar["image"] == "ghcr.io/cnpgi-pgbackrest/sidecar:0.1.0");
  CHECK(sidecar["imagePullPolicy"] == "IfNotPresent");
  CHECK(sidecar["startupProbe"]["exec"]["command"][1] == "probe");
  CHECK(sidecar["securityContext"]["readOnlyRootFilesystem"] == true);
  CHECK(sidecar["securityContext"]["runAsNonRoot"] == true);
  CHECK(sidecar["securityContext"]["capabilities"]["drop"][0] == "ALL");
  CHECK(sidecar["resources"]["limits"]["memory"] == "2Gi");
  // The socket directory is shared, and every mount is backed by a volume.
  CHECK(CountNamed(spec["volumes"], "plugins") == 1);
  json postgres_mounts = spec["containers"][0]["volumeMounts"];
  CHECK(postgres_mounts.back() == json{{"name", "plugins"}, {"mountPath", "/plugins"}});
  CHECK(sidecar["volumeMounts"] == postgres_mounts);
  CheckMountsBacked(spec);
  // The configuration travels in the spec: Archive JSON and secretKeyRef env, never secret values.
  std::map<std::string, json> env;
  for (const auto& e : sidecar["env"]) env[e["name"]] = e;
  CHECK(env.at("PGDATA")["value"] == "/var/lib/postgresql/data/pgdata");
  CHECK(env.at("POD_NAME")["value"] == "cluster-example-1");
  CHECK(env.at("TZ")["value"] == "UTC");
  json archives = json::parse(env.at("CNPGI_PGBACKREST_ARCHIVES")["value"].get<std::string>());
  REQUIRE(archives.size() == 1);
  CHECK(archives[0]["metadata"]["name"] == "minio-store");
  CHECK_FALSE(archives[0]["metadata"].contains("resourceVersion"));
  CHECK(ParseArchiveList(archives.dump()).ok());
  CHECK(env.at("CNPGI_SECRET_minio_ACCESS_KEY_ID")["valueFrom"]["secretKeyRef"] ==
        json{{"name", "minio"}, {"key", "ACCESS_KEY_ID"}});
  CHECK(env.count("CNPGI_SECRET_minio_ACCESS_SECRET_KEY"));
  CHECK(env.count("CNPGI_SECRET_minio_ENCRYPTION_KEY"));
  CHECK(env.count("CNPGI_SECRET_minio-ca_ca.crt"));
  // Nothing else changed: undoing our three additions gives back the original.
  json undone = r.result;
  undone["spec"]["initContainers"].erase(1);
  undone["spec"]["volumes"].erase(undone["spec"]["volumes"].size() - 1);
  undone["spec"]["containers"][0]["volumeMounts"].erase(undone["spec"]["containers"][0]["volumeMounts"].size() - 1);
  CHECK(undone == r.original);
}

TEST_CASE("Azure and GCS repositories: their Secret keys reach the sidecar as secretKeyRef env") {
  auto catalog = Catalog();
  SidecarInjection hook({.image = "ghcr.io/cnpgi-pgbackrest/sidecar:0.1.0"}, &catalog);
  std::string cluster = kCluster;
  cluster.replace(cluster.find("minio-store"), 11, "azure-store");
  auto r = Inject(hook, cluster.c_str(), Fixture("instance-pod.json"));
  std::map<std::string, json> env;
  for (const auto& e : r.result["spec"]["initContainers"][1]["env"]) env[e["name"]] = e;
  CHECK(env.at("CNPGI_SECRET_azure_AZURE_STORAGE_ACCOUNT")["valueFrom"]["secretKeyRef"] ==
        json{{"name", "azure"}, {"key", "AZURE_STORAGE_ACCOUNT"}});
  CHECK(env.at("CNPGI_SECRET_azure_AZURE_STORAGE_KEY")["valueFrom"]["secretKeyRef"] ==
        json{{"name", "azure"}, {"key", "AZURE_STORAGE_KEY"}});
  CHECK(env.at("CNPGI_SECRET_gcs_sa.json")["valueFrom"]["secretKeyRef"] == json{{"name", "gcs"}, {"key", "sa.json"}});
}

TEST_CASE("EVALUATE then CREATE: deterministic, and idempotent on an already-patched Pod") {
  auto catalog = Catalog();
  SidecarInjection hook({.image = "img"}, &catalog);
  auto first = Inject(hook, kCluster, Fixture("instance-pod.json"));
  auto again = Inject(hook, kCluster, Fixture("instance-pod.json"));
  CHECK(first.patch == again.patch);
  auto create = Inject(hook, kCluster, first.result.dump(), LifecycleOperation::kCreate);
  CHECK(create.patch.empty());
}

TEST_CASE("In-Pod bootstrap (CNPG with #11319): the sidecar starts before bootstrap-instance") {
  auto catalog = Catalog();
  SidecarInjection hook({.image = "img"}, &catalog);
  auto r = Inject(hook, kRecoveryCluster, Fixture("bootstrap-pod.json"), LifecycleOperation::kCreate);
  const json& init = r.result["spec"]["initContainers"];
  REQUIRE(init.size() == 3);
  CHECK(init[0]["name"] == "bootstrap-controller");
  CHECK(init[1]["name"] == "plugin-pgbackrest");
  CHECK(init[2]["name"] == "bootstrap-instance");
  CheckMountsBacked(r.result["spec"]);
  // `instance restore` runs in bootstrap-instance and looks for the plugin's socket under /plugins.
  bool mounted = false;
  for (const auto& m : init[2]["volumeMounts"]) mounted |= m["name"] == "plugins" && m["mountPath"] == "/plugins";
  CHECK(mounted);
}

TEST_CASE("In-Pod bootstrap: a CREATE that EVALUATE never saw yields the spec EVALUATE then CREATE would") {
  auto catalog = Catalog();
  SidecarInjection hook({.image = "img"}, &catalog);
  auto create_only = Inject(hook, kRecoveryCluster, Fixture("bootstrap-pod.json"), LifecycleOperation::kCreate);
  auto evaluated = Inject(hook, kRecoveryCluster, Fixture("bootstrap-pod.json"), LifecycleOperation::kEvaluate);
  auto then_create = Inject(hook, kRecoveryCluster, evaluated.result.dump(), LifecycleOperation::kCreate);
  CHECK(then_create.patch.empty());
  CHECK(create_only.result == then_create.result);
}

TEST_CASE("Verbs the plugin does not subscribe to get an empty patch") {
  auto catalog = Catalog();
  SidecarInjection hook({.image = "img"}, &catalog);
  for (auto op : {LifecycleOperation::kDelete, LifecycleOperation::kPatch, LifecycleOperation::kUpdate,
                  LifecycleOperation::kUnspecified}) {
    auto pod = hook.Mutate({op, kCluster, Fixture("instance-pod.json")});
    REQUIRE(pod.ok());
    CHECK(pod->empty());
    auto job = hook.Mutate({op, kRecoveryCluster, Fixture("full-recovery-job.json")});
    REQUIRE(job.ok());
    CHECK(job->empty());
  }
  // Jobs are subscribed to on CREATE only.
  auto evaluate_job = hook.Mutate({LifecycleOperation::kEvaluate, kRecoveryCluster, Fixture("full-recovery-job.json")});
  REQUIRE(evaluate_job.ok());
  CHECK(evaluate_job->empty());
}

TEST_CASE("Hostile Pods: deep nesting is refused, odd types never throw") {
  auto catalog = Catalog();
  SidecarInjection hook({.image = "img"}, &catalog);
  std::string deep = R"({"kind":"Pod","metadata":{"annotations":{"x":)";
  for (int i = 0; i < 100000; ++i) deep += "[";
  for (int i = 0; i < 100000; ++i) deep += "]";
  deep += "}}}";
  auto refused = hook.Mutate({LifecycleOperation::kCreate, kCluster, deep});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(refused.status().message()).find("nested more than 10000 levels") != std::string::npos);
  // The Cluster is outside input too.
  std::string deep_cluster =
      R"({"metadata":{"name":"c"},"spec":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  CHECK(hook.Mutate({LifecycleOperation::kCreate, deep_cluster, Fixture("instance-pod.json")}).status().code() ==
        absl::StatusCode::kInvalidArgument);

  // Names that are not strings, containers that are not objects, env entries of any type.
  auto odd =
      hook.Mutate({LifecycleOperation::kCreate, kCluster,
                   R"({"kind":"Pod","spec":{"containers":[5,{"name":7},{"name":"postgres","env":[1,"x",{"name":3}],
                              "volumeMounts":"nope"}],"initContainers":[null,{"name":["x"]}],"volumes":{"a":1}}})"});
  REQUIRE_MESSAGE(odd.ok(), odd.status().message());
  CHECK_FALSE(odd->empty());
}

TEST_CASE("Recovery Job (CNPG <= 1.30): patched inside the Pod template, main container named after the role") {
  auto catalog = Catalog();
  SidecarInjection hook({.image = "img"}, &catalog);
  auto r = Inject(hook, kRecoveryCluster, Fixture("full-recovery-job.json"), LifecycleOperation::kCreate);
  const json& spec = r.result["spec"]["template"]["spec"];
  CHECK(CountNamed(spec["initContainers"], "plugin-pgbackrest") == 1);
  CHECK(spec["containers"][0]["name"] == "full-recovery");
  CHECK(spec["containers"][0]["volumeMounts"].back()["mountPath"] == "/plugins");
  CheckMountsBacked(spec);
  json env;
  for (const auto& e : spec["initContainers"][1]["env"])
    if (e["name"] == "CNPGI_PGBACKREST_ARCHIVES") env = json::parse(e["value"].get<std::string>());
  REQUIRE(env.size() == 1);
  CHECK(env[0]["metadata"]["name"] == "local");
  // Other Jobs are left alone.
  auto initdb = Inject(hook, kRecoveryCluster, Fixture("initdb-job.json"), LifecycleOperation::kCreate);
  CHECK(initdb.patch.empty());
}

TEST_CASE("Objects of Clusters that do not use the plugin get an empty patch; bad input a clear error") {
  auto catalog = Catalog();
  SidecarInjection hook({.image = "img"}, &catalog);
  auto other =
      hook.Mutate({LifecycleOperation::kEvaluate,
                   R"({"metadata":{"name":"other"},"spec":{"plugins":[{"name":"barman-cloud.cloudnative-pg.io"}]}})",
                   Fixture("instance-pod.json")});
  REQUIRE(other.ok());
  CHECK(other->empty());
  auto malformed = hook.Mutate({LifecycleOperation::kEvaluate, kCluster, "{\"kind\": \"Pod\", "});
  REQUIRE_FALSE(malformed.ok());
  CHECK(malformed.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(malformed.status().message()) == "object definition is not valid JSON");
  auto no_postgres =
      hook.Mutate({LifecycleOperation::kEvaluate, kCluster,
                   R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"x"},"spec":{"containers":[]}})"});
  REQUIRE_FALSE(no_postgres.ok());
  CHECK(std::string(no_postgres.status().message()) == "Pod has no container named postgres");
  auto unknown = hook.Mutate({LifecycleOperation::kEvaluate,
                              R"({"metadata":{"name":"c"},"spec":{"plugins":[{"name":"pgbackrest.cnpg.opera.com",
                                "parameters":{"pgbackrestObjectName":"nope"}}]}})",
                              Fixture("instance-pod.json")});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(unknown.status().message()).find("spec.plugins[0]: Archive 'nope'") == 0);
  auto bad_cluster = hook.Mutate({LifecycleOperation::kEvaluate, "not json", Fixture("instance-pod.json")});
  CHECK(bad_cluster.status().code() == absl::StatusCode::kInvalidArgument);
}
