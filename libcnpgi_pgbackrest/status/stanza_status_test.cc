#include "status/stanza_status.h"

#include <fstream>
#include <sstream>

#include <doctest/doctest.h>

using namespace cnpgi_pgbackrest;
using json = nlohmann::json;

namespace {

// `pgbackrest info --output=json` of pgBackRest 2.45 for a stanza with two posix repositories:
// a full and an incremental backup in repo1, none in repo2 (tests/fixtures).
RepositoryState StateFrom(const std::string& fixture, std::map<int, int64_t> wal_bytes = {}) {
  std::ifstream in(std::string(CNPGI_FIXTURES_DIR) + "/" + fixture);
  std::stringstream text;
  text << in.rdbuf();
  RepositoryState state;
  auto stanza = StanzaOfInfoOutput(text.str(), "demo");
  REQUIRE(stanza.ok());
  state.catalog = ParseStanzaInfo(*stanza);
  REQUIRE(state.catalog.ok());
  state.wal_bytes = std::move(wal_bytes);
  return state;
}

json ConditionOf(const json& entry, const std::string& type) {
  for (const auto& c : entry["conditions"])
    if (c["type"] == type) return c;
  FAIL("no condition ", type);
  return {};
}

StanzaFacts Archiving() {
  StanzaFacts f;
  f.cluster = "cluster-example";
  f.repositories = 2;
  f.last_archived_wal = "000000010000000000000005";
  f.last_archived_unix = 1796128980;
  return f;
}

constexpr int64_t kNow = 1796129000;

}  // namespace

TEST_CASE("RFC 3339 UTC times both ways") {
  CHECK(Rfc3339(1796128969) == "2026-12-01T12:42:49Z");
  CHECK(ParseRfc3339("2026-12-01T12:42:49Z") == 1796128969);
  CHECK(ParseRfc3339("2026-12-01T13:42:49+01:00") == 1796128969);
  CHECK(ParseRfc3339("") == 0);
  CHECK(ParseRfc3339("yesterday") == 0);
}

TEST_CASE("The recovery window, backups and repositories come from pgbackrest info") {
  json e = BuildStanzaStatus(Archiving(), StateFrom("pgbackrest-info-two-repos.json", {{1, 1641725}, {2, 1641725}}),
                             json::object(), kNow);
  CHECK(e["cluster"] == "cluster-example");
  CHECK(e["firstRecoverabilityPoint"] == "2026-12-01T12:42:49Z");  // stop of the oldest backup
  CHECK(e["lastSuccessfulBackup"] == "2026-12-01T12:42:52Z");
  CHECK(e["lastSuccessfulBackupId"] == "20261201-124247F_20261201-124250I");
  CHECK(e["lastArchivedWAL"] == "000000010000000000000005");
  CHECK(e["lastArchivedWALTime"] == "2026-12-01T12:43:00Z");
  CHECK(e["lastRecoverabilityPoint"] == "2026-12-01T12:43:00Z");  // the newer of WAL and backup
  CHECK_FALSE(e.contains("lastFailedBackup"));
  CHECK_FALSE(e.contains("lastFailedWAL"));
  REQUIRE(e["repositories"].size() == 2);
  // repo1: the full set's repository delta plus the incremental's (not the incremental's size,
  // which counts the files it references in the full one again).
  CHECK(e["repositories"][0] == json{{"repo", 1},
                                     {"reachable", true},
                                     {"backupSets", 2},
                                     {"backupBytes", 3043470 + 204456},
                                     {"walBytes", 1641725}});
  CHECK(e["repositories"][1] ==
        json{{"repo", 2}, {"reachable", true}, {"backupSets", 0}, {"backupBytes", 0}, {"walBytes", 1641725}});
  json reachable = ConditionOf(e, kRepositoryReachable);
  CHECK(reachable["status"] == "True");
  CHECK(reachable["reason"] == "Reachable");
  CHECK(reachable["lastTransitionTime"] == Rfc3339(kNow));
  CHECK(ConditionOf(e, kLastBackupSucceeded)["status"] == "True");
  CHECK(ConditionOf(e, kLastBackupSucceeded)["reason"] == "BackupSucceeded");
  CHECK(ConditionOf(e, kWalArchiving)["status"] == "True");
  CHECK(ConditionOf(e, kWalArchiving)["reason"] == "Archiving");
}

TEST_CASE("An unreachable repository is reported with pgBackRest's message and keeps its last figures") {
  json before = BuildStanzaStatus(Archiving(), StateFrom("pgbackrest-info-two-repos.json", {{1, 100}, {2, 200}}),
                                  json::object(), kNow);
  json e = BuildStanzaStatus(Archiving(), StateFrom("pgbackrest-info-repo2-unreachable.json", {{1, 150}}), before,
                             kNow + 60);
  REQUIRE(e["repositories"].size() == 2);
  CHECK(e["repositories"][0]["reachable"] == true);
  CHECK(e["repositories"][0]["walBytes"] == 150);
  json repo2 = e["repositories"][1];
  CHECK(repo2["reachable"] == false);
  CHECK(repo2["message"].get<std::string>().find("Permission denied") != std::string::npos);
  CHECK(repo2["walBytes"] == 200);  // unreachable is not empty
  CHECK(repo2["backupSets"] == 0);
  json reachable = ConditionOf(e, kRepositoryReachable);
  CHECK(reachable["status"] == "False");
  CHECK(reachable["reason"] == "Unreachable");
  CHECK(reachable["message"].get<std::string>().rfind("repo2: [PathOpenError]", 0) == 0);
  CHECK(reachable["lastTransitionTime"] == Rfc3339(kNow + 60));

  // pgbackrest info failing altogether: every repository of the spec unreachable, backups as last known.
  RepositoryState down;
  down.catalog = absl::UnavailableError("pgbackrest info: [039]: repository down");
  json d = BuildStanzaStatus(Archiving(), down, e, kNow + 120);
  CHECK(d["lastSuccessfulBackupId"] == "20261201-124247F_20261201-124250I");
  CHECK(d["firstRecoverabilityPoint"] == "2026-12-01T12:42:49Z");
  REQUIRE(d["repositories"].size() == 2);
  CHECK(d["repositories"][0]["reachable"] == false);
  CHECK(d["repositories"][0]["backupSets"] == 2);
  CHECK(ConditionOf(d, kRepositoryReachable)["reason"] == "InfoFailed");
  // Still False: the transition time stays the one of the first failure.
  CHECK(ConditionOf(d, kRepositoryReachable)["lastTransitionTime"] == Rfc3339(kNow + 60));
}

TEST_CASE("Conditions keep their transition time while their status holds; nothing changed, the same entry") {
  RepositoryState state = StateFrom("pgbackrest-info-two-repos.json", {{1, 100}, {2, 100}});
  json first = BuildStanzaStatus(Archiving(), state, json::object(), kNow);
  json again = BuildStanzaStatus(Archiving(), state, first, kNow + 600);
  CHECK(again == first);  // the publisher writes nothing then

  // A failed backup: the last-failed fields and LastBackupSucceeded move, the others keep their times.
  StanzaFacts failed = Archiving();
  failed.last_failed_backup_unix = kNow + 700;
  failed.last_backup_failure = "backup nightly: pgbackrest exited with code 47: [047]: unable to create path";
  json after = BuildStanzaStatus(failed, state, again, kNow + 700);
  CHECK(after["lastFailedBackup"] == Rfc3339(kNow + 700));
  CHECK(after["lastFailedBackupMessage"] == failed.last_backup_failure);
  json backup = ConditionOf(after, kLastBackupSucceeded);
  CHECK(backup["status"] == "False");
  CHECK(backup["reason"] == "BackupFailed");
  CHECK(backup["message"] == failed.last_backup_failure);
  CHECK(backup["lastTransitionTime"] == Rfc3339(kNow + 700));
  CHECK(ConditionOf(after, kRepositoryReachable)["lastTransitionTime"] == Rfc3339(kNow));
  CHECK(ConditionOf(after, kWalArchiving)["lastTransitionTime"] == Rfc3339(kNow));

  // WAL archiving failing, then working again: two transitions.
  StanzaFacts wal = failed;
  wal.wal_failing = true;
  wal.last_failed_wal = "000000010000000000000006";
  wal.last_failed_wal_unix = kNow + 800;
  wal.last_wal_failure = "archiving 000000010000000000000006: [104]: archive-push command end: aborted";
  json failing = BuildStanzaStatus(wal, state, after, kNow + 800);
  json archiving = ConditionOf(failing, kWalArchiving);
  CHECK(archiving["status"] == "False");
  CHECK(archiving["reason"] == "ArchiveFailed");
  CHECK(archiving["message"].get<std::string>().rfind("000000010000000000000006: ", 0) == 0);
  CHECK(archiving["lastTransitionTime"] == Rfc3339(kNow + 800));
  CHECK(failing["lastFailedWAL"] == "000000010000000000000006");
  wal.wal_failing = false;
  wal.last_archived_wal = "000000010000000000000006";
  wal.last_archived_unix = kNow + 900;
  json recovered = BuildStanzaStatus(wal, state, failing, kNow + 900);
  CHECK(ConditionOf(recovered, kWalArchiving)["status"] == "True");
  CHECK(ConditionOf(recovered, kWalArchiving)["lastTransitionTime"] == Rfc3339(kNow + 900));
  CHECK(recovered["lastFailedWAL"] == "000000010000000000000006");  // the last failure stays on record
}

TEST_CASE("After a restart, what the sidecar cannot recompute is taken over from the Archive's entry") {
  json stored = {{"cluster", "cluster-example"},
                 {"lastFailedBackup", "2026-12-01T12:50:00Z"},
                 {"lastFailedBackupMessage", "backup nightly: disk full"},
                 {"lastArchivedWAL", "000000010000000000000009"},
                 {"lastArchivedWALTime", "2026-12-01T12:55:00Z"},
                 {"lastFailedWAL", "000000010000000000000004"},
                 {"lastFailedWALTime", "2026-12-01T12:40:00Z"},
                 {"conditions", json::array({{{"type", kLastBackupSucceeded},
                                              {"status", "False"},
                                              {"reason", "BackupFailed"},
                                              {"message", "backup nightly: disk full"},
                                              {"lastTransitionTime", "2026-12-01T12:50:00Z"}},
                                             {{"type", kWalArchiving},
                                              {"status", "True"},
                                              {"reason", "Archiving"},
                                              {"message", "the last WAL archive request succeeded"},
                                              {"lastTransitionTime", "2026-12-01T12:41:00Z"}}})}};
  StanzaFacts fresh;  // nothing seen since the start
  fresh.cluster = "cluster-example";
  fresh.repositories = 2;
  json e = BuildStanzaStatus(fresh, StateFrom("pgbackrest-info-two-repos.json"), stored, kNow + 3600);
  for (const char* field : {"lastFailedBackup", "lastFailedBackupMessage", "lastArchivedWAL", "lastArchivedWALTime",
                            "lastFailedWAL", "lastFailedWALTime"})
    CHECK_MESSAGE(e[field] == stored[field], field);
  // The failed backup (12:50) is newer than the newest successful one (12:42:52).
  CHECK(ConditionOf(e, kLastBackupSucceeded)["status"] == "False");
  CHECK(ConditionOf(e, kLastBackupSucceeded)["lastTransitionTime"] == "2026-12-01T12:50:00Z");
  CHECK(ConditionOf(e, kWalArchiving)["status"] == "True");
  CHECK(ConditionOf(e, kWalArchiving)["lastTransitionTime"] == "2026-12-01T12:41:00Z");
  CHECK(e["lastRecoverabilityPoint"] == "2026-12-01T12:55:00Z");

  // Nothing known at all: Unknown conditions, not False ones.
  RepositoryState empty;
  empty.catalog = StanzaCatalog{};
  json none = BuildStanzaStatus(fresh, empty, json::object(), kNow);
  CHECK(ConditionOf(none, kLastBackupSucceeded)["status"] == "Unknown");
  CHECK(ConditionOf(none, kLastBackupSucceeded)["reason"] == "NoBackup");
  CHECK(ConditionOf(none, kWalArchiving)["status"] == "Unknown");
  CHECK_FALSE(none.contains("lastRecoverabilityPoint"));
}
