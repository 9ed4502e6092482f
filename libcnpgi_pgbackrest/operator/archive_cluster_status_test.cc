#include "operator/archive_cluster_status.h"

#include <doctest/doctest.h>

using namespace cnpgi_pgbackrest;
using json = nlohmann::json;

namespace {

// An entry as the sidecar writes it into Archive.status.stanzaRecoveryWindow.
json Entry() {
  return json::parse(R"({
    "cluster":"cluster-example",
    "conditions":[
      {"type":"WALArchiving","status":"True","reason":"Archived","message":"","lastTransitionTime":"2026-12-01T10:00:00Z"},
      {"type":"RepositoryReachable","status":"True","reason":"InfoSucceeded","message":"","lastTransitionTime":"2026-12-01T09:00:00Z"},
      {"type":"LastBackupSucceeded","status":"False","reason":"BackupFailed","message":"disk full","lastTransitionTime":"2026-12-01T10:05:00Z"}],
    "repositories":[{"repo":1,"reachable":true,"backupSets":2,"backupBytes":52428800,"walBytes":16777216},
                    {"repo":2,"reachable":false,"message":"HostConnectError"}],
    "lastArchivedWALTime":"2026-12-01T10:10:00Z",
    "lastArchivedWAL":"00000001000000000000000A",
    "lastFailedBackup":"2026-12-01T10:05:00Z",
    "lastFailedBackupMessage":"disk full",
    "lastSuccessfulBackupId":"20261201-090000F",
    "lastSuccessfulBackup":"2026-12-01T09:01:00Z",
    "lastRecoverabilityPoint":"2026-12-01T10:10:00Z",
    "firstRecoverabilityPoint":"2026-11-30T09:01:00Z"})");
}

std::string Cluster(const std::string& stored_status = "", const std::string& uid = "uid-1") {
  json c = json::parse(R"({"kind":"Cluster","metadata":{"name":"cluster-example","namespace":"default"},
    "spec":{"plugins":[{"name":"pgbackrest.cnpg.opera.com","parameters":{"pgbackrestObjectName":"minio-store"}}]},
    "status":{"pluginStatus":[{"name":"barman-cloud.cloudnative-pg.io","status":"{\"x\":1}"},
                              {"name":"pgbackrest.cnpg.opera.com","capabilities":["TYPE_OPERATOR_SERVICE"]}]}})");
  c["metadata"]["uid"] = uid;
  if (!stored_status.empty()) c["status"]["pluginStatus"][1]["status"] = stored_status;
  return c.dump();
}

struct FakeArchives {
  json archive = {{"metadata", {{"name", "minio-store"}, {"namespace", "default"}}},
                  {"status", {{"stanzaRecoveryWindow", {{"cluster-example", Entry()}}}}}};
  absl::Status error;
  int reads = 0;
  ArchiveObjectReader Reader() {
    return [this](absl::string_view ns, absl::string_view name) -> absl::StatusOr<json> {
      ++reads;
      if (!error.ok()) return error;
      CHECK(ns == "default");
      CHECK(name == "minio-store");
      return archive;
    };
  }
};

}  // namespace

TEST_CASE("Cluster status: the compact JSON of a stanza entry, keys in a fixed order, from the entry alone") {
  std::string compact = CompactClusterStatus(Entry()).dump();
  CHECK(compact ==
        R"({"firstRecoverabilityPoint":"2026-11-30T09:01:00Z","lastRecoverabilityPoint":"2026-12-01T10:10:00Z",)"
        R"("lastSuccessfulBackup":"2026-12-01T09:01:00Z","lastSuccessfulBackupId":"20261201-090000F",)"
        R"("lastFailedBackup":"2026-12-01T10:05:00Z","lastArchivedWAL":"00000001000000000000000A",)"
        R"("lastArchivedWALTime":"2026-12-01T10:10:00Z",)"
        R"("repositories":[{"repo":1,"reachable":true,"backupBytes":52428800,"walBytes":16777216},)"
        R"({"repo":2,"reachable":false}],)"
        R"("conditions":{"RepositoryReachable":"True","LastBackupSucceeded":"False","WALArchiving":"True"}})");
  // Fields of a wrong type are left out, never thrown on; an entry with nothing to show is empty.
  json odd = {{"lastArchivedWAL", 5}, {"repositories", {1, {{"repo", "x"}}}}, {"conditions", "True"}};
  CHECK(CompactClusterStatus(odd).empty());
  CHECK(CompactClusterStatus(json()).empty());
  CHECK(CompactClusterStatus(json::array()).empty());
}

TEST_CASE("Cluster status: an equal stored status gives an empty answer, a change exactly one non-empty answer") {
  FakeArchives archives;
  ArchiveClusterStatus status("pgbackrest.cnpg.opera.com", archives.Reader());
  auto first = status.Compute(Cluster());
  REQUIRE(first.ok());
  REQUIRE_FALSE(first->empty());
  json answered = json::parse(*first);
  CHECK(answered["archive"] == "minio-store");
  CHECK(answered["stanza"] == "cluster-example");
  CHECK(answered["lastArchivedWAL"] == "00000001000000000000000A");
  CHECK(*first == status.Compute(Cluster("", "another-cluster-uid")).value());

  // CNPG stores the answer as the plugin's status: the next call answers nothing.
  CHECK(status.Compute(Cluster(*first)).value().empty());
  // Compared as JSON, not as bytes: the same object with its keys in another order is equal.
  CHECK(status.Compute(Cluster(json::parse(*first).dump(2))).value().empty());

  // New WAL archived: exactly one non-empty answer, then empty again.
  archives.archive["status"]["stanzaRecoveryWindow"]["cluster-example"]["lastArchivedWAL"] = "00000001000000000000000B";
  auto changed = status.Compute(Cluster(*first));
  REQUIRE(changed.ok());
  REQUIRE_FALSE(changed->empty());
  CHECK(json::parse(*changed)["lastArchivedWAL"] == "00000001000000000000000B");
  CHECK(status.Compute(Cluster(*changed)).value().empty());
  CHECK(status.Compute(Cluster(*changed)).value().empty());

  // Fields the Cluster status does not show (messages, backupSets) change nothing.
  archives.archive["status"]["stanzaRecoveryWindow"]["cluster-example"]["lastFailedBackupMessage"] = "other";
  CHECK(status.Compute(Cluster(*changed)).value().empty());
}

TEST_CASE("Cluster status: a host that clears the stored status (CNPG up to 1.30.0) is not answered again") {
  FakeArchives archives;
  ArchiveClusterStatus status("pgbackrest.cnpg.opera.com", archives.Reader());
  auto first = status.Compute(Cluster());
  REQUIRE_FALSE(first.value().empty());
  // The next loop starts with the status cleared: answering again would loop every 5 s.
  CHECK(status.Compute(Cluster()).value().empty());
  CHECK(status.Compute(Cluster()).value().empty());
  // A change is answered once, cleared or not.
  archives.archive["status"]["stanzaRecoveryWindow"]["cluster-example"]["lastArchivedWAL"] = "00000001000000000000000C";
  CHECK_FALSE(status.Compute(Cluster()).value().empty());
  CHECK(status.Compute(Cluster()).value().empty());
  // A Cluster showing another (older) status than the last answer gets the answer again.
  CHECK_FALSE(status.Compute(Cluster(*first)).value().empty());
}

TEST_CASE("Cluster status: no entry for the stanza, an unreadable Archive or no Archive use: an empty answer") {
  FakeArchives archives;
  ArchiveClusterStatus status("pgbackrest.cnpg.opera.com", archives.Reader());
  archives.archive["status"]["stanzaRecoveryWindow"].erase("cluster-example");
  archives.archive["status"]["stanzaRecoveryWindow"]["other-cluster"] = Entry();
  CHECK(status.Compute(Cluster()).value().empty());
  archives.archive.erase("status");
  CHECK(status.Compute(Cluster()).value().empty());
  archives.error = absl::UnavailableError("connection refused");
  CHECK(status.Compute(Cluster()).value().empty());
  archives.error = absl::PermissionDeniedError("forbidden");
  CHECK(status.Compute(Cluster()).value().empty());
  int reads = archives.reads;
  CHECK(status.Compute(R"({"kind":"Cluster","metadata":{"name":"plain","namespace":"default"},"spec":{}})")
            .value()
            .empty());
  CHECK(archives.reads == reads);  // a Cluster that does not archive through us costs no API call
  CHECK(status.Compute("{\"kind\":").status().code() == absl::StatusCode::kInvalidArgument);
}
