// WAL archive and restore through the sidecar on a posix repository, driven by real PostgreSQL 15.
#include <algorithm>
#include <filesystem>
#include <signal.h>
#include <thread>
#include <unistd.h>

#include <doctest/doctest.h>
#include <sys/stat.h>

#include "common/wal_name.h"
#include "harness.h"
#include "sidecar_client.h"

using namespace cnpgi_it;

namespace {

// A primary archiving to the posix Archive "local".
struct Primary : ArchivingPrimary {
  Primary() : ArchivingPrimary("wal-posix", "local") {}

  // Archiving is down (archive_command fails) and the sidecar dead while n segments fill up.
  std::vector<std::string> BacklogWhileDown(int n) {
    pg.Sql("ALTER SYSTEM SET archive_command = '/bin/false'");
    pg.Sql("SELECT pg_reload_conf()");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    sidecar->Kill(SIGKILL);
    std::vector<std::string> backlog;
    for (int i = 0; i < n; ++i) backlog.push_back(pg.SwitchWal());
    return backlog;
  }
  // PostgreSQL's archive_command reaches the plugin again.
  void ResumeArchiving() {
    pg.Sql("ALTER SYSTEM SET archive_command = '" + ArchiveCommand(cluster_file, plugins, "cluster-example-1") + "'");
    pg.Sql("SELECT pg_reload_conf()");
  }

  // Segment files the repository holds for the stanza (names without the checksum suffix).
  std::vector<std::string> RepoSegments() const {
    std::vector<std::string> out;
    std::string root = repo + "/archive/cluster-example";
    if (!FileExists(root)) return out;
    for (auto& e : std::filesystem::recursive_directory_iterator(root))
      if (e.is_regular_file()) {
        std::string f = e.path().filename().string();
        if (f.size() > 24 && f[24] == '-') out.push_back(f.substr(0, 24));
      }
    std::sort(out.begin(), out.end());
    return out;
  }
};

// A second instance directory (a replica Pod) with its own sidecar reading the same Archive.
struct Replica {
  std::string pgdata;
  std::string plugins;
  std::string cluster_file;
  std::unique_ptr<Sidecar> sidecar;

  Replica(const Primary& p, const std::string& pod = "cluster-example-2") {
    pgdata = p.dir.MakeDir("replica-data");
    p.dir.MakeDir("replica-data/pg_wal");
    // A replica's data directory comes from the primary (pgBackRest matches its pg_control).
    p.dir.MakeDir("replica-data/global");
    p.dir.WriteFile("replica-data/global/pg_control", ReadFile(p.pg.pgdata() + "/global/pg_control"));
    plugins = p.dir.MakeDir("replica-plugins");
    cluster_file = p.dir / "replica-cluster.json";
    p.dir.WriteFile("replica-cluster.json", p.cluster.dump());
    sidecar = std::make_unique<Sidecar>(Sidecar::Options{.plugins_dir = plugins,
                                                         .work_dir = p.dir.MakeDir("replica-work"),
                                                         .pgdata = pgdata,
                                                         .pg_socket_dir = p.pg.socket_dir(),
                                                         .pg_port = p.pg.port(),
                                                         .archives_file = p.archives_file,
                                                         .pod_name = pod});
    std::string out;
    REQUIRE_MESSAGE(sidecar->Start(&out), "replica sidecar did not start: " << out);
  }

  // restore_command as PostgreSQL would run it in the replica's data directory.
  ProcessResult RestoreCommand(const std::string& name, const std::string& relative_dest) const {
    return RunAsPostgres({Programs::Get().standin, "wal-restore", "--cluster-json=" + cluster_file,
                          "--plugins-dir=" + plugins, "--pgdata=" + pgdata, name, relative_dest},
                         {"POD_NAME=cluster-example-2"});
  }
};

}  // namespace

TEST_CASE("PostgreSQL archives every segment through the plugin and a replica restores them byte for byte") {
  Primary p;
  std::vector<std::string> segments;
  for (int i = 0; i < 4; ++i) segments.push_back(p.pg.SwitchWal());
  REQUIRE_MESSAGE(p.pg.WaitArchived(std::chrono::seconds(90)), p.Diagnostics());
  auto done = p.pg.DoneFiles();
  auto in_repo = p.RepoSegments();
  for (const auto& seg : segments) {
    CHECK_MESSAGE(std::find(done.begin(), done.end(), seg) != done.end(), seg << " is not .done");
    CHECK_MESSAGE(std::find(in_repo.begin(), in_repo.end(), seg) != in_repo.end(), seg << " is not in the repository");
  }
  CHECK(p.pg.Sql("SELECT failed_count FROM pg_stat_archiver") == "0");
  // The stanza was created by the first archive, before any backup.
  CHECK(FileExists(p.repo + "/archive/cluster-example/archive.info"));
  CHECK(FileExists(p.repo + "/backup/cluster-example/backup.info"));

  Replica r(p);
  for (const auto& seg : segments) {
    auto res = r.RestoreCommand(seg, "pg_wal/" + seg);
    REQUIRE_MESSAGE(res.exit_code == 0, "restore of " << seg << " failed: " << res.err << r.sidecar->Log());
    CHECK_MESSAGE(ReadFile(r.pgdata + "/pg_wal/" + seg) == ReadFile(p.pg.pgdata() + "/pg_wal/" + seg),
                  seg << " differs after restore");
    CHECK_FALSE(FileExists(r.pgdata + "/pg_wal/" + seg + ".cnpgi-partial"));
  }
  // PostgreSQL's own probe name for the next segment: a missing one is a plain, fast failure.
  auto missing = r.RestoreCommand("0000000100000000000000FE", "pg_wal/RECOVERYXLOG");
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("code 5") != std::string::npos);  // NOT_FOUND
  CHECK(missing.err.find("is not in Archive 'local' stanza 'cluster-example'") != std::string::npos);
  CHECK_FALSE(FileExists(r.pgdata + "/pg_wal/RECOVERYXLOG"));
  // Timeline 1 never has a history file; PostgreSQL asks anyway and a plain "missing" is right.
  auto history = r.RestoreCommand("00000001.history", "pg_wal/RECOVERYHISTORY");
  CHECK(history.exit_code == 1);
  CHECK(history.err.find("code 5") != std::string::npos);
  // A replica asking for a future timeline's history is refused by CNPG before any plugin call.
  auto future = r.RestoreCommand("00000002.history", "pg_wal/RECOVERYHISTORY");
  CHECK(future.exit_code == 1);
  CHECK(future.err.find("future timeline history 00000002.history refused") != std::string::npos);

  // Archiving the same segment again (a crash before .done, or pre-pg_rewind re-archiving) succeeds.
  auto again = RunAsPostgres({Programs::Get().standin, "wal-archive", "--cluster-json=" + p.cluster_file,
                              "--plugins-dir=" + p.plugins, "--pgdata=" + p.pg.pgdata(), "pg_wal/" + segments[0]},
                             {"POD_NAME=cluster-example-1"});
  CHECK_MESSAGE(again.exit_code == 0, again.err);
}

TEST_CASE("The empty-archive check refuses a non-empty stanza, with and without the cnpg-i 0.6 field") {
  Primary p;
  // A newly bootstrapped cluster: CNPG leaves the marker until the first WAL is archived.
  p.dir.WriteFile("pg-data/.check-empty-wal-archive", "");
  std::string first = p.pg.SwitchWal();
  REQUIRE_MESSAGE(p.pg.WaitArchived(std::chrono::seconds(60)), p.Diagnostics());
  CHECK_FALSE(FileExists(p.pg.pgdata() + "/.check-empty-wal-archive"));  // removed after the first success

  // A second cluster bootstrapped onto the same stanza must not archive into it.
  p.dir.WriteFile("pg-data/.check-empty-wal-archive", "");
  std::string seg = p.pg.SwitchWal();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  auto ready = p.pg.ReadyFiles();
  CHECK_MESSAGE(std::find(ready.begin(), ready.end(), seg) != ready.end(), "segment must stay .ready");
  std::string path = p.pg.pgdata() + "/pg_wal/" + seg;
  auto refused = CallArchive(p.sidecar->socket_path(), p.cluster.dump(), path, true);
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(refused.error_message().find("already contains WAL") != std::string::npos);
  CHECK(refused.error_message().find("cnpg.io/skipEmptyWalArchiveCheck") != std::string::npos);

  // Older operators leave the field unset: the sidecar falls back to annotation + marker file.
  auto legacy = RunAsPostgres({Programs::Get().standin, "wal-archive", "--legacy", "--cluster-json=" + p.cluster_file,
                               "--plugins-dir=" + p.plugins, "--pgdata=" + p.pg.pgdata(), "pg_wal/" + seg},
                              {"POD_NAME=cluster-example-1"});
  CHECK(legacy.exit_code != 0);
  CHECK(legacy.err.find("already contains WAL") != std::string::npos);
  json skip = p.cluster;
  skip["metadata"]["annotations"]["cnpg.io/skipEmptyWalArchiveCheck"] = "enabled";
  p.cluster = skip;
  p.WriteCluster();
  auto skipped = RunAsPostgres({Programs::Get().standin, "wal-archive", "--legacy", "--cluster-json=" + p.cluster_file,
                                "--plugins-dir=" + p.plugins, "--pgdata=" + p.pg.pgdata(), "pg_wal/" + seg},
                               {"POD_NAME=cluster-example-1"});
  CHECK_MESSAGE(skipped.exit_code == 0, skipped.err);
  // PostgreSQL itself now gets through as well (the annotation makes CNPG send false).
  p.pg.NudgeArchiver();
  REQUIRE_MESSAGE(p.pg.WaitArchived(std::chrono::seconds(60)), p.Diagnostics());
}

TEST_CASE("Bad input gets a clear status and PostgreSQL keeps the segment") {
  Primary p;
  std::string seg = p.pg.SwitchWal();
  REQUIRE_MESSAGE(p.pg.WaitArchived(std::chrono::seconds(60)), p.Diagnostics());
  std::string socket = p.sidecar->socket_path();
  std::string wal_path = p.pg.pgdata() + "/pg_wal/" + seg;
  std::string cluster = p.cluster.dump();

  auto s = CallArchive(socket, "{ this is not json", wal_path);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "cluster definition is not valid JSON");

  // Hostile input the host used to die of (stack overflow copying the document): refused, and the
  // host keeps serving (every call below).
  std::string deep = cluster;
  deep.insert(deep.rfind('}'), ",\"x\":" + std::string(100000, '[') + std::string(100000, ']'));
  s = CallArchive(socket, deep, wal_path);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().find("nested more than 10000 levels") != std::string::npos);

  // A 1 MB name is echoed cut: the client sees the reason, not "metadata size exceeds limit".
  s = CallArchive(socket, cluster, p.pg.pgdata() + "/pg_wal/" + std::string(1 << 20, 'x'));
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().size() < 1024);
  CHECK(s.error_message().find("does not name a WAL file") != std::string::npos);

  // A stanza that leaves the repository: refused naming the field; nothing written outside it.
  json escaping = p.cluster;
  std::string victim = p.dir / "victim";
  escaping["spec"]["plugins"][0]["parameters"]["stanza"] = "../../../../../../../../.." + victim;
  s = CallArchive(socket, escaping.dump(), wal_path);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().find("spec.plugins[0].parameters.stanza: ") == 0);
  CHECK_FALSE(FileExists(victim));
  s = CallRestore(socket, escaping.dump(), seg, p.pg.pgdata() + "/pg_wal/RECOVERYXLOG");
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_FALSE(FileExists(victim));

  // A history file linked to a file outside PGDATA: its target is never archived.
  std::string outside = p.dir / "outside.history";
  p.dir.WriteFile("outside.history", "1\t0/3000000\tnot this cluster's history\n");
  std::string linked = p.pg.pgdata() + "/pg_wal/0000000A.history";
  REQUIRE(symlink(outside.c_str(), linked.c_str()) == 0);
  s = CallArchive(socket, cluster, linked);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().find("is a symbolic link") != std::string::npos);
  unlink(linked.c_str());
  for (auto& e : std::filesystem::recursive_directory_iterator(p.repo))
    CHECK_MESSAGE(e.path().filename().string().find("0000000A.history") == std::string::npos, e.path());

  s = CallArchive(socket, cluster, "pg_wal/" + seg);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().find("is not an absolute path") != std::string::npos);

  s = CallArchive(socket, cluster, p.pg.pgdata() + "/pg_wal/../global/pg_control");
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().find("'..'") != std::string::npos);

  s = CallArchive(socket, cluster, "/etc/passwd");
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().find("is not a file in " + p.pg.pgdata() + "/pg_wal") != std::string::npos);

  s = CallArchive(socket, cluster, p.pg.pgdata() + "/pg_wal/000000010000000000000099");
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);

  s = CallRestore(socket, cluster, seg, "/tmp/outside-" + seg);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().find("outside the data directory") != std::string::npos);

  s = CallRestore(socket, cluster, "../../etc/passwd", p.pg.pgdata() + "/pg_wal/RECOVERYXLOG");
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().find("is not a WAL file name") != std::string::npos);

  json no_param = p.cluster;
  no_param["spec"]["plugins"][0]["parameters"] = json::object();
  s = CallArchive(socket, no_param.dump(), wal_path);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "spec.plugins[0].parameters.pgbackrestObjectName: is required (the name of an Archive)");

  // An Archive name the sidecar does not know: PostgreSQL's segment stays .ready until it is fixed.
  json unknown = p.cluster;
  unknown["spec"]["plugins"][0]["parameters"]["pgbackrestObjectName"] = "no-such-archive";
  s = CallArchive(socket, unknown.dump(), wal_path);
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(s.error_message().find("spec.plugins[0]: Archive 'no-such-archive' is not known to this sidecar") == 0);
  json good = p.cluster;
  p.cluster = unknown;
  p.WriteCluster();
  std::string held = p.pg.SwitchWal();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  auto ready = p.pg.ReadyFiles();
  CHECK_MESSAGE(std::find(ready.begin(), ready.end(), held) != ready.end(), "segment must stay .ready");
  CHECK(std::stoi(p.pg.Sql("SELECT failed_count FROM pg_stat_archiver")) > 0);
  p.cluster = good;
  p.WriteCluster();
  p.pg.NudgeArchiver();
  REQUIRE_MESSAGE(p.pg.WaitArchived(std::chrono::seconds(90)), p.Diagnostics());
  auto in_repo = p.RepoSegments();
  CHECK(std::find(in_repo.begin(), in_repo.end(), held) != in_repo.end());
}

TEST_CASE("The socket: a live server is never taken over, a stale socket is replaced, probe tells them apart") {
  Primary p;
  Sidecar second(Sidecar::Options{.plugins_dir = p.plugins,
                                  .work_dir = p.dir.MakeDir("work2"),
                                  .pgdata = p.pg.pgdata(),
                                  .pg_socket_dir = p.pg.socket_dir(),
                                  .pg_port = p.pg.port(),
                                  .archives_file = p.archives_file});
  std::string out;
  CHECK(second.StartExpectingExit(&out) == 1);
  CHECK(out.find("another server is already listening on " + p.sidecar->socket_path()) != std::string::npos);
  // The first server still owns the socket and still archives.
  std::string seg0 = p.pg.SwitchWal();
  CHECK_MESSAGE(p.pg.WaitArchived(std::chrono::seconds(60)), p.Diagnostics());

  struct stat st;
  REQUIRE(stat(p.sidecar->socket_path().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  // A crash leaves the socket file behind; the restarted sidecar replaces it.
  p.sidecar->Kill(SIGKILL);
  REQUIRE(FileExists(p.sidecar->socket_path()));
  auto dead = RunAsPostgres({Programs::Get().sidecar, "probe", "--plugin-path=" + p.plugins, "--probe-timeout=1s"});
  CHECK(dead.exit_code != 0);
  p.StartSidecar();
  std::string seg = p.pg.SwitchWal();
  CHECK_MESSAGE(p.pg.WaitArchived(std::chrono::seconds(60)), p.Diagnostics());

  // A configuration error stops the sidecar at start with a message naming the field.
  p.dir.WriteFile("bad-archives.json",
                  R"([{"metadata":{"name":"x"},"spec":{"configuration":{"repositories":[{"type":"posix"}]}}}])");
  Sidecar bad(Sidecar::Options{.plugins_dir = p.dir.MakeDir("plugins-bad"),
                               .work_dir = p.dir.MakeDir("work-bad"),
                               .pgdata = p.pg.pgdata(),
                               .archives_file = p.dir / "bad-archives.json"});
  CHECK(bad.StartExpectingExit(&out) == 2);
  CHECK(out.find("spec.configuration.repositories[0].destinationPath: a posix repository needs a directory") !=
        std::string::npos);
}

TEST_CASE("A replica prefetches ahead, then ends archive recovery once the archive runs out; rewind never prefetches") {
  Primary p;
  std::vector<std::string> segments;
  for (int i = 0; i < 4; ++i) segments.push_back(p.pg.SwitchWal());
  REQUIRE_MESSAGE(p.pg.WaitArchived(std::chrono::seconds(90)), p.Diagnostics());
  std::string after_last = *cnpgi_pgbackrest::NextWalSegment(segments[3]);

  Replica r(p);  // cluster-example-2: an HA replica, so streaming is possible
  std::string spool = p.dir / "replica-work/wal-restore-spool/local/cluster-example";
  auto res = r.RestoreCommand(segments[2], "pg_wal/RECOVERYXLOG");
  REQUIRE_MESSAGE(res.exit_code == 0, res.err << r.sidecar->Log());
  CHECK(ReadFile(r.pgdata + "/pg_wal/RECOVERYXLOG") == ReadFile(p.pg.pgdata() + "/pg_wal/" + segments[2]));
  // The next segment waits in the spool, complete; the one after does not exist, so the flag is set.
  CHECK(ReadFile(spool + "/" + segments[3]) == ReadFile(p.pg.pgdata() + "/pg_wal/" + segments[3]));
  CHECK(FileExists(spool + "/end-of-wal-stream"));

  res = r.RestoreCommand(segments[3], "pg_wal/RECOVERYXLOG");
  REQUIRE(res.exit_code == 0);
  CHECK(ReadFile(r.pgdata + "/pg_wal/RECOVERYXLOG") == ReadFile(p.pg.pgdata() + "/pg_wal/" + segments[3]));
  CHECK_FALSE(FileExists(spool + "/" + segments[3]));  // handed over, not copied

  // The archive is exhausted: one OUT_OF_RANGE makes PostgreSQL switch to streaming...
  res = r.RestoreCommand(after_last, "pg_wal/RECOVERYXLOG");
  CHECK(res.exit_code == 1);
  CHECK(res.err.find("code 11") != std::string::npos);
  CHECK(res.err.find("end of the WAL archive reached") != std::string::npos);
  // ...and the next poll of the archive is an ordinary miss.
  res = r.RestoreCommand(after_last, "pg_wal/RECOVERYXLOG");
  CHECK(res.exit_code == 1);
  CHECK(res.err.find("code 5") != std::string::npos);

  // pg_rewind fetches exactly what it asks for.
  for (const auto& f : ListDir(spool)) std::filesystem::remove(spool + "/" + f);
  auto rewind =
      RunAsPostgres({Programs::Get().standin, "wal-restore", "--rewind", "--cluster-json=" + r.cluster_file,
                     "--plugins-dir=" + r.plugins, "--pgdata=" + r.pgdata, segments[0], "pg_wal/" + segments[0]},
                    {"POD_NAME=cluster-example-2"});
  REQUIRE_MESSAGE(rewind.exit_code == 0, rewind.err);
  CHECK(ReadFile(r.pgdata + "/pg_wal/" + segments[0]) == ReadFile(p.pg.pgdata() + "/pg_wal/" + segments[0]));
  CHECK(ListDir(spool).empty());
}

TEST_CASE("A promoting replica cluster gets the last segment from its .partial file") {
  Primary p;
  std::string archived = p.pg.SwitchWal();
  REQUIRE_MESSAGE(p.pg.WaitArchived(std::chrono::seconds(60)), p.Diagnostics());
  // The segment being written when the source was demoted: archived only as .partial.
  p.pg.Sql("INSERT INTO wal_filler SELECT generate_series(1, 1000)");
  std::string current = p.pg.Sql("SELECT pg_walfile_name(pg_current_wal_lsn())");
  p.dir.WriteFile("pg-data/pg_wal/" + current + ".partial", ReadFile(p.pg.pgdata() + "/pg_wal/" + current));
  auto push =
      RunAsPostgres({Programs::Get().standin, "wal-archive", "--cluster-json=" + p.cluster_file,
                     "--plugins-dir=" + p.plugins, "--pgdata=" + p.pg.pgdata(), "pg_wal/" + current + ".partial"},
                    {"POD_NAME=cluster-example-1"});
  REQUIRE_MESSAGE(push.exit_code == 0, push.err);

  // The replica cluster follows Archive 'local' and is being promoted with a token.
  Replica r(p, "cluster-dc-b-1");
  json promoting = ClusterJson("cluster-dc-b", "other-store", "cluster-dc-b-1");
  promoting["spec"]["plugins"] = json::array();
  promoting["spec"]["replica"] = {
      {"primary", "cluster-dc-b"}, {"source", "cluster-example"}, {"promotionToken", "token-1"}};
  promoting["spec"]["externalClusters"] = json::array(
      {{{"name", "cluster-example"},
        {"plugin", {{"name", "pgbackrest.cnpg.opera.com"}, {"parameters", {{"pgbackrestObjectName", "local"}}}}}}});
  promoting["status"]["lastPromotionToken"] = "";
  p.dir.WriteFile("replica-cluster.json", promoting.dump());
  auto res = RunAsPostgres({Programs::Get().standin, "wal-restore", "--cluster-json=" + r.cluster_file,
                            "--plugins-dir=" + r.plugins, "--pgdata=" + r.pgdata, current, "pg_wal/RECOVERYXLOG"},
                           {"POD_NAME=cluster-dc-b-1"});
  REQUIRE_MESSAGE(res.exit_code == 0, res.err << r.sidecar->Log());
  CHECK(ReadFile(r.pgdata + "/pg_wal/RECOVERYXLOG") == ReadFile(p.pg.pgdata() + "/pg_wal/" + current + ".partial"));

  // Once the token is recorded, a missing segment is missing again.
  promoting["status"]["lastPromotionToken"] = "token-1";
  promoting["spec"]["replica"]["enabled"] = false;
  promoting["spec"]["plugins"] =
      json::array({{{"name", "pgbackrest.cnpg.opera.com"}, {"parameters", {{"pgbackrestObjectName", "local"}}}}});
  p.dir.WriteFile("replica-cluster.json", promoting.dump());
  res = RunAsPostgres({Programs::Get().standin, "wal-restore", "--cluster-json=" + r.cluster_file,
                       "--plugins-dir=" + r.plugins, "--pgdata=" + r.pgdata, current, "pg_wal/RECOVERYXLOG"},
                      {"POD_NAME=cluster-dc-b-1"});
  CHECK(res.exit_code == 1);
}

TEST_CASE("A pgbench burst is archived in parallel, each segment once, and a sidecar killed mid-burst loses nothing") {
  Primary p;
  p.sidecar_flags = {"--wal-push-parallel=3"};
  p.StartSidecar();
  std::string first = p.pg.Sql("SELECT pg_walfile_name(pg_current_wal_lsn())");
  // The burst runs while the sidecar is killed and, a moment later, restarted.
  ProcessResult bench;
  std::thread burst([&] {
    bench = RunAsPostgres({"pgbench", "-i", "-s", "12", "-h", p.pg.socket_dir(), "-p", std::to_string(p.pg.port()),
                           "-U", "postgres", "postgres"});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  p.sidecar->Kill(SIGKILL);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  p.StartSidecar();
  burst.join();
  REQUIRE_MESSAGE(bench.exit_code == 0, bench.err);
  std::string last = p.pg.SwitchWal();
  p.pg.NudgeArchiver();
  REQUIRE_MESSAGE(p.pg.WaitArchived(std::chrono::seconds(240)), p.Diagnostics());

  // Every segment from the first to the last is in the repository, exactly once.
  std::map<std::string, int> copies;
  for (const auto& seg : p.RepoSegments()) ++copies[seg];
  int segments = 0;
  for (std::string seg = first; seg <= last; seg = *cnpgi_pgbackrest::NextWalSegment(seg)) {
    ++segments;
    CHECK_MESSAGE(copies[seg] == 1, seg << " is stored " << copies[seg] << " times");
  }
  CHECK(segments >= 8);
  // Marks renamed by the sidecar during calls never pulled one from under PostgreSQL's own rename.
  CHECK(p.pg.LogText().find("could not rename") == std::string::npos);
  // And readable with pgBackRest itself, identical to what PostgreSQL wrote.
  std::string out = p.dir.MakeDir("check");
  int compared = 0;
  for (std::string seg = first; seg <= last; seg = *cnpgi_pgbackrest::NextWalSegment(seg)) {
    if (!FileExists(p.pg.pgdata() + "/pg_wal/" + seg)) continue;  // recycled by a checkpoint
    auto get = RunAsPostgres({"pgbackrest", "--config=" + p.work + "/local/pgbackrest.conf", "--stanza=cluster-example",
                              "--pg1-path=" + p.pg.pgdata(), "archive-get", seg, out + "/" + seg});
    REQUIRE_MESSAGE(get.exit_code == 0, get.err);
    CHECK(ReadFile(out + "/" + seg) == ReadFile(p.pg.pgdata() + "/pg_wal/" + seg));
    ++compared;
  }
  CHECK(compared > 0);
}

TEST_CASE("Push-ahead: a segment is stored once PostgreSQL marks it ready, before archive_command asks") {
  Primary p;
  p.StartSidecar();
  p.pg.SwitchWal();  // the first Archive call tells the sidecar where WAL goes
  REQUIRE_MESSAGE(p.pg.WaitArchived(std::chrono::seconds(60)), p.Diagnostics());
  // From now on archive_command reaches the plugin only after 5 seconds.
  std::string command = ArchiveCommand(p.cluster_file, p.plugins, "cluster-example-1");
  p.pg.Sql("ALTER SYSTEM SET archive_command = 'sleep 5 && " + command + "'");
  p.pg.Sql("SELECT pg_reload_conf()");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::string seg = p.pg.SwitchWal();
  bool stored_early = false;
  for (int i = 0; i < 40 && !stored_early; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto stored = p.RepoSegments();
    stored_early = std::find(stored.begin(), stored.end(), seg) != stored.end();
  }
  REQUIRE_MESSAGE(stored_early, seg << " was not pushed ahead\n" << p.Diagnostics());
  // PostgreSQL has not been told yet: only the Archive call may do that.
  auto ready = p.pg.ReadyFiles();
  CHECK(std::find(ready.begin(), ready.end(), seg) != ready.end());
  REQUIRE_MESSAGE(p.pg.WaitArchived(std::chrono::seconds(60)), p.Diagnostics());
  auto stored = p.RepoSegments();
  CHECK(std::count(stored.begin(), stored.end(), seg) == 1);
}

TEST_CASE(
    "A restarted sidecar resumes push-ahead: a backlog goes to pgBackRest's async worker before PostgreSQL asks") {
  Primary p;
  bool mark_done = true;
  SUBCASE("marking stored segments done (the default)") {}
  SUBCASE("marking turned off through the Pod's env, as an Archive's instanceSidecarConfiguration.env can") {
    mark_done = false;
    p.sidecar_env.push_back("FLAGS_wal_mark_done=false");
  }
  p.sidecar_flags = {"--wal-push-parallel=2"};
  p.StartSidecar();
  p.pg.SwitchWal();
  REQUIRE_MESSAGE(p.pg.WaitArchived(std::chrono::seconds(60)), p.Diagnostics());
  // PostgreSQL cannot reach the plugin for a while (its archive_command fails), and the sidecar dies.
  std::vector<std::string> backlog = p.BacklogWhileDown(6);
  REQUIRE(p.pg.ReadyFiles().size() >= 6);

  // The restarted sidecar pushes the backlog on its own, in one pgBackRest worker run.
  p.StartSidecar();
  std::string out = p.work + "/local/spool/archive/cluster-example/out";
  // pgBackRest's worker reports each segment with an .ok file once it is in the repository.
  auto all_stored = [&] {
    auto stored = p.RepoSegments();
    return std::all_of(backlog.begin(), backlog.end(), [&](const std::string& s) {
      return std::count(stored.begin(), stored.end(), s) == 1 && FileExists(out + "/" + s + ".ok");
    });
  };
  bool stored = false;
  for (int i = 0; i < 600 && !(stored = all_stored()); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE_MESSAGE(stored, "backlog not pushed after the restart\n" << p.Diagnostics());
  auto m = Scrape(p);
  CHECK(m["pgbackrest_cnpg_opera_com_wal_pushes_total{mode=\"async\"}"] == 1);  // one worker run for the lot
  // Stored is not acknowledged: only an Archive call tells PostgreSQL.
  auto ready = p.pg.ReadyFiles();
  for (const auto& seg : backlog) CHECK(std::find(ready.begin(), ready.end(), seg) != ready.end());

  // PostgreSQL's archiver comes back. Its first call finds the oldest segment stored and marks the
  // others .done, so PostgreSQL skips them: no archive_command (no CNPG process) for each.
  int archived_before = std::stoi(p.pg.Sql("SELECT archived_count FROM pg_stat_archiver"));
  p.ResumeArchiving();
  p.pg.NudgeArchiver();
  REQUIRE_MESSAGE(p.pg.WaitArchived(std::chrono::seconds(120)), p.Diagnostics());
  auto after = p.RepoSegments();
  for (const auto& seg : backlog) CHECK(std::count(after.begin(), after.end(), seg) == 1);
  auto done = p.pg.DoneFiles();
  for (const auto& seg : backlog) CHECK(std::count(done.begin(), done.end(), seg) == 1);
  int calls = std::stoi(p.pg.Sql("SELECT archived_count FROM pg_stat_archiver")) - archived_before;
  double marked = Scrape(p)["pgbackrest_cnpg_opera_com_wal_marked_done_total"];
  if (mark_done) {
    CHECK(marked >= backlog.size() - 1);
    CHECK_MESSAGE(calls <= 2, calls << " archive_command calls for a stored backlog of " << backlog.size());
  } else {
    CHECK(marked == 0);
    CHECK(calls >= static_cast<int>(backlog.size()));  // one per segment, each answered from its .ok
  }
  // PostgreSQL found every mark where it expected it: it warns when its own rename fails.
  CHECK(p.pg.LogText().find("could not rename") == std::string::npos);
  CHECK(p.sidecar->Log().find("push-ahead resumed") != std::string::npos);
}

TEST_CASE("archivePushQueueMax: past it pgBackRest drops WAL, and every drop is logged and counted") {
  Primary p;
  std::string mode;
  SUBCASE("a backlog through pgBackRest's async worker") { mode = "--wal-push-parallel=2"; }
  SUBCASE("synchronous pushes only") { mode = "--wal-push-parallel=-1"; }
  p.sidecar_flags = {mode};
  p.StartSidecar();
  p.pg.SwitchWal();
  REQUIRE_MESSAGE(p.pg.WaitArchived(std::chrono::seconds(60)), p.Diagnostics());
  // The user opts in to dropping WAL past 16 MiB of backlog; archiving is down meanwhile.
  json archive = PosixArchive("local", p.repo);
  archive["spec"]["configuration"]["archivePushQueueMax"] = "16Mi";
  p.WriteArchives(archive);
  std::vector<std::string> backlog = p.BacklogWhileDown(4);
  p.StartSidecar();
  p.ResumeArchiving();
  REQUIRE_MESSAGE(p.pg.WaitArchived(std::chrono::seconds(120)), p.Diagnostics());

  // Each segment is either in the repository or dropped, logged by name and counted: none is lost
  // silently. 64 MiB of backlog against a 16 MiB maximum: pgBackRest drops at least the first.
  auto stored = p.RepoSegments();
  std::string log = p.sidecar->Log();
  int dropped = 0;
  for (const auto& seg : backlog) {
    if (std::count(stored.begin(), stored.end(), seg) == 1) continue;
    ++dropped;
    CHECK_MESSAGE(log.find("\"msg\":\"WAL dropped, not archived") != std::string::npos, log);
    CHECK_MESSAGE(log.find("dropped WAL file '" + seg + "'") != std::string::npos,
                  seg << " dropped without a log line\n"
                      << log);
  }
  CHECK(dropped >= 1);
  CHECK_MESSAGE(Scrape(p)["pgbackrest_cnpg_opera_com_wal_dropped_total"] == dropped, log);
}

TEST_CASE("Metrics: a scrape as CNPG's exporter makes it shows archived WAL, failures and a growing backlog") {
  Primary p;
  p.StartSidecar();
  p.pg.SwitchWal();
  p.pg.SwitchWal();
  REQUIRE_MESSAGE(p.pg.WaitArchived(std::chrono::seconds(60)), p.Diagnostics());
  // A request the sidecar refuses counts as a failure.
  CHECK_FALSE(
      CallArchive(p.sidecar->socket_path(), p.cluster.dump(), p.pg.pgdata() + "/pg_wal/000000010000000000000099").ok());
  const std::string m = "pgbackrest_cnpg_opera_com_";
  auto before = Scrape(p);
  // Two segments: each acknowledged by a call, or marked .done during the other's call.
  CHECK(before[m + "wal_archived_total"] >= 1);
  CHECK(before[m + "wal_archived_total"] + before[m + "wal_marked_done_total"] >= 2);
  CHECK(before[m + "wal_archive_failures_total"] == 1);
  CHECK(before[m + "wal_last_failed_timestamp"] > 0);
  CHECK(before[m + "wal_last_archived_timestamp"] >= before[m + "wal_last_failed_timestamp"] - 60);
  CHECK(before[m + "wal_pushes_total{mode=\"sync\"}"] + before[m + "wal_pushes_total{mode=\"async\"}"] >= 2);
  CHECK(before[m + "wal_ready"] == 0);
  CHECK(before[m + "repository_reachable"] == 1);
  CHECK(before[m + "backups{type=\"full\"}"] == 0);
  CHECK(before[m + "first_recoverability_point"] == 0);

  // Archiving stops (archive_command fails): the backlog shows in the next scrape.
  p.pg.Sql("ALTER SYSTEM SET archive_command = '/bin/false'");
  p.pg.Sql("SELECT pg_reload_conf()");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  p.pg.SwitchWal();
  p.pg.SwitchWal();
  p.pg.SwitchWal();
  CHECK(Scrape(p)[m + "wal_ready"] >= 3);
}
