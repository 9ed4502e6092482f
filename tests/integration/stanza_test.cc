// Stanza lifecycle through the sidecar, driven by real PostgreSQL 15 and pgBackRest 2.45: a stanza
// of another database is never written into, stanza-upgrade after an in-place major upgrade, and a
// repository added to an Archive gets its stanza before it is used.
#include <algorithm>
#include <filesystem>
#include <set>

#include <doctest/doctest.h>

#include "harness.h"
#include "stanza/stanza_state.h"

using namespace cnpgi_it;

namespace {

constexpr const char* kStanza = "cluster-example";

std::uint64_t SystemId(const Postgres& pg) {
  auto local = cnpgi_pgbackrest::ReadLocalDatabase(pg.pgdata());
  REQUIRE_MESSAGE(local.ok(), local.status().ToString());
  return local->system_id;
}

// Every file under a repository, with its size: "nothing new in the repository" compares two of these.
std::set<std::string> RepoFiles(const std::string& repo) {
  std::set<std::string> out;
  if (!FileExists(repo)) return out;
  for (auto& e : std::filesystem::recursive_directory_iterator(repo))
    if (e.is_regular_file()) out.insert(e.path().string() + " " + std::to_string(e.file_size()));
  return out;
}

bool RepoHoldsSegment(const std::string& repo, const std::string& segment) {
  for (const auto& f : RepoFiles(repo + "/archive/" + kStanza))
    if (f.find("/" + segment + "-") != std::string::npos) return true;
  return false;
}

// Writes an info file the way pgBackRest 2.45 does: sections of JSON values, then a SHA-1
// checksum over the sections as one JSON object with sorted keys (it matches the files 2.45 writes).
void WriteInfoFile(const ScratchDir& dir, const std::string& relative, const json& sections) {
  std::string text;
  for (const auto& [section, values] : sections.items()) {
    text += "[" + section + "]\n";
    for (const auto& [key, value] : values.items()) text += key + "=" + value.dump() + "\n";
    text += "\n";
  }
  dir.WriteFile(relative + ".body", sections.dump());
  auto sum = RunAsPostgres({"sha1sum", dir / (relative + ".body")});
  REQUIRE(sum.exit_code == 0);
  std::filesystem::remove(dir / (relative + ".body"));
  text += "[backrest]\nbackrest-checksum=\"" + sum.out.substr(0, 40) + "\"\n";
  dir.WriteFile(relative, text);
  dir.WriteFile(relative + ".copy", text);
}

// A stanza pgBackRest would have created for PostgreSQL 14 (catalog 202107181) with system_id.
void WriteStanza14(const ArchivingPrimary& p, std::uint64_t system_id) {
  p.dir.MakeDir("repo/archive");
  p.dir.MakeDir("repo/archive/cluster-example");
  p.dir.MakeDir("repo/backup");
  p.dir.MakeDir("repo/backup/cluster-example");
  json backrest = {{"backrest-format", 5}, {"backrest-version", "2.45"}};
  WriteInfoFile(p.dir, "repo/archive/cluster-example/archive.info",
                {{"backrest", backrest},
                 {"db", {{"db-id", 1}, {"db-system-id", system_id}, {"db-version", "14"}}},
                 {"db:history", {{"1", {{"db-id", system_id}, {"db-version", "14"}}}}}});
  json db = {{"db-catalog-version", 202107181},
             {"db-control-version", 1300},
             {"db-system-id", system_id},
             {"db-version", "14"}};
  json current = db;
  current["db-id"] = 1;
  WriteInfoFile(p.dir, "repo/backup/cluster-example/backup.info",
                {{"backrest", backrest}, {"db", current}, {"db:history", {{"1", db}}}});
}

// PostgreSQL's archiver keeps failing on segment: it stays .ready and failures are counted.
void RequireArchiveRefused(ArchivingPrimary& p, const std::string& segment, const std::vector<std::string>& needles) {
  bool failed = WaitUntil(
      [&] {
        p.pg.NudgeArchiver();
        return std::stoi(p.pg.Sql("SELECT failed_count FROM pg_stat_archiver")) >= 2;
      },
      std::chrono::seconds(120), std::chrono::seconds(1));
  REQUIRE_MESSAGE(failed, p.Diagnostics());
  auto ready = p.pg.ReadyFiles();
  CHECK_MESSAGE(std::find(ready.begin(), ready.end(), segment) != ready.end(), segment << " is no longer .ready");
  auto done = p.pg.DoneFiles();
  CHECK(std::find(done.begin(), done.end(), segment) == done.end());
  CHECK(p.pg.Sql("SELECT archived_count FROM pg_stat_archiver") == "0");
  std::string log = p.pg.LogText();
  for (const auto& needle : needles) CHECK_MESSAGE(log.find(needle) != std::string::npos, needle << " not in " << log);
}

// After failures PostgreSQL's archiver waits a minute before retrying: nudge it until segment is .done.
bool ArchivedAfterRetries(ArchivingPrimary& p, const std::string& segment) {
  return WaitUntil(
      [&] {
        auto done = p.pg.DoneFiles();
        if (std::find(done.begin(), done.end(), segment) != done.end()) return true;
        p.pg.NudgeArchiver();
        return false;
      },
      std::chrono::seconds(120), std::chrono::seconds(1));
}

json InfoJson(const std::string& config) {
  auto r = RunAsPostgres({"pgbackrest", "--config=" + config, "--stanza=" + std::string(kStanza), "--output=json",
                          "--log-level-console=off", "info"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  json all = json::parse(r.out);
  REQUIRE(all.size() == 1);
  return all[0];
}

}  // namespace

TEST_CASE("A stanza of another database is never written into: WAL and backup fail naming both system identifiers") {
  ArchivingPrimary owner("stanza-owner", "local");
  std::string first = owner.pg.SwitchWal();
  REQUIRE_MESSAGE(owner.pg.WaitArchivedThrough(first, std::chrono::seconds(90)), owner.Diagnostics());
  std::uint64_t owner_id = SystemId(owner.pg);

  // A second initdb, archiving into the same repository and stanza through its own sidecar.
  ArchivingPrimary intruder("stanza-intruder", "local", PosixArchive("local", owner.repo));
  std::uint64_t intruder_id = SystemId(intruder.pg);
  REQUIRE(intruder_id != owner_id);
  auto before = RepoFiles(owner.repo);
  std::string segment = intruder.pg.SwitchWal();
  RequireArchiveRefused(
      intruder, segment,
      {std::to_string(owner_id), std::to_string(intruder_id), "belongs to another database", "parameters.stanza"});
  CHECK(RepoFiles(owner.repo) == before);

  auto backup = intruder.TakeBackup("intruder-backup", json::object());
  MESSAGE("the refusal: " << backup.err);
  CHECK(backup.exit_code != 0);
  CHECK_MESSAGE(backup.err.find(std::to_string(owner_id)) != std::string::npos, backup.err);
  CHECK(backup.err.find(std::to_string(intruder_id)) != std::string::npos);
  CHECK(backup.err.find("refused") != std::string::npos);
  CHECK(RepoFiles(owner.repo) == before);

  // The owner still archives into its stanza.
  std::string next = owner.pg.SwitchWal();
  CHECK_MESSAGE(owner.pg.WaitArchivedThrough(next, std::chrono::seconds(90)), owner.Diagnostics());
}

TEST_CASE("stanza-upgrade runs once the Cluster's status shows the major upgrade, and is refused before") {
  // A repository whose stanza is of PostgreSQL 14 (another system identifier, as pg_upgrade gives)
  // before PostgreSQL 15's first archive: the data directory was upgraded in place.
  ArchivingPrimary p("stanza-upgrade", "local");
  constexpr std::uint64_t kOld = 7300000000000000014u;
  WriteStanza14(p, kOld);
  std::string segment = p.pg.SwitchWal();
  RequireArchiveRefused(p, segment,
                        {"PostgreSQL 14 with system identifier 7300000000000000014",
                         "status.pgDataImageInfo does not show an in-place major upgrade"});
  CHECK(ReadFile(p.repo + "/archive/cluster-example/archive.info").find("db-version=\"14\"") != std::string::npos);

  // CNPG records the upgrade: the next archive upgrades the stanza, then archives.
  p.cluster["status"]["pgDataImageInfo"] = {{"image", "ghcr.io/cloudnative-pg/postgresql:15"}, {"majorVersion", 15}};
  p.WriteCluster();
  REQUIRE_MESSAGE(ArchivedAfterRetries(p, segment), p.Diagnostics());
  auto info = cnpgi_pgbackrest::ParseArchiveInfo(ReadFile(p.repo + "/archive/cluster-example/archive.info"));
  REQUIRE(info.ok());
  CHECK(info->current.id == 2);
  CHECK(info->current.version == "15");
  CHECK(info->current.system_id == SystemId(p.pg));
  REQUIRE(info->history.size() == 2);
  CHECK(info->history[0].system_id == kOld);
  CHECK(RepoHoldsSegment(p.repo, segment));
  auto upgrades = [&] {
    std::string log = p.sidecar->Log();
    int n = 0;
    for (auto at = log.find("\"stanza upgraded\""); at != std::string::npos;
         at = log.find("\"stanza upgraded\"", at + 1))
      ++n;
    return n;
  };
  CHECK(upgrades() == 1);
  // Once: a sidecar restart and more WAL upgrade nothing more.
  p.StartSidecar();
  std::string next = p.pg.SwitchWal();
  REQUIRE_MESSAGE(p.pg.WaitArchivedThrough(next, std::chrono::seconds(90)), p.Diagnostics());
  CHECK(upgrades() == 1);  // the log holds both processes' lines
  auto after = cnpgi_pgbackrest::ParseArchiveInfo(ReadFile(p.repo + "/archive/cluster-example/archive.info"));
  REQUIRE(after.ok());
  CHECK(after->current.id == 2);
}

TEST_CASE("A repository added to an Archive gets its stanza before the next WAL is stored in both") {
  ArchivingPrimary p("stanza-added-repo", "local");
  std::string first = p.pg.SwitchWal();
  REQUIRE_MESSAGE(p.pg.WaitArchivedThrough(first, std::chrono::seconds(90)), p.Diagnostics());
  std::string repo2 = p.dir.MakeDir("repo2");
  CHECK_FALSE(FileExists(repo2 + "/archive/cluster-example/archive.info"));

  // The Archive gains a second posix repository; the sidecar restarts with it (a changed Pod spec).
  json archive = PosixArchive("local", p.repo);
  archive["spec"]["configuration"]["repositories"].push_back({{"type", "posix"}, {"destinationPath", repo2}});
  p.WriteArchives(archive);
  p.StartSidecar();
  std::string next = p.pg.SwitchWal();
  REQUIRE_MESSAGE(p.pg.WaitArchivedThrough(next, std::chrono::seconds(90)), p.Diagnostics());
  CHECK(RepoHoldsSegment(p.repo, next));
  CHECK(RepoHoldsSegment(repo2, next));
  CHECK_FALSE(RepoHoldsSegment(repo2, first));  // stored before repo2 existed

  p.dir.WriteFile("both.conf", "[global]\nrepo1-path=" + p.repo + "\nrepo2-path=" + repo2 +
                                   "\nlog-level-file=off\nlock-path=" + p.dir.MakeDir("info-lock") + "\n");
  json info = InfoJson(p.dir / "both.conf");
  // 2 is "no valid backups": the stanza exists but holds WAL only (1 would be a missing stanza).
  CHECK_MESSAGE(info["status"]["code"] == 2, info.dump());
  REQUIRE(info["repo"].size() == 2);
  for (const auto& r : info["repo"]) CHECK_MESSAGE(r["status"]["code"] == 2, info.dump());
  std::set<int> db_in;
  for (const auto& d : info["db"]) db_in.insert(d["repo-key"].get<int>());
  CHECK(db_in == std::set<int>{1, 2});
  std::set<int> archived_in;
  for (const auto& a : info["archive"])
    if (a["max"].get<std::string>() >= next) archived_in.insert(a["database"]["repo-key"].get<int>());
  CHECK(archived_in == std::set<int>{1, 2});
}
