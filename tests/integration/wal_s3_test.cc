// WAL archive and restore through the sidecar on S3 (Ceph RGW over TLS), with client-side encryption.
#include <filesystem>
#include <random>
#include <thread>

#include <doctest/doctest.h>
#include <sys/stat.h>

#include "harness.h"
#include "sidecar_client.h"

using namespace cnpgi_it;

namespace {

std::string UniquePath() {
  std::random_device rd;
  return "/it-" + std::to_string(getpid()) + "-" + std::to_string(rd() % 1000000);
}

constexpr const char* kCipher = "wal-cipher-pass-1";

// A primary archiving to the encrypted S3 Archive "rgw" under a path of its own.
struct S3Primary : ArchivingPrimary {
  S3Service s3;
  std::string path;

  explicit S3Primary(S3Service service, std::string unique = UniquePath())
      : ArchivingPrimary("wal-s3", "rgw", S3Archive("rgw", service, unique, service.port),
                         SecretEnv(service, service.secret, kCipher)),
        s3(std::move(service)),
        path(std::move(unique)) {}

  // Restarts the sidecar with another S3 secret (as after a Secret change).
  void RestartWithSecret(const std::string& secret) {
    sidecar_env = SecretEnv(s3, secret, kCipher);
    StartSidecar();
  }

  // Segment object keys in the bucket for this stanza.
  std::vector<std::string> SegmentKeys() const {
    std::vector<std::string> out;
    for (const auto& k : s3.ListKeys(path.substr(1) + "/archive/cluster-example/")) {
      auto slash = k.rfind('/');
      std::string f = k.substr(slash + 1);
      if (f.size() > 24 && f[24] == '-') out.push_back(k);
    }
    return out;
  }
};

std::optional<S3Service> RequireS3() {
  auto s3 = S3Service::FromEnv();
  RequireService(s3.has_value() && FileExists("/usr/bin/pgbackrest"),
                 "the S3 test service (start it with tests/services/rgw.sh; tests/run-all.sh does)");
  return s3;
}

}  // namespace

TEST_CASE("WAL goes to S3 encrypted and comes back byte for byte") {
  S3Primary p(*RequireS3());
  std::vector<std::string> segments;
  for (int i = 0; i < 3; ++i) segments.push_back(p.pg.SwitchWal());
  REQUIRE_MESSAGE(p.pg.WaitArchived(std::chrono::seconds(120)), p.Diagnostics());

  auto keys = p.SegmentKeys();
  for (const auto& seg : segments) {
    auto it = std::find_if(keys.begin(), keys.end(),
                           [&](const std::string& k) { return k.find("/" + seg + "-") != std::string::npos; });
    REQUIRE_MESSAGE(it != keys.end(), seg << " is not in the bucket");
    // Client-side encryption: what the object store holds is OpenSSL-encrypted, not zstd or WAL.
    CHECK(p.s3.GetObjectPrefix(*it, 8) == "Salted__");
  }
  std::string info_key = p.path.substr(1) + "/archive/cluster-example/archive.info";
  auto info_keys = p.s3.ListKeys(info_key);
  REQUIRE(std::find(info_keys.begin(), info_keys.end(), info_key) != info_keys.end());
  CHECK(p.s3.GetObjectPrefix(info_key, 8) == "Salted__");

  // A replica Pod restores through its own sidecar.
  std::string rdata = p.dir.MakeDir("replica-data");
  p.dir.MakeDir("replica-data/pg_wal");
  p.dir.MakeDir("replica-data/global");  // as copied from the primary
  p.dir.WriteFile("replica-data/global/pg_control", ReadFile(p.pg.pgdata() + "/global/pg_control"));
  std::string rplugins = p.dir.MakeDir("replica-plugins");
  // A replica Pod's sidecar, with the given encryption key.
  auto replica_sidecar = [&](const std::string& work, const std::string& cipher) {
    return std::make_unique<Sidecar>(Sidecar::Options{.plugins_dir = rplugins,
                                                      .work_dir = p.dir.MakeDir(work),
                                                      .pgdata = rdata,
                                                      .archives_file = p.archives_file,
                                                      .pod_name = "cluster-example-2",
                                                      .env = SecretEnv(p.s3, p.s3.secret, cipher)});
  };
  auto replica_owner = replica_sidecar("replica-work", kCipher);
  Sidecar& replica = *replica_owner;
  std::string out;
  REQUIRE_MESSAGE(replica.Start(&out), out);
  for (const auto& seg : segments) {
    auto res = RunAsPostgres({Programs::Get().standin, "wal-restore", "--cluster-json=" + p.cluster_file,
                              "--plugins-dir=" + rplugins, "--pgdata=" + rdata, seg, "pg_wal/" + seg},
                             {"POD_NAME=cluster-example-2"});
    REQUIRE_MESSAGE(res.exit_code == 0, res.err << replica.Log());
    CHECK(ReadFile(rdata + "/pg_wal/" + seg) == ReadFile(p.pg.pgdata() + "/pg_wal/" + seg));
  }

  // The wrong encryption key cannot read the archive, and says so.
  replica.Kill();
  auto wrong_key_owner = replica_sidecar("replica-work2", "not-the-pass");
  Sidecar& wrong_key = *wrong_key_owner;
  REQUIRE_MESSAGE(wrong_key.Start(&out), out);
  auto s = CallRestore(wrong_key.socket_path(), p.cluster.dump(), segments[0], rdata + "/pg_wal/RECOVERYXLOG");
  CHECK_FALSE(s.ok());
  CHECK(s.error_code() != grpc::StatusCode::NOT_FOUND);
  CHECK(s.error_message().find("pgbackrest exit") != std::string::npos);
  CHECK_FALSE(FileExists(rdata + "/pg_wal/RECOVERYXLOG"));
}

TEST_CASE("endpointCA alone verifies RGW's TLS; log.levelStderr debug reaches the sidecar log and JSON still parses") {
  S3Service s3 = *RequireS3();
  std::string path = UniquePath();
  json archive = S3Archive("rgw", s3, path, s3.port);
  archive["spec"]["configuration"]["log"] = {{"levelStderr", "debug"}};
  ArchivingPrimary p("wal-s3-log", "rgw", archive, SecretEnv(s3, s3.secret, kCipher));
  std::string seg = p.pg.SwitchWal();
  REQUIRE_MESSAGE(p.pg.WaitArchived(std::chrono::seconds(120)), p.Diagnostics());
  // The CA file is the only TLS setting: certificates are verified (no storage-verify-tls=n).
  std::string conf = ReadFile(p.work + "/rgw/pgbackrest.conf");
  CHECK(conf.find("repo1-storage-ca-file=" + p.work + "/rgw/repo1/ca.crt\n") != std::string::npos);
  CHECK(conf.find("storage-verify-tls") == std::string::npos);
  CHECK(conf.find("log-level-console=off\nlog-level-stderr=debug\n") != std::string::npos);
  struct stat st;
  REQUIRE(stat((p.work + "/rgw/repo1/ca.crt").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // pgBackRest's debug lines are in the sidecar's log, secure options redacted by pgBackRest.
  std::string log = p.sidecar->Log();
  CHECK_MESSAGE(log.find("\"msg\":\"pgBackRest\"") != std::string::npos, log.substr(0, 2000));
  CHECK(log.find("archive-push command begin") != std::string::npos);
  CHECK(log.find("DEBUG:") != std::string::npos);
  for (const std::string& secret : {s3.secret, std::string(kCipher)})
    CHECK_MESSAGE(log.find(secret) == std::string::npos, "a secret in the sidecar log");
  // pgbackrest info --output=json (the metrics' source) still parses: stdout carries only JSON.
  auto m = Scrape(p);
  CHECK_MESSAGE(m["pgbackrest_cnpg_opera_com_repository_reachable"] == 1, p.sidecar->Log().substr(0, 3000));
}

TEST_CASE("Wrong S3 credentials: archiving fails with pgBackRest's reason and nothing is lost") {
  S3Primary p(*RequireS3());
  std::string first = p.pg.SwitchWal();
  REQUIRE_MESSAGE(p.pg.WaitArchived(std::chrono::seconds(120)), p.Diagnostics());

  p.RestartWithSecret("this-is-not-the-secret");
  std::string held = p.pg.SwitchWal();
  auto s = CallArchive(p.sidecar->socket_path(), p.cluster.dump(), p.pg.pgdata() + "/pg_wal/" + held);
  INFO("message: " << s.error_message());
  CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(s.error_message().find("archiving " + held + " to Archive 'rgw' stanza 'cluster-example' failed") == 0);
  CHECK(s.error_message().find("ERROR: [") != std::string::npos);
  CHECK(s.error_message().find("this-is-not-the-secret") == std::string::npos);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  auto ready = p.pg.ReadyFiles();
  CHECK_MESSAGE(std::find(ready.begin(), ready.end(), held) != ready.end(), "segment must stay .ready");

  // With the right secret back, PostgreSQL's retry archives it.
  p.RestartWithSecret(p.s3.secret);
  p.pg.NudgeArchiver();
  REQUIRE_MESSAGE(p.pg.WaitArchived(std::chrono::seconds(120)), p.Diagnostics());
  auto keys = p.SegmentKeys();
  CHECK(std::any_of(keys.begin(), keys.end(),
                    [&](const std::string& k) { return k.find("/" + held + "-") != std::string::npos; }));
}

TEST_CASE("S3 unreachable: a clear UNAVAILABLE-class error, bounded, and the segment stays") {
  auto service = RequireS3();
  S3Primary p(*service);
  std::string seg = p.pg.SwitchWal();
  REQUIRE_MESSAGE(p.pg.WaitArchived(std::chrono::seconds(120)), p.Diagnostics());

  // Point the Archive at a port where nothing listens.
  int closed = FreeTcpPort();
  p.WriteArchives(S3Archive("rgw", p.s3, p.path, closed));
  p.sidecar_flags = {"--wal-io-timeout=0.5s"};  // keep pgBackRest's eight retries short
  p.StartSidecar();
  std::string held = p.pg.SwitchWal();
  auto s = CallArchive(p.sidecar->socket_path(), p.cluster.dump(), p.pg.pgdata() + "/pg_wal/" + held);
  INFO("message: " << s.error_message());
  CHECK(s.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(s.error_message().find("archiving " + held) == 0);
  CHECK(s.error_message().find("HostConnectError") != std::string::npos);
  auto ready = p.pg.ReadyFiles();
  CHECK(std::find(ready.begin(), ready.end(), held) != ready.end());
  // Stop PostgreSQL while the archiver cannot reach S3 (fast stop would wait on archive_command retries).
  p.pg.Stop("immediate");
}

TEST_CASE(
    "An operator's shell: pgbackrest info, check, repo-ls and verify through the sidecar, secrets in its environment "
    "only") {
  S3Primary p(*RequireS3());
  std::string seg = p.pg.SwitchWal();
  REQUIRE_MESSAGE(p.pg.WaitArchived(std::chrono::seconds(120)), p.Diagnostics());
  // pgbackrest as the shell starts it: a spy records its argv and variable names, then runs the real one.
  p.dir.WriteFile("pgbackrest-spy", "#!/bin/sh\necho \"$@\" >> " + p.dir / "argv" + "\nenv | cut -d= -f1 >> " +
                                        p.dir / "env-names" + "\nexec /usr/bin/pgbackrest \"$@\"\n");
  chmod((p.dir / "pgbackrest-spy").c_str(), 0755);
  // What `kubectl exec <pod> -c plugin-pgbackrest -- pgbr ...` runs, with this test's paths as flags.
  auto shell = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv = {Programs::Get().sidecar,
                                     "--work-dir=" + p.work,
                                     "--pgdata=" + p.pg.pgdata(),
                                     "--pg-socket-dir=" + p.pg.socket_dir(),
                                     "--pg-port=" + std::to_string(p.pg.port()),
                                     "--archives-file=" + p.archives_file,
                                     "--pgbackrest=" + p.dir / "pgbackrest-spy",
                                     "pgbackrest"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunAsPostgres(argv, p.sidecar_env, std::chrono::minutes(3));
  };

  auto info = shell({"info", "--output=json"});
  REQUIRE_MESSAGE(info.exit_code == 0, info.err);
  json stanzas = json::parse(info.out);
  REQUIRE(stanzas.size() == 1);
  CHECK(stanzas[0]["name"] == "cluster-example");  // the stanza of the last Archive call
  CHECK(stanzas[0]["cipher"] == "aes-256-cbc");
  REQUIRE(stanzas[0]["archive"].size() == 1);
  CHECK(stanzas[0]["archive"][0]["max"].get<std::string>() >= seg);

  // check without arguments: CNPG's archive_command does not name pgbackrest, so the shell leaves
  // that part of the check out; the stanza, the repository and the database are still checked.
  auto check = shell({"check"});
  CHECK_MESSAGE(check.exit_code == 0, check.err << check.out);
  CHECK(check.out.find("check command end: completed successfully") != std::string::npos);
  auto ls = shell({"repo-ls", "archive/cluster-example"});
  CHECK_MESSAGE(ls.exit_code == 0, ls.err);
  CHECK(ls.out.find("15-1") != std::string::npos);
  auto verify = shell({"verify"});
  CHECK_MESSAGE(verify.exit_code == 0, verify.err << verify.out);

  // The credentials and the encryption key reached pgbackrest through its environment, never argv.
  std::string argv_seen = ReadFile(p.dir / "argv"), env_seen = ReadFile(p.dir / "env-names");
  CHECK(argv_seen.find("--config=") != std::string::npos);
  CHECK(argv_seen.find("--stanza=cluster-example") != std::string::npos);
  for (const std::string& secret : {p.s3.secret, p.s3.key, std::string(kCipher)})
    CHECK_MESSAGE(argv_seen.find(secret) == std::string::npos, "a secret in pgbackrest's argv");
  for (const char* name : {"PGBACKREST_REPO1_S3_KEY", "PGBACKREST_REPO1_S3_KEY_SECRET", "PGBACKREST_REPO1_CIPHER_PASS"})
    CHECK_MESSAGE(env_seen.find(name) != std::string::npos, name << " not in pgbackrest's environment");
  // Nor in any file the sidecar rendered.
  for (auto& e : std::filesystem::recursive_directory_iterator(p.work))
    if (e.is_regular_file())
      for (const std::string& secret : {p.s3.secret, std::string(kCipher)})
        CHECK_MESSAGE(ReadFile(e.path()).find(secret) == std::string::npos, e.path() << " holds a secret");

  // Clear refusals for what the shell cannot decide.
  auto unknown = shell({"--archive=nope", "info"});
  CHECK(unknown.exit_code == 2);
  CHECK_MESSAGE(unknown.err.find("Archive 'nope' is not known to this sidecar") != std::string::npos, unknown.err);
  auto own_config = shell({"info", "--config=/etc/x.conf"});
  CHECK(own_config.exit_code == 2);
  CHECK(own_config.err.find("--config is the plugin's") != std::string::npos);
}
