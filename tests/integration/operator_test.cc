// The operator-side host as CNPG's operator uses it: mutual TLS over TCP, the identity handshake,
// EVALUATE then CREATE on real CNPG object JSON, reconciler hooks, certificate rotation.
#include <atomic>
#include <fcntl.h>
#include <fstream>
#include <set>
#include <signal.h>
#include <thread>
#include <unistd.h>

#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>
#include <sys/wait.h>

#include "harness.h"
#include "identity.grpc.pb.h"
#include "operator_host.h"
#include "operator_lifecycle.grpc.pb.h"
#include "reconciler.grpc.pb.h"

using namespace cnpgi_it;
namespace id = cnpgi::identity::v1;
namespace lc = cnpgi::operator_lifecycle::v1;
namespace rc = cnpgi::reconciler::v1;

namespace {

using cnpgi_pgbackrest::InheritedEnvironment;
using cnpgi_pgbackrest::RunProcess;

std::string Fixture(const std::string& name) { return ReadFile(std::string(CNPGI_FIXTURES_DIR) + "/" + name); }

grpc::Status Metadata(const std::shared_ptr<grpc::Channel>& channel, id::GetPluginMetadataResponse* out) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return id::Identity::NewStub(channel)->GetPluginMetadata(&ctx, {}, out);
}

const char* kCluster = R"({"apiVersion":"postgresql.cnpg.io/v1","kind":"Cluster",
  "metadata":{"name":"cluster-example","namespace":"default"},"spec":{"instances":3,
  "plugins":[{"name":"pgbackrest.cnpg.opera.com","parameters":{"pgbackrestObjectName":"minio-store"}}]}})";

}  // namespace

TEST_CASE("The operator-side host: mutual TLS, the identity handshake, EVALUATE then CREATE, reconciler hooks") {
  OperatorHost host;
  auto channel = host.Channel("client");
  id::GetPluginMetadataResponse meta;
  REQUIRE_MESSAGE(Metadata(channel, &meta).ok(), ReadFile(host.dir / "operator.log"));
  CHECK(meta.name() == "pgbackrest.cnpg.opera.com");

  auto identity = id::Identity::NewStub(channel);
  grpc::ClientContext c1;
  id::GetPluginCapabilitiesResponse caps;
  REQUIRE(identity->GetPluginCapabilities(&c1, {}, &caps).ok());
  std::set<int> services;
  for (const auto& c : caps.capabilities()) services.insert(c.service().type());
  CHECK(services == std::set<int>{id::PluginCapability::Service::TYPE_OPERATOR_SERVICE,
                                  id::PluginCapability::Service::TYPE_LIFECYCLE_SERVICE,
                                  id::PluginCapability::Service::TYPE_RECONCILER_HOOKS,
                                  id::PluginCapability::Service::TYPE_INSTANCE_SIDECAR_INJECTION});

  auto lifecycle = lc::OperatorLifecycle::NewStub(channel);
  grpc::ClientContext c2;
  lc::OperatorLifecycleCapabilitiesResponse lcaps;
  REQUIRE(lifecycle->GetCapabilities(&c2, {}, &lcaps).ok());
  REQUIRE(lcaps.lifecycle_capabilities_size() == 2);
  CHECK(lcaps.lifecycle_capabilities(0).group() == "");
  CHECK(lcaps.lifecycle_capabilities(0).kind() == "Pod");
  CHECK(lcaps.lifecycle_capabilities(0).operation_types_size() == 2);
  CHECK(lcaps.lifecycle_capabilities(1).group() == "batch");
  CHECK(lcaps.lifecycle_capabilities(1).kind() == "Job");

  grpc::ClientContext c3;
  id::ProbeResponse probe;
  CHECK(identity->Probe(&c3, {}, &probe).ok());

  // EVALUATE on the Pod CNPG computes, then CREATE on the evaluated Pod: the second patch is empty.
  lc::OperatorLifecycleRequest evaluate;
  evaluate.mutable_operation_type()->set_type(lc::OperatorOperationType::TYPE_EVALUATE);
  evaluate.set_cluster_definition(kCluster);
  evaluate.set_object_definition(Fixture("instance-pod.json"));
  grpc::ClientContext c4;
  lc::OperatorLifecycleResponse evaluated;
  REQUIRE(lifecycle->LifecycleHook(&c4, evaluate, &evaluated).ok());
  json pod = json::parse(Fixture("instance-pod.json")).patch(json::parse(evaluated.json_patch()));
  int sidecars = 0;
  for (const auto& c : pod["spec"]["initContainers"]) sidecars += c["name"] == "plugin-pgbackrest";
  CHECK(sidecars == 1);
  lc::OperatorLifecycleRequest create = evaluate;
  create.mutable_operation_type()->set_type(lc::OperatorOperationType::TYPE_CREATE);
  create.set_object_definition(pod.dump());
  grpc::ClientContext c5;
  lc::OperatorLifecycleResponse created;
  REQUIRE(lifecycle->LifecycleHook(&c5, create, &created).ok());
  CHECK(created.json_patch().empty());

  // Malformed object JSON is INVALID_ARGUMENT, never a crash.
  lc::OperatorLifecycleRequest broken = evaluate;
  broken.set_object_definition("{\"kind\":");
  grpc::ClientContext c6;
  lc::OperatorLifecycleResponse nothing;
  auto bad = lifecycle->LifecycleHook(&c6, broken, &nothing);
  CHECK(bad.error_code() == grpc::StatusCode::INVALID_ARGUMENT);

  // Reconciler: a Cluster naming a missing Archive waits (REQUEUE); a complete one continues.
  auto reconciler = rc::ReconcilerHooks::NewStub(channel);
  rc::ReconcilerHooksRequest pre;
  pre.set_cluster_definition(kCluster);
  pre.set_resource_definition(kCluster);
  grpc::ClientContext c7;
  rc::ReconcilerHooksResult ok;
  REQUIRE(reconciler->Pre(&c7, pre, &ok).ok());
  CHECK(ok.behavior() == rc::ReconcilerHooksResult::BEHAVIOR_CONTINUE);
  json missing = json::parse(kCluster);
  missing["spec"]["plugins"][0]["parameters"]["pgbackrestObjectName"] = "not-created-yet";
  pre.set_cluster_definition(missing.dump());
  grpc::ClientContext c8;
  rc::ReconcilerHooksResult wait;
  REQUIRE(reconciler->Pre(&c8, pre, &wait).ok());
  CHECK(wait.behavior() == rc::ReconcilerHooksResult::BEHAVIOR_REQUEUE);
  CHECK(wait.requeue_after() > 0);
  CHECK(ReadFile(host.dir / "operator.log").find("Archive 'not-created-yet'") != std::string::npos);
}

TEST_CASE("Hostile or unexpected requests to the operator host: clear statuses, empty patches, no crash") {
  OperatorHost host;
  auto channel = host.Channel("client");
  id::GetPluginMetadataResponse meta;
  REQUIRE_MESSAGE(Metadata(channel, &meta).ok(), ReadFile(host.dir / "operator.log"));
  auto lifecycle = lc::OperatorLifecycle::NewStub(channel);
  auto reconciler = rc::ReconcilerHooks::NewStub(channel);
  const std::string deep_array = std::string(100000, '[') + std::string(100000, ']');
  std::string deep_pod = Fixture("instance-pod.json");
  deep_pod.insert(deep_pod.rfind('}'), ",\"x\":" + deep_array);
  std::string deep_cluster = kCluster;
  deep_cluster.insert(deep_cluster.rfind('}'), ",\"x\":" + deep_array);

  // Documents nested 100,000 levels deep used to end the host (stack overflow while copying).
  for (const auto& [cluster, object] :
       {std::pair{std::string(kCluster), deep_pod}, std::pair{deep_cluster, Fixture("instance-pod.json")}}) {
    lc::OperatorLifecycleRequest req;
    req.mutable_operation_type()->set_type(lc::OperatorOperationType::TYPE_CREATE);
    req.set_cluster_definition(cluster);
    req.set_object_definition(object);
    grpc::ClientContext ctx;
    lc::OperatorLifecycleResponse res;
    auto st = lifecycle->LifecycleHook(&ctx, req, &res);
    CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(st.error_message().find("nested more than 10000 levels") != std::string::npos);
  }
  for (const auto& [cluster, resource] :
       {std::pair{deep_cluster, std::string(kCluster)}, std::pair{std::string(kCluster), deep_cluster}}) {
    rc::ReconcilerHooksRequest pre;
    pre.set_cluster_definition(cluster);
    pre.set_resource_definition(resource);
    grpc::ClientContext ctx;
    rc::ReconcilerHooksResult res;
    CHECK(reconciler->Pre(&ctx, pre, &res).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  }

  // Verbs the plugin did not subscribe to: an empty patch, not the injection.
  for (auto verb : {lc::OperatorOperationType::TYPE_DELETE, lc::OperatorOperationType::TYPE_PATCH}) {
    lc::OperatorLifecycleRequest req;
    req.mutable_operation_type()->set_type(verb);
    req.set_cluster_definition(kCluster);
    req.set_object_definition(Fixture("instance-pod.json"));
    grpc::ClientContext ctx;
    lc::OperatorLifecycleResponse res;
    REQUIRE(lifecycle->LifecycleHook(&ctx, req, &res).ok());
    CHECK(res.json_patch().empty());
  }

  // The host is still there and serving.
  REQUIRE(Metadata(channel, &meta).ok());
  CHECK(meta.name() == "pgbackrest.cnpg.opera.com");
}

TEST_CASE("Clients without the trusted certificate are refused; a rotated trust takes effect without a restart") {
  OperatorHost host;
  id::GetPluginMetadataResponse meta;
  CHECK(Metadata(host.Channel(""), &meta).error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(Metadata(host.Channel("intruder"), &meta).error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(Metadata(host.Channel("client2"), &meta).error_code() == grpc::StatusCode::UNAVAILABLE);
  REQUIRE(Metadata(host.Channel("client"), &meta).ok());

  // cert-manager rotates the client Secret: the new certificate is trusted, the old one no longer.
  host.dir.WriteFile("trusted.crt", ReadFile(host.dir / "client2.crt"));
  bool rotated = false;
  for (int i = 0; i < 60 && !rotated; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    rotated = Metadata(host.Channel("client2"), &meta).ok();
  }
  CHECK(rotated);
  CHECK(Metadata(host.Channel("client"), &meta).error_code() == grpc::StatusCode::UNAVAILABLE);
}

namespace {

// An openssl s_client handshake against the host; returns its output.
ProcessResult Handshake(const OperatorHost& host, const std::string& extra, const std::string& pipe = "") {
  auto r = RunProcess({.argv = {"bash", "-c",
                                "cd " + host.dir.path() + " && openssl s_client -connect 127.0.0.1:" +
                                    std::to_string(host.port) + " -CAfile ca.crt -cert client2.crt -key client2.key " +
                                    "-alpn h2 " + extra + " </dev/null 2>&1" + pipe},
                       .env = InheritedEnvironment(),
                       .timeout = std::chrono::seconds(20)});
  REQUIRE(r.ok());
  return *r;
}

}  // namespace

TEST_CASE("TLS 1.3 only, and a rotated server certificate is served without a restart") {
  OperatorHost host;
  host.dir.WriteFile("trusted.crt", ReadFile(host.dir / "client2.crt"));
  auto tls13 = Handshake(host, "");
  CHECK(tls13.out.find("Verify return code: 0 (ok)") != std::string::npos);
  CHECK(tls13.out.find("ALPN protocol: h2") != std::string::npos);
  CHECK(tls13.out.find("TLSv1.3") != std::string::npos);

  auto tls12 = Handshake(host, "-tls1_2");
  CHECK(tls12.exit_code != 0);
  CHECK(tls12.out.find("alert protocol version") != std::string::npos);
  CHECK(ReadFile(host.dir / "operator.log").find("TLS handshake refused") != std::string::npos);

  std::string serial_before = Handshake(host, "", " | openssl x509 -noout -serial").out;
  Openssl(host.dir.path(),
          "openssl req -newkey rsa:2048 -nodes -keyout new.key -out new.csr -subj /CN=pgbackrest 2>/dev/null;"
          "openssl x509 -req -in new.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out new.crt -days 2 "
          "-extfile ext 2>/dev/null; cp new.key server.key; cp new.crt server.crt");
  std::string serial_after = Handshake(host, "", " | openssl x509 -noout -serial").out;
  CHECK(serial_before.find("serial=") != std::string::npos);
  CHECK(serial_after.find("serial=") != std::string::npos);
  CHECK(serial_before != serial_after);
  id::GetPluginMetadataResponse meta;
  CHECK(Metadata(host.Channel("client2"), &meta).ok());
}

TEST_CASE("Two replicas of the operator Deployment both serve CNPG-I, and one killed does not interrupt the other") {
  OperatorHost first;
  OperatorHost second(&first);
  // CNPG's operator keeps one channel to the Service; either replica may be behind it.
  auto survivor = second.Channel("client");
  auto victim = first.Channel("client");
  id::GetPluginMetadataResponse meta;
  REQUIRE_MESSAGE(Metadata(victim, &meta).ok(), ReadFile(first.dir / "operator.log"));
  REQUIRE_MESSAGE(Metadata(survivor, &meta).ok(), ReadFile(second.dir / "operator.log"));

  // The survivor keeps answering lifecycle calls in a loop while the other replica is SIGKILLed.
  lc::OperatorLifecycleRequest evaluate;
  evaluate.mutable_operation_type()->set_type(lc::OperatorOperationType::TYPE_EVALUATE);
  evaluate.set_cluster_definition(kCluster);
  evaluate.set_object_definition(Fixture("instance-pod.json"));
  std::atomic<bool> stop{false};
  std::atomic<int> calls{0}, after_kill{0};
  std::atomic<bool> killed{false};
  std::vector<std::string> failures;
  std::thread loop([&] {
    auto lifecycle = lc::OperatorLifecycle::NewStub(survivor);
    while (!stop) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      lc::OperatorLifecycleResponse patched;
      auto s = lifecycle->LifecycleHook(&ctx, evaluate, &patched);
      if (!s.ok() || patched.json_patch().empty())
        failures.push_back(std::to_string(s.error_code()) + " " + s.error_message());
      ++calls;
      if (killed) ++after_kill;
    }
  });
  REQUIRE(WaitUntil([&] { return calls >= 20; }, std::chrono::seconds(60), std::chrono::milliseconds(10)));
  first.daemon->Stop(SIGKILL);
  killed = true;
  // The killed replica is gone for good; a new channel to it is refused.
  CHECK_FALSE(Metadata(first.Channel("client"), &meta).ok());
  bool kept_on = WaitUntil([&] { return after_kill >= 100; }, std::chrono::seconds(120), std::chrono::milliseconds(10));
  stop = true;
  loop.join();
  CHECK(kept_on);
  CHECK_MESSAGE(failures.empty(), failures.size()
                                      << " failed calls, the first: " << (failures.empty() ? "" : failures[0]));
  MESSAGE(calls.load() << " lifecycle calls answered by the survivor, " << after_kill.load()
                       << " after the other replica was killed");
  CHECK(Metadata(survivor, &meta).ok());
  CHECK(Metadata(second.Channel("client"), &meta).ok());
}
