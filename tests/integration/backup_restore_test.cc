// Backups through CNPG's Backup flow and recoveries through the restore hooks, with every
// recovery target, on real PostgreSQL 15 + pgBackRest 2.45 (posix repository).
#include <filesystem>
#include <thread>

#include <doctest/doctest.h>

#include "harness.h"

using namespace cnpgi_it;

namespace {

// The source cluster: archives through the plugin to the Archive "local" and takes backups through it.
struct Source : ArchivingPrimary {
  // By default a posix repository; the S3 variant passes its Archive and Secret values.
  explicit Source(json archive = json(), std::vector<std::string> secret_env = {})
      : ArchivingPrimary("backup", "local", std::move(archive), std::move(secret_env)) {
    pg.Sql("CREATE TABLE events(batch int, id int)");
  }

  void Insert(int batch) {
    pg.Sql("INSERT INTO events SELECT " + std::to_string(batch) + ", g FROM generate_series(1, 50) g");
  }

  json Backup(const std::string& name, const json& parameters) {
    auto r = TakeBackup(name, parameters);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err << sidecar->Log());
    return json::parse(r.out);
  }

  // pgbackrest info, read directly (not through the plugin) with the rendered configuration.
  json Info() {
    auto r = RunAsPostgres({"pgbackrest", "--config=" + work + "/local/pgbackrest.conf", "--stanza=cluster-example",
                            "info", "--output=json"});
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out)[0];
  }

  // Paths and sizes of everything in the repository.
  std::map<std::string, uintmax_t> RepoSnapshot() const {
    std::map<std::string, uintmax_t> out;
    for (auto& e : std::filesystem::recursive_directory_iterator(repo))
      out[e.path().string()] = e.is_regular_file() ? e.file_size() : 0;
    return out;
  }
};

}  // namespace

TEST_CASE("Backups, then recovery to every target CNPG offers, each with exactly the right rows") {
  Source src;
  src.Insert(1);
  json full = src.Backup("backup-full", {{"type", "full"}});
  src.Insert(2);
  std::string lsn_after_2 = src.pg.Sql("SELECT pg_current_wal_lsn()");
  json incr = src.Backup("backup-incr", {{"type", "incr"}});
  src.Insert(3);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  std::string time_after_3 =
      src.pg.Sql("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  src.Insert(4);
  src.pg.Sql("SELECT pg_create_restore_point('after-batch-4')");
  src.Insert(5);
  std::string xid_6 =
      src.pg.Sql("BEGIN; INSERT INTO events SELECT 6, g FROM generate_series(1, 50) g; SELECT txid_current(); COMMIT;");
  src.Insert(7);
  src.pg.SwitchWal();
  REQUIRE(src.pg.WaitArchived(std::chrono::seconds(60)));

  // The Backup status fields are exactly what pgBackRest recorded, found by annotation.
  json info = src.Info();
  REQUIRE(info["backup"].size() == 2);
  for (const auto& [status, record] : {std::pair{full, info["backup"][0]}, std::pair{incr, info["backup"][1]}}) {
    CHECK(status["backupId"] == record["label"]);
    CHECK(status["startedAtUnix"] == record["timestamp"]["start"]);
    CHECK(status["stoppedAtUnix"] == record["timestamp"]["stop"]);
    CHECK(status["beginWal"] == record["archive"]["start"]);
    CHECK(status["endWal"] == record["archive"]["stop"]);
    CHECK(status["beginLSN"] == record["lsn"]["start"]);
    CHECK(status["endLSN"] == record["lsn"]["stop"]);
    CHECK(status["startedAtUnix"].get<int64_t>() > 0);
    CHECK(status["online"] == true);
    CHECK(status["pluginMetadata"]["type"] == record["type"]);
    CHECK(status["pluginMetadata"]["stanza"] == "cluster-example");
    CHECK(record["annotation"]["cnpg-backup-name"] == status["backupName"]);
  }
  CHECK(full["backupName"] == "backup-full");
  CHECK(full["pluginMetadata"]["type"] == "full");
  CHECK(incr["pluginMetadata"]["type"] == "incr");
  CHECK(incr["pluginMetadata"]["prior"] == full["backupId"]);

  // Bad input is refused before anything runs.
  auto unknown = src.TakeBackup("backup-bad", {{"type", "full"}, {"archive-async", "y"}});
  CHECK(unknown.exit_code != 0);
  CHECK(unknown.err.find("code 3") != std::string::npos);
  CHECK(unknown.err.find("Backup parameter 'archive-async' is not a pgBackRest backup option") != std::string::npos);
  json on_replica = src.cluster;
  on_replica["status"]["currentPrimary"] = "cluster-example-2";
  auto replica = src.TakeBackup("backup-replica", {{"type", "full"}}, on_replica);
  CHECK(replica.err.find("backups from a standby are not supported yet") != std::string::npos);
  CHECK(src.Info()["backup"].size() == 2);

  // One scrape as CNPG's exporter makes it: the repository's backups and the refused attempts.
  auto m = Scrape(src);
  const std::string p = "pgbackrest_cnpg_opera_com_";
  CHECK(m[p + "repository_reachable"] == 1);
  CHECK(m[p + "backups{type=\"full\"}"] == 1);
  CHECK(m[p + "backups{type=\"incr\"}"] == 1);
  CHECK(m[p + "backups{type=\"diff\"}"] == 0);
  CHECK(m[p + "first_recoverability_point"] == info["backup"][0]["timestamp"]["start"].get<double>());
  CHECK(m[p + "last_available_backup_timestamp"] == info["backup"][1]["timestamp"]["stop"].get<double>());
  CHECK(m[p + "last_failed_backup_timestamp"] > 0);
  CHECK(m[p + "wal_archived_total"] > 0);

  src.pg.Stop();
  auto repo_before = src.RepoSnapshot();
  std::string full_id = full["backupId"], incr_id = incr["backupId"];

  // One source, many recoveries: each new Cluster must contain exactly the expected batches.
  struct Case {
    const char* what;
    json target;
    const char* batches;
  };
  std::vector<Case> cases = {
      {"latest", json(), "1,2,3,4,5,6,7"},
      {"targetTime between batch 3 and 4", {{"targetTime", time_after_3}}, "1,2,3"},
      {"targetLSN before the incremental backup (the full backup is chosen)", {{"targetLSN", lsn_after_2}}, "1,2"},
      {"targetName", {{"targetName", "after-batch-4"}}, "1,2,3,4"},
      {"targetXID", {{"targetXID", xid_6}}, "1,2,3,4,5,6"},
      {"backupID of the full backup with targetImmediate", {{"backupID", full_id}, {"targetImmediate", true}}, "1"},
      {"backupID of the incremental backup with targetImmediate",
       {{"backupID", incr_id}, {"targetImmediate", true}},
       "1,2"},
  };
  for (const auto& c : cases) {
    INFO("recovery: " << c.what);
    Recovery r(src, c.target);
    r.Recover();
    CHECK(r.Batches() == c.batches);
    if (c.target.contains("targetLSN")) CHECK(r.sidecar->Log().find(full_id) != std::string::npos);
  }

  {
    INFO("a target before the first backup fails early and leaves PGDATA empty");
    Recovery r(src, {{"targetTime", "2001-01-01 00:00:00+00"}});
    auto hook = r.RestoreHook();
    CHECK(hook.exit_code != 0);
    CHECK(hook.err.find("no backup in stanza 'cluster-example' ends before targetTime 2001-01-01 00:00:00+00") !=
          std::string::npos);
    CHECK_FALSE(FileExists(r.pg.pgdata() + "/PG_VERSION"));
  }
  {
    INFO("a backupID that does not exist");
    Recovery r(src, {{"backupID", "20010101-000000F"}});
    auto hook = r.RestoreHook();
    CHECK(hook.exit_code != 0);
    CHECK(hook.err.find("code 5") != std::string::npos);
    CHECK(hook.err.find("backupID: backup '20010101-000000F' is not in stanza 'cluster-example' (available: " +
                        full_id) != std::string::npos);
  }
  {
    INFO("a non-empty PGDATA is never overwritten");
    Recovery r(src, json());
    r.dir.MakeDir("pg-data");
    r.dir.WriteFile("pg-data/precious", "data");
    auto hook = r.RestoreHook();
    CHECK(hook.exit_code != 0);
    CHECK(hook.err.find("is not empty; refusing to restore over existing data") != std::string::npos);
    CHECK(ReadFile(r.pg.pgdata() + "/precious") == "data");
  }
  {
    INFO("spec.walStorage: pg_wal is moved to the WAL volume and linked");
    ScratchDir wal_volume("walvol");
    std::string wal_dir = wal_volume.MakeDir("pg_wal");
    Recovery r(src, json(), {{"walStorage", {{"size", "1Gi"}}}}, {}, {"--wal-storage-dir=" + wal_dir});
    r.Recover();
    CHECK(std::filesystem::is_symlink(r.pg.pgdata() + "/pg_wal"));
    CHECK(std::filesystem::read_symlink(r.pg.pgdata() + "/pg_wal") == wal_dir);
    CHECK(r.Batches() == "1,2,3,4,5,6,7");
    r.pg.Stop();
  }
  // Restores only read: the source repository is unchanged.
  CHECK(src.RepoSnapshot() == repo_before);
}

TEST_CASE("Backup and point-in-time recovery on S3 with an encrypted repository") {
  auto s3 = S3Service::FromEnv();
  RequireService(s3.has_value(), "the S3 test service (tests/services/rgw.sh)");
  std::string path = "/it-backup-" + std::to_string(getpid());
  Source src(S3Archive("local", *s3, path, s3->port), SecretEnv(*s3, s3->secret, "backup-cipher-1"));
  src.Insert(1);
  json full = src.Backup("s3-full", {{"type", "full"}});
  src.Insert(2);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  std::string time_after_2 =
      src.pg.Sql("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  src.Insert(3);
  src.pg.SwitchWal();
  REQUIRE(src.pg.WaitArchived(std::chrono::seconds(60)));
  CHECK(full["pluginMetadata"]["type"] == "full");
  // Backup files in the bucket are encrypted too.
  auto keys = s3->ListKeys(path.substr(1) + "/backup/cluster-example/" + full["backupId"].get<std::string>() + "/");
  REQUIRE_FALSE(keys.empty());
  auto manifest =
      std::find_if(keys.begin(), keys.end(), [](const std::string& k) { return k.ends_with("backup.manifest"); });
  REQUIRE(manifest != keys.end());
  CHECK(s3->GetObjectPrefix(*manifest, 8) == "Salted__");
  src.pg.Stop();

  {
    INFO("targetTime on S3");
    Recovery r(src, {{"targetTime", time_after_2}});
    r.Recover();
    CHECK(r.Batches() == "1,2");
    r.pg.Stop();
  }
  {
    INFO("the wrong encryption key cannot restore, and says why");
    Recovery r(src, json(), json::object(), SecretEnv(*s3, s3->secret, "not-the-key"));
    auto hook = r.RestoreHook();
    CHECK(hook.exit_code != 0);
    CHECK_MESSAGE(hook.err.find("Archive 'local' stanza 'cluster-example' cannot be read") != std::string::npos,
                  hook.err);
    CHECK(hook.err.find("repo1: ") != std::string::npos);
    CHECK_FALSE(FileExists(r.pg.pgdata() + "/PG_VERSION"));
  }
}
