// `pgbackrest backup` killed in the middle of copying a large table: the Backup fails cleanly, the
// next Backup succeeds at once (no worker left holding the backup lock), and the repository verifies.
#include <regex>
#include <signal.h>
#include <thread>

#include <doctest/doctest.h>

#include "harness.h"

using namespace cnpgi_it;

TEST_CASE(
    "pgbackrest backup killed mid-copy: the Backup fails cleanly, the next one succeeds at once, the repository "
    "verifies") {
  ArchivingPrimary p("fault-backup", "local");
  p.KeepAllWal();
  std::string first = p.CurrentSegment();
  // ~130 MB of poorly compressible rows: gzip level 9 copies them for several seconds.
  p.pg.Sql(
      "CREATE TABLE big AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) || md5(random()::text) AS payload "
      "FROM generate_series(1, 1000000) g");
  std::string config = "--config=" + p.work + "/local/pgbackrest.conf";

  ProcessResult killed;
  std::thread backup([&] {
    killed = p.TakeBackup("backup-killed", {{"type", "full"},
                                            {"start-fast", "y"},
                                            {"compress-type", "gz"},
                                            {"compress-level", "9"},
                                            {"process-max", "1"}});
  });
  // The main pgbackrest backup process of this sidecar, once its local worker copies files.
  auto main_backup = [&] {
    for (const auto& proc : FindProcesses({config, " backup"}))
      if (proc.cmdline.find("backup:local") == std::string::npos && proc.ppid == p.sidecar->pid()) return proc.pid;
    return pid_t{0};
  };
  pid_t victim = 0;
  bool copying = WaitUntil(
      [&] {
        victim = main_backup();
        return victim != 0 && !FindProcesses({config, "backup:local"}).empty();
      },
      std::chrono::seconds(120), std::chrono::milliseconds(20));
  if (copying) {
    std::this_thread::sleep_for(std::chrono::seconds(1));  // well into the copy of the table
    kill(victim, SIGKILL);
  }
  backup.join();
  REQUIRE_MESSAGE(copying, "no backup:local worker seen\n" << killed.err << p.Diagnostics());

  // The Backup RPC answered an error, and nothing of that backup is still running.
  CHECK(killed.exit_code != 0);
  CHECK_MESSAGE(killed.err.find("backup backup-killed") != std::string::npos, killed.err);
  MESSAGE("the killed Backup answered: " << killed.err.substr(0, 400));
  CHECK_MESSAGE(FindProcesses({config, "backup:local"}).empty(), "a backup:local worker outlived its Backup");

  // The next Backup, started at once, succeeds: no "unable to acquire lock".
  auto next = p.TakeBackup("backup-next", {{"type", "full"}, {"start-fast", "y"}});
  CHECK_MESSAGE(next.exit_code == 0, next.err << p.sidecar->Log());
  CHECK(next.err.find("unable to acquire lock") == std::string::npos);

  // The repository is sound: verify finds nothing wrong, info lists exactly the good backup.
  std::vector<std::string> pgbr = {"pgbackrest", config, "--stanza=cluster-example"};
  auto with = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = pgbr;
    argv.insert(argv.end(), args.begin(), args.end());
    return RunAsPostgres(argv);
  };
  auto verify = with({"--output=text", "--verbose", "verify"});
  CHECK_MESSAGE(verify.exit_code == 0, verify.out << verify.err);
  CHECK_MESSAGE(verify.out.find("ERROR") == std::string::npos, verify.out);
  // It checked something: the stanza is ok, every WAL it checked is valid, and so is the backup.
  CHECK_MESSAGE(verify.out.find("status: ok") != std::string::npos, verify.out);
  std::smatch wal;
  REQUIRE_MESSAGE(
      std::regex_search(verify.out, wal, std::regex("total WAL checked: ([0-9]+), total valid WAL: ([0-9]+)")),
      verify.out);
  CHECK(wal[1] == wal[2]);
  CHECK(std::stoi(wal[1]) > 0);
  if (next.exit_code == 0)
    CHECK_MESSAGE(verify.out.find("backup: " + json::parse(next.out)["backupId"].get<std::string>() +
                                  ", status: valid") != std::string::npos,
                  verify.out);
  auto info = with({"info", "--output=json"});
  REQUIRE(info.exit_code == 0);
  json stanza = json::parse(info.out)[0];
  CHECK(stanza["status"]["code"] == 0);
  REQUIRE(stanza["backup"].size() == 1);
  if (next.exit_code == 0) CHECK(stanza["backup"][0]["label"] == json::parse(next.out)["backupId"]);
  CHECK(stanza["backup"][0]["annotation"]["cnpg-backup-name"] == "backup-next");

  // WAL went on being archived all along.
  std::string last = p.pg.SwitchWal();
  REQUIRE_MESSAGE(p.pg.WaitArchivedThrough(last, std::chrono::seconds(120)), p.Diagnostics());
  auto f = AuditArchive(p, first, last, "pgbackrest backup SIGKILL mid-copy");
  CHECK(f.lost == 0);
  CHECK(f.archived == f.generated);
}
