// Faults on the WAL path with real components: the object store down, the sidecar killed, wrong
// credentials, a full repository disk, a storm of calls for one segment. Each test ends with the
// same audit: every segment PostgreSQL considers archived is restored byte for byte through a
// replica's sidecar, and one line reports "segments generated, archived, restored, lost".
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <signal.h>
#include <thread>
#include <unistd.h>

#include <doctest/doctest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "harness.h"
#include "sidecar_client.h"

using namespace cnpgi_it;

namespace {

// Writes WAL and finishes a segment every `interval` until stopped: the burst a fault hits. SQL
// errors are counted, not asserted (an assertion cannot leave this thread).
class WalBurst {
 public:
  WalBurst(const Postgres& pg, std::chrono::milliseconds interval) {
    pg.Sql("CREATE TABLE IF NOT EXISTS burst(id int, payload text)");
    thread_ = std::thread([this, &pg, interval] {
      while (!stop_) {
        auto r = pg.TrySql(
            "INSERT INTO burst SELECT g, md5(random()::text) || md5(g::text) FROM generate_series(1, 5000) g;"
            "SELECT pg_switch_wal()");
        (r.exit_code == 0 ? segments_ : errors_)++;
        std::this_thread::sleep_for(interval);
      }
    });
  }
  ~WalBurst() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int segments() const { return segments_; }
  int errors() const { return errors_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> segments_{0}, errors_{0};
  std::thread thread_;
};

// The primary's archive_command fails (PostgreSQL cannot reach the plugin) or works again.
void SetArchiveCommand(ArchivingPrimary& p, bool working) {
  std::string command = working ? ArchiveCommand(p.cluster_file, p.plugins, "cluster-example-1") : "/bin/false";
  p.pg.Sql("ALTER SYSTEM SET archive_command = '" + command + "'");
  p.pg.Sql("SELECT pg_reload_conf()");
}

// Everything after the first archived segment is the test's: the audit covers first..last.
std::string ArchiveFirstSegment(ArchivingPrimary& p) {
  p.KeepAllWal();
  p.pg.SwitchWal();
  REQUIRE_MESSAGE(p.pg.WaitArchived(std::chrono::seconds(120)), p.Diagnostics());
  return p.CurrentSegment();
}

// Drains what is left and audits first..last (the last segment finished by this call).
ArchiveFigures DrainAndAudit(ArchivingPrimary& p, const std::string& first, const std::string& label) {
  std::string last = p.pg.SwitchWal();
  p.pg.NudgeArchiver();
  REQUIRE_MESSAGE(p.pg.WaitArchivedThrough(last, std::chrono::seconds(300)), p.Diagnostics());
  auto f = AuditArchive(p, first, last, label);
  CHECK_MESSAGE(f.lost == 0, f.Line(label));
  CHECK_MESSAGE(f.archived == f.generated, f.Line(label));  // nothing left behind either
  CHECK(f.generated >= 2);
  // PostgreSQL found every mark where it expected it (it warns when its own rename fails).
  CHECK(p.pg.LogText().find("could not rename") == std::string::npos);
  return f;
}

std::string UniquePath(const std::string& what) {
  std::random_device rd;
  return "/fault-" + what + "-" + std::to_string(getpid()) + "-" + std::to_string(rd() % 1000000);
}

constexpr const char* kCipher = "fault-cipher-pass";

// One private RGW for the S3 faults of this program (started on first use, ~5 s).
PrivateRgw& Rgw() {
  static PrivateRgw rgw;
  return rgw;
}

// A primary archiving to the encrypted S3 Archive "rgw" on the private RGW.
struct S3Primary : ArchivingPrimary {
  explicit S3Primary(const std::string& label, const S3Service& s3 = Rgw().service())
      : ArchivingPrimary(label, "rgw", S3Archive("rgw", s3, UniquePath(label), s3.port),
                         SecretEnv(s3, s3.secret, kCipher)),
        s3(s3) {}
  void RestartWithSecret(const std::string& secret) {
    sidecar_env = SecretEnv(s3, secret, kCipher);
    StartSidecar();
  }
  S3Service s3;
};

// Segments of the stanza stored in a posix repository, by name (each copy counted; the temporary
// files a failed write leaves behind are not stored segments).
std::map<std::string, int> PosixCopies(const std::string& repo) {
  std::map<std::string, int> out;
  std::string root = repo + "/archive/cluster-example";
  if (!FileExists(root)) return out;
  for (auto& e : std::filesystem::recursive_directory_iterator(root)) {
    std::string f = e.path().filename().string();
    if (e.is_regular_file() && f.size() > 24 && f[24] == '-' && !f.ends_with(".pgbackrest.tmp")) ++out[f.substr(0, 24)];
  }
  return out;
}

}  // namespace

TEST_CASE("The object store stopped for 30 seconds during a WAL burst, then started again: nothing lost") {
  S3Primary p("fault-rgw-down");
  std::string first = ArchiveFirstSegment(p);
  std::size_t backlog_in_outage = 0;
  {
    WalBurst burst(p.pg, std::chrono::milliseconds(700));
    REQUIRE(WaitUntil([&] { return burst.segments() >= 3; }, std::chrono::seconds(60)));
    // radosgw alone (the memstore OSD keeps the objects), as an object store restarting would.
    Rgw().StopGateway();
    std::this_thread::sleep_for(std::chrono::seconds(30));  // the outage itself, not a wait for a state
    backlog_in_outage = p.pg.ReadyFiles().size();
    Rgw().StartGateway();
    int after_restart = burst.segments();
    REQUIRE(WaitUntil([&] { return burst.segments() >= after_restart + 3; }, std::chrono::seconds(60)));
    CHECK(burst.errors() == 0);
  }
  // The outage was real: PostgreSQL could not archive while the store was down. (Its archive_command
  // may just wait: pgBackRest retries the store within --wal-timeout, so failed_count may not move.)
  CHECK_MESSAGE(backlog_in_outage >= 5, backlog_in_outage << " segments waiting at the end of the outage");
  DrainAndAudit(p, first, "rgw stopped 30 s");
}

TEST_CASE("The sidecar killed during a synchronous push and during an async worker run: PostgreSQL keeps archiving") {
  ArchivingPrimary p("fault-sidecar-kill", "local");
  p.sidecar_flags = {"--wal-push-parallel=2"};
  p.StartSidecar();
  std::string first = ArchiveFirstSegment(p);
  // The pushes of this primary's sidecar (its configuration path is unique to this test).
  std::string config = "--config=" + p.work + "/local/pgbackrest.conf";

  {
    // A WAL burst; the sidecar dies while one of its synchronous archive-push children runs.
    WalBurst burst(p.pg, std::chrono::milliseconds(300));
    std::vector<ProcessInfo> push;
    bool seen = WaitUntil(
        [&] {
          push = FindProcesses({config, "archive-push"});
          push.erase(std::remove_if(push.begin(), push.end(),
                                    [&](const ProcessInfo& i) {
                                      return i.ppid != p.sidecar->pid() ||
                                             i.cmdline.find("--no-archive-async") == std::string::npos;
                                    }),
                     push.end());
          return !push.empty();
        },
        std::chrono::seconds(60), std::chrono::milliseconds(2));
    REQUIRE_MESSAGE(seen, "no synchronous archive-push seen\n" << p.Diagnostics());
    p.sidecar->Kill(SIGKILL);
    MESSAGE("sidecar killed while pushing: " << push[0].cmdline);
    std::this_thread::sleep_for(std::chrono::seconds(2));  // PostgreSQL's calls fail meanwhile
    p.StartSidecar();
    int after_restart = burst.segments();
    REQUIRE(WaitUntil([&] { return burst.segments() >= after_restart + 3; }, std::chrono::seconds(60)));
    CHECK(burst.errors() == 0);
  }

  // A backlog while PostgreSQL cannot reach the plugin: the restarted sidecar pushes it ahead in one
  // async worker run, and is killed while that worker runs.
  REQUIRE_MESSAGE(p.pg.WaitArchived(std::chrono::seconds(120)), p.Diagnostics());
  SetArchiveCommand(p, false);
  p.sidecar->Kill(SIGKILL);
  for (int i = 0; i < 12; ++i) {
    p.pg.Sql("INSERT INTO burst SELECT g, md5(random()::text) FROM generate_series(1, 20000) g");
    p.pg.SwitchWal();
  }
  p.StartSidecar();
  bool worker_seen = WaitUntil(
      [&] {
        return !FindProcesses({config, "archive-push:async"}).empty();
      },
      std::chrono::seconds(60), std::chrono::milliseconds(2));
  REQUIRE_MESSAGE(worker_seen, "no async worker seen\n" << p.Diagnostics());
  p.sidecar->Kill(SIGKILL);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  p.StartSidecar();
  SetArchiveCommand(p, true);
  DrainAndAudit(p, first, "sidecar SIGKILL in a sync push and in an async run");
  // Each segment is in the repository once, killed pushes included.
  auto copies = PosixCopies(p.repo);
  // (No structured bindings in doctest's message lambdas: clang 14 cannot capture them.)
  for (const auto& copy : copies) CHECK_MESSAGE(copy.second == 1, copy.first << " stored " << copy.second << " times");
}

TEST_CASE("Wrong S3 credentials during a WAL burst, then fixed: archiving resumes and nothing is lost") {
  S3Primary p("fault-credentials");
  std::string first = ArchiveFirstSegment(p);
  p.RestartWithSecret("not-the-secret-key-of-this-user");
  int failed_before = std::stoi(p.pg.Sql("SELECT failed_count FROM pg_stat_archiver"));
  std::vector<std::string> held;
  for (int i = 0; i < 5; ++i) held.push_back(p.pg.SwitchWal());
  // PostgreSQL tries and is refused: the segments stay .ready, none .done.
  REQUIRE_MESSAGE(
      WaitUntil([&] { return std::stoi(p.pg.Sql("SELECT failed_count FROM pg_stat_archiver")) > failed_before; },
                std::chrono::seconds(120)),
      p.Diagnostics());
  auto done = p.pg.DoneFiles();
  for (const auto& seg : held)
    CHECK_MESSAGE(std::count(done.begin(), done.end(), seg) == 0, seg << " .done with a wrong key");
  CHECK(p.sidecar->Log().find("not-the-secret-key-of-this-user") == std::string::npos);

  p.RestartWithSecret(p.s3.secret);
  auto f = DrainAndAudit(p, first, "wrong S3 secret, then fixed");
  CHECK(f.archived >= static_cast<int>(held.size()));
}

TEST_CASE("A full repository disk, then space freed: archiving resumes, nothing lost, no OK for an unstored segment") {
  RequireService(geteuid() == 0, "root (to mount a small tmpfs repository)");
  // The repository is a 96 MiB tmpfs of its own, mounted before the primary exists.
  ScratchDir mnt("fault-disk");
  std::string repo = mnt / "repo";
  std::filesystem::create_directories(repo);
  REQUIRE_MESSAGE(mount("tmpfs", repo.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=96m,mode=0700") == 0,
                  "mount -t tmpfs: " << std::strerror(errno));
  struct Unmount {
    std::string path;
    ~Unmount() { umount2(path.c_str(), MNT_DETACH); }
  } unmount{repo};
  struct stat owner;
  REQUIRE(stat(mnt.path().c_str(), &owner) == 0);  // postgres, as ScratchDir made it
  REQUIRE(chown(repo.c_str(), owner.st_uid, owner.st_gid) == 0);

  ArchivingPrimary p("fault-disk", "local", PosixArchive("local", repo));
  std::string first = ArchiveFirstSegment(p);
  // Fill the disk but for 256 KiB: less than any segment of the burst needs.
  struct statvfs fs;
  REQUIRE(statvfs(repo.c_str(), &fs) == 0);
  std::string filler = repo + "/filler";
  {
    std::ofstream out(filler, std::ios::binary);
    std::string chunk(1 << 20, 'x');
    long long left = static_cast<long long>(fs.f_bavail) * fs.f_frsize - (256 << 10);
    for (; left > 0; left -= chunk.size()) out.write(chunk.data(), std::min<long long>(left, chunk.size()));
  }
  REQUIRE(statvfs(repo.c_str(), &fs) == 0);
  MESSAGE("repository free space: " << fs.f_bavail * fs.f_frsize / 1024 << " KiB");

  int failed_before = std::stoi(p.pg.Sql("SELECT failed_count FROM pg_stat_archiver"));
  std::vector<std::string> held;
  p.pg.Sql("CREATE TABLE burst(id int, payload text)");
  for (int i = 0; i < 4; ++i) {
    p.pg.Sql("INSERT INTO burst SELECT g, md5(random()::text) || md5(random()::text) FROM generate_series(1, 40000) g");
    held.push_back(p.pg.SwitchWal());
  }
  REQUIRE_MESSAGE(
      WaitUntil([&] { return std::stoi(p.pg.Sql("SELECT failed_count FROM pg_stat_archiver")) > failed_before; },
                std::chrono::seconds(120)),
      p.Diagnostics());
  // While the disk is full no held segment is acknowledged, and none sits in the repository.
  auto done = p.pg.DoneFiles();
  auto copies = PosixCopies(repo);
  for (const auto& seg : held) {
    CHECK_MESSAGE(std::count(done.begin(), done.end(), seg) == 0, seg << " .done on a full disk");
    CHECK_MESSAGE(copies[seg] == 0, seg << " in the repository while .ready");
  }
  std::string log = p.sidecar->Log();
  CHECK_MESSAGE(log.find("[FileWriteError] unable to write") != std::string::npos, log);

  std::filesystem::remove(filler);
  auto f = DrainAndAudit(p, first, "full repository disk, then space freed");
  CHECK(f.archived >= static_cast<int>(held.size()));
  for (const auto& copy : PosixCopies(repo))
    CHECK_MESSAGE(copy.second == 1, copy.first << " stored " << copy.second << " times");
  p.pg.Stop();  // before the tmpfs goes
}

TEST_CASE("Sixteen concurrent Archive calls for the same segment: each OK or a clean error, stored once, restorable") {
  ArchivingPrimary p("fault-storm", "local");
  p.KeepAllWal();
  bool new_stanza = true;
  SUBCASE("the first segment of a new cluster (the stanza is created by the first call)") {}
  SUBCASE("a segment of an existing stanza") { new_stanza = false; }
  // PostgreSQL does not archive by itself meanwhile: only the storm's calls reach the plugin.
  SetArchiveCommand(p, false);
  if (!new_stanza) {
    SetArchiveCommand(p, true);
    ArchiveFirstSegment(p);
    SetArchiveCommand(p, false);
  }
  std::string first = p.CurrentSegment();
  std::string seg = p.pg.SwitchWal();
  std::string path = p.pg.pgdata() + "/pg_wal/" + seg;

  constexpr int kCalls = 16;
  std::vector<grpc::Status> results(kCalls);
  std::atomic<int> waiting{kCalls};
  std::vector<std::thread> callers;
  for (int i = 0; i < kCalls; ++i)
    callers.emplace_back([&, i] {
      --waiting;
      while (waiting > 0) std::this_thread::yield();  // all start together
      results[i] = CallArchive(p.sidecar->socket_path(), p.cluster.dump(), path, new_stanza);
    });
  for (auto& t : callers) t.join();
  std::map<std::string, int> tally;
  int ok = 0;
  for (const auto& s : results) {
    ++tally[s.ok() ? "OK" : std::to_string(s.error_code()) + " " + s.error_message().substr(0, 120)];
    ok += s.ok();
    if (s.ok()) continue;
    // A clean error: a status with its reason, never a crash or an internal failure.
    CHECK_MESSAGE((s.error_code() != grpc::StatusCode::UNKNOWN && s.error_code() != grpc::StatusCode::INTERNAL &&
                   !s.error_message().empty()),
                  s.error_code() << " " << s.error_message());
  }
  for (const auto& answer : tally) MESSAGE(answer.second << " x " << answer.first);
  CHECK(ok >= 1);
  // The sidecar survived the storm and the segment is stored once.
  auto probe = RunAsPostgres({Programs::Get().sidecar, "probe", "--plugin-path=" + p.plugins, "--probe-timeout=2s"});
  CHECK_MESSAGE(probe.exit_code == 0, p.sidecar->Log());
  CHECK(PosixCopies(p.repo)[seg] == 1);
  // PostgreSQL's own call for it is OK (an identical segment is already archived).
  SetArchiveCommand(p, true);
  DrainAndAudit(p, first,
                std::string("16 concurrent Archive calls, ") + (new_stanza ? "new stanza" : "existing stanza"));
  CHECK(PosixCopies(p.repo)[seg] == 1);
}
