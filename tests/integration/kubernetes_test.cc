// The Kubernetes API client and the Archive catalog against a local HTTPS server that answers like
// kube-apiserver (no real API server can run here).
#include <fcntl.h>
#include <signal.h>
#include <thread>
#include <unistd.h>

#include <doctest/doctest.h>
#include <sys/wait.h>

#include "harness.h"
#include "kubernetes/client.h"
#include "kubernetes/kubernetes_archive_catalog.h"
#include "kubernetes/leader_lease.h"

using namespace cnpgi_it;
using namespace cnpgi_pgbackrest;

TEST_CASE("In-cluster configuration comes from the Pod's environment and service account files") {
  unsetenv("KUBERNETES_SERVICE_HOST");
  auto missing = KubernetesConfig::InCluster();
  CHECK(missing.status().code() == absl::StatusCode::kFailedPrecondition);
  setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto c = KubernetesConfig::InCluster("/sa");
  REQUIRE(c.ok());
  CHECK(c->server == "https://10.96.0.1:443");
  CHECK(c->token_file == "/sa/token");
  CHECK(c->ca_file == "/sa/ca.crt");
  setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  CHECK(KubernetesConfig::InCluster("/sa")->server == "https://[fd00::1]:443");
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
}

TEST_CASE("GET and PATCH of namespaced objects, and the API's errors as clear statuses") {
  FakeApiServer api;
  KubernetesClient client(api.Config());
  auto archive = client.Get("/apis/pgbackrest.cnpg.opera.com/v1/namespaces/default/archives/minio-store");
  REQUIRE_MESSAGE(archive.ok(), archive.status().message());
  CHECK((*archive)["metadata"]["resourceVersion"] == "4711");

  const std::string status_path = "/apis/pgbackrest.cnpg.opera.com/v1/namespaces/default/archives/minio-store/status";
  auto patched = client.MergePatch(
      status_path,
      {{"status", {{"stanzaRecoveryWindow", {{"a", {{"lastArchivedWAL", "000000010000000000000003"}}}}}}}});
  REQUIRE_MESSAGE(patched.ok(), patched.status().message());
  CHECK((*patched)["status"]["stanzaRecoveryWindow"]["a"]["lastArchivedWAL"] == "000000010000000000000003");
  CHECK((*patched)["metadata"]["resourceVersion"] == "4712");
  // A merge patch: another stanza's entry is added beside, nested fields merge, null deletes.
  patched = client.MergePatch(
      status_path, {{"status",
                     {{"stanzaRecoveryWindow",
                       {{"b", {{"cluster", "other"}}}, {"a", {{"lastArchivedWAL", nullptr}, {"cluster", "one"}}}}}}}});
  REQUIRE(patched.ok());
  CHECK((*patched)["status"]["stanzaRecoveryWindow"] ==
        nlohmann::json{{"a", {{"cluster", "one"}}}, {"b", {{"cluster", "other"}}}});
  CHECK((*patched)["metadata"]["resourceVersion"] == "4713");
  // The status subresource: a PATCH of the object itself leaves the status alone.
  auto main_patch = client.MergePatch("/apis/pgbackrest.cnpg.opera.com/v1/namespaces/default/archives/minio-store",
                                      {{"status", nullptr}, {"metadata", {{"labels", {{"x", "y"}}}}}});
  REQUIRE(main_patch.ok());
  CHECK((*main_patch)["status"]["stanzaRecoveryWindow"].size() == 2);

  auto missing = client.Get("/apis/pgbackrest.cnpg.opera.com/v1/namespaces/default/archives/nope");
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(
      std::string(missing.status().message()).find("HTTP 404: archives.pgbackrest.cnpg.opera.com \"nope\" not found") !=
      std::string::npos);
  auto forbidden = client.Get("/apis/pgbackrest.cnpg.opera.com/v1/namespaces/locked/archives/x");
  CHECK(forbidden.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(std::string(forbidden.status().message()).find("cannot get resource \"archives\"") != std::string::npos);
  auto conflict = client.MergePatch("/apis/pgbackrest.cnpg.opera.com/v1/namespaces/default/archives/conflict", {});
  CHECK(conflict.status().code() == absl::StatusCode::kAborted);
  auto slow = client.Get("/slow");
  CHECK(slow.status().code() == absl::StatusCode::kDeadlineExceeded);

  // The token is re-read on every request: a rotated token works, the old one is rejected.
  api.dir.WriteFile("token", "token-2\n");
  auto stale =
      KubernetesClient({api.Config().server, api.Config().ca_file, api.dir / "old-token", std::chrono::seconds(2)});
  api.dir.WriteFile("old-token", "token-1\n");
  CHECK(stale.Get("/apis/pgbackrest.cnpg.opera.com/v1/namespaces/default/archives/minio-store").status().code() ==
        absl::StatusCode::kUnauthenticated);
  CHECK(client.Get("/apis/pgbackrest.cnpg.opera.com/v1/namespaces/default/archives/minio-store").ok());

  // A server whose certificate the CA file does not vouch for is refused.
  KubernetesConfig wrong_ca = api.Config();
  wrong_ca.ca_file = "/etc/ssl/certs/ca-certificates.crt";
  CHECK(KubernetesClient(wrong_ca).Get("/slow").status().code() == absl::StatusCode::kUnavailable);
}

TEST_CASE("The Archive catalog reads from the API and keeps working through an API outage") {
  FakeApiServer api;
  KubernetesClient client(api.Config());
  KubernetesArchiveCatalog catalog(&client);
  auto archive = catalog.Get("default", "minio-store");
  REQUIRE_MESSAGE(archive.ok(), archive.status().message());
  CHECK(archive->repositories[0].bucket == "backups");
  CHECK_FALSE(archive->definition["metadata"].contains("resourceVersion"));
  auto missing = catalog.Get("default", "nope");
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(missing.status().message()) == "Archive 'nope' does not exist in namespace 'default'");
  auto forbidden = catalog.Get("locked", "x");
  CHECK(forbidden.status().code() == absl::StatusCode::kPermissionDenied);

  api.Stop();  // the API server goes away
  auto cached = catalog.Get("default", "minio-store");
  REQUIRE(cached.ok());
  CHECK(cached->repositories[0].bucket == "backups");
  CHECK(catalog.Get("default", "never-read").status().code() == absl::StatusCode::kUnavailable);
}

TEST_CASE(
    "Leader election over a Lease: one leader of two, a killed leader replaced after expiry, a release hands over at "
    "once") {
  FakeApiServer api;
  KubernetesClient client(api.Config());
  auto options = [](const std::string& pod) {
    return LeaseOptions{.namespace_name = "cnpg-system",
                        .name = "pgbackrest-sync",
                        .identity = pod,
                        .duration = std::chrono::seconds(2)};
  };
  LeaderLease a(&client, options("pgbackrest-7d9f-a"));
  auto b = std::make_unique<LeaderLease>(&client, options("pgbackrest-7d9f-b"));

  // Two candidates start together, round after round: exactly one leads each round.
  for (int round = 0; round < 5; ++round) {
    absl::StatusOr<bool> won_a, won_b;
    std::thread ta([&] { won_a = a.TryAcquireOrRenew(); });
    std::thread tb([&] { won_b = b->TryAcquireOrRenew(); });
    ta.join();
    tb.join();
    REQUIRE_MESSAGE(won_a.ok(), won_a.status().message());
    REQUIRE_MESSAGE(won_b.ok(), won_b.status().message());
    CHECK_MESSAGE(*won_a != *won_b, "round " << round << ": a " << *won_a << ", b " << *won_b);
    CHECK(a.leading() == *won_a);
    CHECK(b->leading() == *won_b);
  }
  // The Lease says who: holderIdentity is the leader's Pod name.
  LeaderLease* leader = a.leading() ? &a : b.get();
  LeaderLease* other = a.leading() ? b.get() : &a;
  auto lease = client.Get(a.path());
  REQUIRE(lease.ok());
  CHECK((*lease)["spec"]["holderIdentity"] == (leader == &a ? "pgbackrest-7d9f-a" : "pgbackrest-7d9f-b"));
  CHECK((*lease)["spec"]["leaseDurationSeconds"] == 2);

  // A write with a resourceVersion read before the leader's renewal is refused: 409.
  json stale = *lease;
  REQUIRE(leader->TryAcquireOrRenew().value());
  stale["spec"]["holderIdentity"] = "intruder";
  auto refused = client.Replace(a.path(), stale);
  CHECK(refused.status().code() == absl::StatusCode::kAborted);
  CHECK(std::string(refused.status().message()).find("the object has been modified") != std::string::npos);
  auto duplicate = client.Create("/apis/coordination.k8s.io/v1/namespaces/cnpg-system/leases", stale);
  CHECK(duplicate.status().code() == absl::StatusCode::kAborted);

  // The leader is killed: it stops renewing. The other keeps trying; it leads only once the lease
  // has gone unrenewed for its duration, and then within a few rounds.
  auto last_renewal = std::chrono::steady_clock::now();
  REQUIRE(leader->TryAcquireOrRenew().value());
  bool took_over = WaitUntil([&] { return other->TryAcquireOrRenew().value_or(false); }, std::chrono::seconds(30),
                             std::chrono::milliseconds(200));
  auto taken = std::chrono::steady_clock::now();
  REQUIRE(took_over);
  CHECK(taken - last_renewal >= std::chrono::seconds(2));  // never two leaders: expiry comes first
  CHECK_FALSE(leader->leading());                          // the old leader's own view has expired too
  lease = client.Get(a.path());
  CHECK((*lease)["spec"]["holderIdentity"] == (other == &a ? "pgbackrest-7d9f-a" : "pgbackrest-7d9f-b"));
  CHECK((*lease)["spec"]["leaseTransitions"] == 1);
  // The old leader comes back: it finds the Lease held and follows.
  CHECK_FALSE(leader->TryAcquireOrRenew().value());
  CHECK(other->TryAcquireOrRenew().value());

  // A leader shutting down releases: the follower takes over at its next round, without waiting.
  REQUIRE(other->Release().ok());
  CHECK_FALSE(other->leading());
  CHECK(leader->TryAcquireOrRenew().value());
  CHECK(client.Get(a.path()).value()["spec"]["leaseTransitions"] == 2);
}
