// Archive.status written by the primary's sidecar (issue 14): real PostgreSQL 15, the sidecar and
// pgBackRest 2.45 on a posix repository, the Archive held by the local stand-in for kube-apiserver.
// What the status says is checked against pgBackRest itself (info, archive-get).
#include <filesystem>
#include <signal.h>
#include <thread>

#include <doctest/doctest.h>
#include <sys/stat.h>

#include "harness.h"
#include "status/stanza_status.h"

using namespace cnpgi_it;
using cnpgi_pgbackrest::ParseRfc3339;
using cnpgi_pgbackrest::Rfc3339;

namespace {

constexpr const char* kStanza = "cluster-example";

struct StatusSetup {
  ArchivingPrimary p{"status", "local"};
  std::unique_ptr<FakeApiServer> api;
  std::string path = "/apis/pgbackrest.cnpg.opera.com/v1/namespaces/default/archives/local";

  StatusSetup() {
    api = std::make_unique<FakeApiServer>(json::parse(ReadFile(p.archives_file)));
    p.sidecar_env = api->PodEnv();
    p.sidecar_flags = {"--service-account-dir=" + api->dir.path(), "--status-interval=2s"};
  }

  // The Archive's entry for the stanza, as the API server holds it ({} when there is none).
  json Entry() const {
    auto archive = cnpgi_pgbackrest::KubernetesClient(api->Config()).Get(path);
    REQUIRE_MESSAGE(archive.ok(), archive.status().message());
    json status = archive->value("status", json::object());
    return status.value("stanzaRecoveryWindow", json::object()).value(kStanza, json::object());
  }

  // Waits until the entry satisfies done (bounded); the entry last read.
  json WaitFor(const std::function<bool(const json&)>& done) const {
    json entry;
    bool ok = WaitUntil(
        [&] {
          entry = Entry();
          return done(entry);
        },
        std::chrono::seconds(90), std::chrono::milliseconds(250));
    REQUIRE_MESSAGE(ok, "Archive status never got there: " << entry.dump(1) << "\nsidecar log:\n" << p.sidecar->Log());
    return entry;
  }

  std::vector<std::string> Pgbackrest(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"pgbackrest", "--config=" + p.work + "/local/pgbackrest.conf",
                                     std::string("--stanza=") + kStanza};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  // pgbackrest info, read directly (not through the plugin) with the rendered configuration.
  json Info() const {
    auto r = RunAsPostgres(Pgbackrest({"info", "--output=json"}));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    return json::parse(r.out)[0];
  }
};

json ConditionOf(const json& entry, const std::string& type) {
  for (const auto& c : entry.value("conditions", json::array()))
    if (c["type"] == type) return c;
  return json::object();
}

bool IsSegment(const std::string& name) {
  return name.size() == 24 && name.find_first_not_of("0123456789ABCDEF") == std::string::npos;
}

// Bytes of the files under dir (the stanza's WAL archive in the posix repository).
int64_t BytesUnder(const std::string& dir) {
  int64_t total = 0;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) total += static_cast<int64_t>(e.file_size());
  return total;
}

}  // namespace

TEST_CASE("Archive.status from the primary's sidecar agrees with pgBackRest; a failed backup moves it") {
  StatusSetup s;
  // Started without a Kubernetes API (a local run): publishing is off, said once.
  CHECK(s.p.sidecar->Log().find("Archive status off: no Kubernetes API here") != std::string::npos);
  s.p.StartSidecar();  // now with the API server's Pod environment and service account

  std::string seg = s.p.pg.SwitchWal();
  REQUIRE(s.p.pg.WaitArchivedThrough(seg, std::chrono::seconds(60)));
  auto backup = s.p.TakeBackup("status-full", json::object());
  REQUIRE_MESSAGE(backup.exit_code == 0, backup.err << s.p.sidecar->Log());
  std::string after = s.p.pg.SwitchWal();
  REQUIRE(s.p.pg.WaitArchivedThrough(after, std::chrono::seconds(60)));

  json info = s.Info();
  REQUIRE(info["backup"].size() == 1);
  const json& b = info["backup"][0];
  std::string label = b["label"];
  json entry = s.WaitFor([&](const json& e) {
    return e.value("lastSuccessfulBackupId", "") == label && e.value("lastArchivedWAL", "") >= after;
  });
  INFO(entry.dump(1));
  CHECK(entry["cluster"] == "cluster-example");
  CHECK(entry["lastSuccessfulBackup"] == Rfc3339(b["timestamp"]["stop"].get<int64_t>()));
  CHECK(entry["firstRecoverabilityPoint"] == Rfc3339(b["timestamp"]["stop"].get<int64_t>()));
  CHECK(ParseRfc3339(entry["lastRecoverabilityPoint"]) >= b["timestamp"]["stop"].get<int64_t>());
  CHECK(ParseRfc3339(entry["lastArchivedWALTime"]) > 0);
  CHECK_FALSE(entry.contains("lastFailedBackup"));
  REQUIRE(entry["repositories"].size() == info["repo"].size());
  json repo = entry["repositories"][0];
  CHECK(repo["repo"] == 1);
  CHECK(repo["reachable"] == true);
  CHECK(repo["backupSets"] == 1);
  CHECK(repo["backupBytes"] == b["info"]["repository"]["delta"]);
  CHECK(repo["walBytes"].get<int64_t>() > 0);
  CHECK(repo["walBytes"].get<int64_t>() <= BytesUnder(s.p.repo + "/archive/cluster-example"));
  for (const char* type : {"RepositoryReachable", "LastBackupSucceeded", "WALArchiving"}) {
    json c = ConditionOf(entry, type);
    CHECK_MESSAGE(c["status"] == "True", type);
    CHECK(ParseRfc3339(c.value("lastTransitionTime", "")) > 0);
  }

  // lastArchivedWAL is a segment pgBackRest gives back.
  std::string wal = entry["lastArchivedWAL"];
  REQUIRE(IsSegment(wal));
  std::string fetched = s.p.dir / "fetched-wal";
  auto get = RunAsPostgres(s.Pgbackrest({"--pg1-path=" + s.p.pg.pgdata(), "archive-get", wal, fetched}));
  CHECK_MESSAGE(get.exit_code == 0, get.err);
  CHECK(std::filesystem::file_size(fetched) == 16u * 1024 * 1024);

  // A backup that fails: the repository's backup directory made read-only for the sidecar.
  std::string backups = s.p.repo + "/backup/cluster-example";
  REQUIRE(chmod(backups.c_str(), 0500) == 0);
  auto failed = s.p.TakeBackup("status-failing", json::object());
  REQUIRE(chmod(backups.c_str(), 0750) == 0);
  REQUIRE(failed.exit_code != 0);
  json moved = s.WaitFor([](const json& e) { return e.contains("lastFailedBackup"); });
  INFO(moved.dump(1));
  CHECK(ParseRfc3339(moved["lastFailedBackup"]) >= ParseRfc3339(entry["lastSuccessfulBackup"]));
  std::string why = moved["lastFailedBackupMessage"];
  CHECK(why.find("status-failing") != std::string::npos);
  json condition = ConditionOf(moved, "LastBackupSucceeded");
  CHECK(condition["status"] == "False");
  CHECK(condition["reason"] == "BackupFailed");
  CHECK(condition["message"] == why);
  CHECK(ParseRfc3339(condition["lastTransitionTime"]) >= ParseRfc3339(moved["lastFailedBackup"]));
  CHECK(moved["lastSuccessfulBackupId"] == label);  // the good backup is still the newest one
  // The other conditions did not change status: their transition times stay.
  CHECK(ConditionOf(moved, "WALArchiving")["lastTransitionTime"] ==
        ConditionOf(entry, "WALArchiving")["lastTransitionTime"]);
  CHECK(ConditionOf(moved, "RepositoryReachable")["lastTransitionTime"] ==
        ConditionOf(entry, "RepositoryReachable")["lastTransitionTime"]);

  // A restarted sidecar takes the failure over from the Archive: it knows of no failure itself,
  // yet the next write (a new WAL segment) keeps the condition False since the same time.
  s.p.StartSidecar();
  std::string later = s.p.pg.SwitchWal();
  REQUIRE(s.p.pg.WaitArchivedThrough(later, std::chrono::seconds(60)));
  json restarted = s.WaitFor([&](const json& e) { return e.value("lastArchivedWAL", "") >= later; });
  INFO(restarted.dump(1));
  CHECK(ConditionOf(restarted, "LastBackupSucceeded")["status"] == "False");
  CHECK(ConditionOf(restarted, "LastBackupSucceeded")["lastTransitionTime"] == condition["lastTransitionTime"]);
  CHECK(restarted["lastFailedBackupMessage"] == why);

  // The API server hangs (SIGSTOP): WAL archiving goes on, the publisher logs one warning per
  // distinct error and writes again once the server answers.
  auto api = FindProcesses({"fake_apiserver.py", std::to_string(s.api->port)});
  REQUIRE(api.size() == 1);
  REQUIRE(kill(api[0].pid, SIGSTOP) == 0);
  std::string during = s.p.pg.SwitchWal();
  bool archived = s.p.pg.WaitArchivedThrough(during, std::chrono::seconds(60));
  bool warned = WaitUntil([&] { return s.p.sidecar->Log().find("Archive status not written") != std::string::npos; },
                          std::chrono::seconds(60));
  std::string more = s.p.pg.SwitchWal();
  archived = archived && s.p.pg.WaitArchivedThrough(more, std::chrono::seconds(60));
  kill(api[0].pid, SIGCONT);
  CHECK(archived);
  REQUIRE(warned);
  s.WaitFor([&](const json& e) { return e.value("lastArchivedWAL", "") >= more; });
  std::string log = s.p.sidecar->Log();
  std::size_t warnings = 0;
  for (auto at = log.find("Archive status not written"); at != std::string::npos;
       at = log.find("Archive status not written", at + 1))
    ++warnings;
  CHECK(warnings == 1);
  CHECK(log.find("Archive status written again") != std::string::npos);

  // A demoted primary (standby.signal written before PostgreSQL restarts as a standby) whose
  // Cluster JSON still names it: its sidecar leaves the status alone from then on.
  s.p.dir.WriteFile("pg-data/standby.signal", "");
  REQUIRE(FileExists(s.p.pg.pgdata() + "/standby.signal"));
  REQUIRE(WaitUntil([&] { return s.p.sidecar->Log().find("not the primary") != std::string::npos; },
                    std::chrono::seconds(60)));
  std::string standby = s.p.pg.SwitchWal();
  REQUIRE(s.p.pg.WaitArchivedThrough(standby, std::chrono::seconds(60)));
  // Rounds run every 2 s here: give a few the chance to (wrongly) write.
  std::this_thread::sleep_for(std::chrono::seconds(7));
  CHECK(s.Entry()["lastArchivedWAL"] < standby);
}
