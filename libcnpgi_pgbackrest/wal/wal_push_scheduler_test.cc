#include "wal/wal_push_scheduler.h"

#include <algorithm>
#include <atomic>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <unistd.h>

#include <doctest/doctest.h>
#include <sys/file.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

using namespace cnpgi_pgbackrest;
namespace fs = std::filesystem;

namespace {

std::string Segment(int n) {
  char name[25];
  snprintf(name, sizeof name, "0000000100000000000000%02X", n);
  return name;
}

// pg_wal with archive_status, and pgBackRest's spool and lock, in a scratch directory.
struct Scratch {
  Scratch() {
    char tmpl[] = "/tmp/cnpgi-push-XXXXXX";
    root = mkdtemp(tmpl);
    wal = root + "/pg_wal";
    fs::create_directories(wal + "/archive_status");
    std::ofstream(root + "/postmaster.pid") << "1\n";  // PostgreSQL runs
    spool = AsyncPushSpoolFor(root + "/archive", "main");
    fs::create_directories(spool.out_dir);
    fs::create_directories(fs::path(spool.lock_file).parent_path());
  }
  ~Scratch() { fs::remove_all(root); }
  std::string Ready(int n) {
    std::ofstream(wal + "/" + Segment(n)) << "wal";
    std::ofstream(wal + "/archive_status/" + Segment(n) + ".ready");
    return wal + "/" + Segment(n);
  }
  std::string root, wal;
  AsyncPushSpool spool;
};

// Records pushes; async pushes act like pgBackRest's worker: every .ready file gets its .ok.
struct FakePusher {
  absl::Mutex mu;
  std::vector<std::pair<std::string, bool>> calls;
  std::function<absl::Status(int)> result = [](int) { return absl::OkStatus(); };  // by call number
  std::atomic<bool> hold{false};
  std::set<std::string> held, failing;  // by segment: pushes that wait while held, or fail
  bool write_ok = true;                 // async pushes leave .ok files (a worker that stored them)

  WalPushScheduler::Target Target(Scratch& s, bool async) {
    WalPushScheduler::Target t{.identity = "archive/main"};
    t.push = [this, &s](const std::string& path, bool is_async, const std::function<bool()>& cancelled) {
      int n;
      std::string name = path.substr(path.rfind('/') + 1);
      {
        absl::MutexLock lock(&mu);
        calls.emplace_back(name, is_async);
        n = static_cast<int>(calls.size());
      }
      auto is_held = [&] {
        absl::MutexLock lock(&mu);
        return hold || held.count(name) > 0;
      };
      while (is_held() && !cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      absl::Status status = result(n);
      {
        absl::MutexLock lock(&mu);
        if (failing.count(name)) status = absl::UnavailableError("repository down");
      }
      if (is_async && status.ok() && write_ok)
        for (const auto& e : fs::directory_iterator(s.wal + "/archive_status"))
          if (e.path().extension() == ".ready")
            std::ofstream(absl::StrCat(s.spool.out_dir, "/", e.path().stem().string(), ".ok"));
      return status;
    };
    if (async) t.async = s.spool;
    return t;
  }
  std::size_t count() {
    absl::MutexLock lock(&mu);
    return calls.size();
  }
  void Release(const std::string& name) {
    absl::MutexLock lock(&mu);
    held.erase(name);
  }
  bool WaitFor(std::size_t n) {
    for (int i = 0; i < 500 && count() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return count() >= n;
  }
};

WalPushScheduler::Options Opts(const Scratch& s, bool ahead, int parallel = 2) {
  return {.wal_dir = s.wal, .parallel = parallel, .ahead = ahead, .timeout = std::chrono::seconds(20)};
}

// Segment 1 .ready for the call to ask about, and segment 2 .ready with its push held until released.
std::string AskedWithSecondInFlight(Scratch& s, FakePusher& pusher) {
  pusher.held = {Segment(2)};
  std::string asked = s.Ready(1);
  s.Ready(2);
  return asked;
}

bool Marked(const Scratch& s, const std::string& name, const char* mark) {
  return fs::exists(s.wal + "/archive_status/" + name + mark);
}

// One turn of PostgreSQL's archiver for segment n: skipped (true, no call) when its .ready mark is
// gone, else the Archive call, and .ready becomes .done after success. Counts the calls made.
struct Archiver {
  Scratch& s;
  WalPushScheduler& scheduler;
  int calls = 0;
  absl::Status Turn(int n) {
    std::string ready = s.wal + "/archive_status/" + Segment(n) + ".ready";
    if (!fs::exists(ready)) return absl::OkStatus();
    ++calls;
    absl::Status st = scheduler.Archive(s.wal + "/" + Segment(n), [] { return false; });
    if (st.ok()) fs::rename(ready, s.wal + "/archive_status/" + Segment(n) + ".done");
    return st;
  }
};

const std::function<bool()> kNever = [] { return false; };

}  // namespace

TEST_CASE("push-ahead starts a lone segment's push on its .ready mark, before PostgreSQL asks") {
  Scratch s;
  FakePusher pusher;
  WalPushScheduler scheduler(Opts(s, true));
  scheduler.Arm(pusher.Target(s, false));
  std::string path = s.Ready(1);
  REQUIRE(pusher.WaitFor(1));
  CHECK(pusher.calls[0] == std::make_pair(Segment(1), false));
  CHECK(scheduler.Archive(path, kNever).ok());
  CHECK(pusher.count() == 1);  // the Archive call found it stored
  // Until PostgreSQL renames 1's .ready, the next segment's mark must not push 1 again.
  std::string next = s.Ready(2);
  REQUIRE(pusher.WaitFor(2));
  CHECK(scheduler.Archive(next, kNever).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(pusher.count() == 2);
  CHECK(pusher.calls[1].first == Segment(2));
}

TEST_CASE("a backlog goes to one async push; later calls are answered from pgBackRest's .ok files") {
  Scratch s;
  FakePusher pusher;
  std::vector<std::string> paths;
  for (int i = 1; i <= 6; ++i) paths.push_back(s.Ready(i));
  WalPushScheduler::Options options = Opts(s, false);
  options.mark_done = false;  // so that PostgreSQL asks for every segment
  WalPushScheduler scheduler(options);
  scheduler.Arm(pusher.Target(s, true));
  for (const auto& p : paths) CHECK(scheduler.Archive(p, kNever).ok());
  REQUIRE(pusher.count() == 1);
  CHECK(pusher.calls[0] == std::make_pair(Segment(1), true));
  CHECK(scheduler.marked_done() == 0);
  for (int i = 2; i <= 6; ++i) CHECK(Marked(s, Segment(i), ".ready"));
}

TEST_CASE("during a call, segments the worker stored are marked .done and PostgreSQL skips them") {
  Scratch s;
  FakePusher pusher;
  for (int i = 1; i <= 6; ++i) s.Ready(i);
  WalPushScheduler scheduler(Opts(s, false));
  scheduler.Arm(pusher.Target(s, true));
  Archiver pg{s, scheduler};
  CHECK(pg.Turn(1).ok());
  for (int i = 2; i <= 6; ++i) {
    CHECK(Marked(s, Segment(i), ".done"));
    CHECK_FALSE(Marked(s, Segment(i), ".ready"));
    CHECK(pg.Turn(i).ok());
  }
  CHECK(pg.calls == 1);  // one archive_command for six segments
  CHECK(pusher.count() == 1);
  CHECK(scheduler.marked_done() == 5);
}

TEST_CASE("no mark is renamed before its segment is stored, nor the asked one's") {
  Scratch s;
  FakePusher pusher;
  pusher.failing = {Segment(2)};
  pusher.held = {Segment(3)};
  std::string asked = s.Ready(1);
  s.Ready(2);
  s.Ready(3);
  WalPushScheduler::Options options = Opts(s, false, 3);  // 1, 2 and 3 start together
  options.mark_done_linger = std::chrono::milliseconds(300);
  WalPushScheduler scheduler(options);
  scheduler.Arm(pusher.Target(s, false));
  CHECK(scheduler.Archive(asked, kNever).ok());
  CHECK(pusher.count() == 3);
  CHECK(Marked(s, Segment(1), ".ready"));  // PostgreSQL renames it when the call returns
  CHECK(Marked(s, Segment(2), ".ready"));  // its push failed
  CHECK(Marked(s, Segment(3), ".ready"));  // still being pushed when the stay ran out
  CHECK(scheduler.marked_done() == 0);
  pusher.Release(Segment(3));
}

TEST_CASE("a call whose segment is stored stays while a later push is in flight, and marks it when it lands") {
  Scratch s;
  FakePusher pusher;
  std::string asked = AskedWithSecondInFlight(s, pusher);
  WalPushScheduler scheduler(Opts(s, false, 2));
  scheduler.Arm(pusher.Target(s, false));
  std::thread release([&] {
    REQUIRE(pusher.WaitFor(2));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    pusher.Release(Segment(2));
  });
  CHECK(scheduler.Archive(asked, kNever).ok());
  // Returning before 2 landed would have left its .ready for another archive_command.
  CHECK(Marked(s, Segment(2), ".done"));
  CHECK(scheduler.marked_done() == 1);
  release.join();
}

TEST_CASE("a history file waiting for PostgreSQL ends the stay at once") {
  Scratch s;
  FakePusher pusher;
  std::string asked = AskedWithSecondInFlight(s, pusher);
  std::ofstream(s.wal + "/00000002.history") << "history";
  std::ofstream(s.wal + "/archive_status/00000002.history.ready");
  WalPushScheduler::Options options = Opts(s, false, 3);
  options.mark_done_linger = std::chrono::seconds(60);
  WalPushScheduler scheduler(options);
  scheduler.Arm(pusher.Target(s, false));
  auto begun = std::chrono::steady_clock::now();
  REQUIRE(scheduler.Archive(asked, kNever).ok());
  // Not a speed claim: a stay that ignored the history file would last the whole minute.
  CHECK(std::chrono::steady_clock::now() - begun < std::chrono::seconds(30));
  CHECK(Marked(s, Segment(2), ".ready"));          // still in flight: the call did not wait for it
  CHECK(Marked(s, "00000002.history", ".ready"));  // never marked: only segments are
  pusher.Release(Segment(2));
}

TEST_CASE("with PostgreSQL stopped, CNPG's instance manager is the caller: it renames marks itself") {
  Scratch s;
  fs::remove(s.root + "/postmaster.pid");
  FakePusher pusher;
  for (int i = 1; i <= 3; ++i) s.Ready(i);
  WalPushScheduler scheduler(Opts(s, false));
  scheduler.Arm(pusher.Target(s, true));
  Archiver manager{s, scheduler};  // ArchiveAllReadyWALs: Archive, then its own rename, per file
  for (int i = 1; i <= 3; ++i) CHECK(manager.Turn(i).ok());
  CHECK(manager.calls == 3);
  CHECK(scheduler.marked_done() == 0);
}

TEST_CASE("pgBackRest's warning in an .ok file reaches the target for the asked and for marked segments") {
  Scratch s;
  FakePusher pusher;
  for (int i = 1; i <= 3; ++i) {
    s.Ready(i);
    std::ofstream(s.spool.out_dir + "/" + Segment(i) + ".ok")
        << "0\ndropped WAL file '" << Segment(i) << "' because archive queue exceeded 16MB\n";
  }
  std::ofstream(s.spool.out_dir + "/" + Segment(4) + ".ok");  // no warning: nothing reported
  s.Ready(4);
  WalPushScheduler scheduler(Opts(s, true));  // push-ahead looks at them first and finds them stored
  WalPushScheduler::Target target = pusher.Target(s, true);
  std::vector<std::string> warned;
  target.warned = [&](const std::string& name, const std::string& warning) {
    CHECK(warning == "dropped WAL file '" + name + "' because archive queue exceeded 16MB");
    warned.push_back(name);
  };
  scheduler.Arm(target);
  Archiver pg{s, scheduler};
  for (int i = 1; i <= 4; ++i) CHECK(pg.Turn(i).ok());
  CHECK(pg.calls == 1);
  CHECK(pusher.count() == 0);  // answered from the worker's status files alone
  std::sort(warned.begin(), warned.end());
  CHECK(warned == std::vector<std::string>{Segment(1), Segment(2), Segment(3)});
}

TEST_CASE("a call that stays is not answered OK once the Archive changed: its segment went to the old one") {
  Scratch s;
  FakePusher pusher;
  std::string asked = AskedWithSecondInFlight(s, pusher);
  WalPushScheduler scheduler(Opts(s, false, 2));
  scheduler.Arm(pusher.Target(s, false));
  std::thread other([&] {
    REQUIRE(pusher.WaitFor(2));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // 1 stored, the call staying for 2
    WalPushScheduler::Target moved = pusher.Target(s, false);
    moved.identity = "another-archive/main";
    scheduler.Arm(moved);
  });
  absl::Status st = scheduler.Archive(asked, kNever);
  other.join();
  CHECK(st.code() == absl::StatusCode::kUnavailable);
  CHECK(Marked(s, Segment(2), ".ready"));
  pusher.Release(Segment(2));
}

TEST_CASE("a worker run that ended OK proves only the segments it left .ok files for") {
  Scratch s;
  FakePusher pusher;
  pusher.write_ok = false;
  for (int i = 1; i <= 3; ++i) s.Ready(i);
  WalPushScheduler scheduler(Opts(s, false, 1));
  scheduler.Arm(pusher.Target(s, true));
  CHECK(scheduler.Archive(s.wal + "/" + Segment(1), kNever).ok());  // its foreground waited for 1
  REQUIRE(pusher.count() == 1);
  CHECK(pusher.calls[0] == std::make_pair(Segment(1), true));
  CHECK(Marked(s, Segment(2), ".ready"));
  CHECK(Marked(s, Segment(3), ".ready"));
  CHECK(scheduler.marked_done() == 0);
}

TEST_CASE("a segment PostgreSQL asks for again is reported once") {
  Scratch s;
  FakePusher pusher;
  std::string path = s.Ready(1);
  std::ofstream(s.spool.out_dir + "/" + Segment(1) + ".ok") << "0\ndropped WAL file '" << Segment(1) << "'\n";
  WalPushScheduler scheduler(Opts(s, false));
  WalPushScheduler::Target target = pusher.Target(s, true);
  int reports = 0;
  target.warned = [&](const std::string&, const std::string&) { ++reports; };
  scheduler.Arm(target);
  CHECK(scheduler.Archive(path, kNever).ok());
  CHECK(scheduler.Archive(path, kNever).ok());  // the first answer never reached PostgreSQL
  CHECK(reports == 1);
}

TEST_CASE("with marking off, nothing but PostgreSQL renames a mark") {
  Scratch s;
  FakePusher pusher;
  std::string asked = s.Ready(1);
  s.Ready(2);
  WalPushScheduler::Options options = Opts(s, false, 2);
  options.mark_done = false;
  WalPushScheduler scheduler(options);
  scheduler.Arm(pusher.Target(s, false));
  CHECK(scheduler.Archive(asked, kNever).ok());
  REQUIRE(pusher.WaitFor(2));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(Marked(s, Segment(2), ".ready"));
  CHECK(scheduler.marked_done() == 0);
}

TEST_CASE("up to `parallel` pending segments are pushed synchronously, each once") {
  Scratch s;
  FakePusher pusher;
  s.Ready(1);
  s.Ready(2);
  WalPushScheduler scheduler(Opts(s, false, 2));
  scheduler.Arm(pusher.Target(s, true));
  Archiver pg{s, scheduler};
  CHECK(pg.Turn(1).ok());
  CHECK(pg.Turn(2).ok());
  REQUIRE(pusher.count() == 2);
  CHECK_FALSE(pusher.calls[0].second);
  CHECK_FALSE(pusher.calls[1].second);
}

TEST_CASE("a failure from before the call is retried; a failure during the call is reported") {
  Scratch s;
  FakePusher pusher;
  pusher.result = [](int n) { return n == 1 ? absl::UnavailableError("repository down") : absl::OkStatus(); };
  WalPushScheduler scheduler(Opts(s, true));
  scheduler.Arm(pusher.Target(s, false));
  std::string path = s.Ready(1);
  REQUIRE(pusher.WaitFor(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the pushed-ahead attempt has ended
  CHECK(scheduler.Archive(path, kNever).ok());
  CHECK(pusher.count() == 2);

  pusher.result = [](int) { return absl::UnavailableError("repository down"); };
  absl::Status st = scheduler.Archive(s.Ready(2), kNever);
  CHECK(st.code() == absl::StatusCode::kUnavailable);
  CHECK(st.message() == "repository down");
}

TEST_CASE("files without a .ready mark are pushed by the caller, never answered from .ok files") {
  Scratch s;
  FakePusher pusher;
  WalPushScheduler scheduler(Opts(s, true));
  scheduler.Arm(pusher.Target(s, true));
  std::string path = s.wal + "/" + Segment(7);
  std::ofstream(path) << "wal";
  std::ofstream(s.spool.out_dir + "/" + Segment(7) + ".ok");  // stale: PostgreSQL already saw it archived
  CHECK(scheduler.Archive(path, kNever).ok());
  REQUIRE(pusher.count() == 1);
  CHECK(pusher.calls[0] == std::make_pair(Segment(7), false));
}

TEST_CASE("a waiting Archive call ends when the caller cancels; the push carries on") {
  Scratch s;
  FakePusher pusher;
  pusher.hold = true;
  WalPushScheduler scheduler(Opts(s, false));
  scheduler.Arm(pusher.Target(s, false));
  int polls = 0;
  absl::Status st = scheduler.Archive(s.Ready(1), [&] { return ++polls > 3; });
  CHECK(st.code() == absl::StatusCode::kCancelled);
  CHECK(pusher.count() == 1);
  pusher.hold = false;
}

TEST_CASE("pgBackRest's spool: .ok with and without a warning, and the worker's lock seen in /proc/locks") {
  Scratch s;
  std::string warning = "x";
  CHECK_FALSE(AsyncPushStored(s.spool, Segment(1)));
  std::ofstream(s.spool.out_dir + "/" + Segment(1) + ".ok");
  CHECK(AsyncPushStored(s.spool, Segment(1), &warning));
  CHECK(warning.empty());
  std::ofstream(s.spool.out_dir + "/" + Segment(2) + ".ok") << "0\nWAL file already exists with the same checksum\n";
  CHECK(AsyncPushStored(s.spool, Segment(2), &warning));
  CHECK(warning == "WAL file already exists with the same checksum");

  CHECK_FALSE(AsyncPushWorkerRunning(s.spool));
  int fd = open(s.spool.lock_file.c_str(), O_CREAT | O_RDWR, 0600);
  REQUIRE(fd >= 0);
  CHECK_FALSE(AsyncPushWorkerRunning(s.spool));  // the file alone is not a worker
  REQUIRE(flock(fd, LOCK_EX | LOCK_NB) == 0);
  CHECK(AsyncPushWorkerRunning(s.spool));
  flock(fd, LOCK_UN);
  CHECK_FALSE(AsyncPushWorkerRunning(s.spool));
  close(fd);
}

TEST_CASE("while pgBackRest's worker holds the archive lock, nothing else is started") {
  Scratch s;
  FakePusher pusher;
  std::string a = s.Ready(1);
  s.Ready(2);
  s.Ready(3);
  int fd = open(s.spool.lock_file.c_str(), O_CREAT | O_RDWR, 0600);
  REQUIRE(flock(fd, LOCK_EX | LOCK_NB) == 0);
  WalPushScheduler scheduler(Opts(s, true));
  scheduler.Arm(pusher.Target(s, true));
  std::thread worker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::ofstream(s.spool.out_dir + "/" + Segment(1) + ".ok");
  });
  CHECK(scheduler.Archive(a, kNever).ok());
  worker.join();
  CHECK(pusher.count() == 0);
  flock(fd, LOCK_UN);
  close(fd);
}

TEST_CASE("push-ahead pauses once Archive calls stop coming, and resumes with the next one") {
  Scratch s;
  FakePusher pusher;
  WalPushScheduler::Options options = Opts(s, true);
  options.ahead_window = std::chrono::milliseconds(1000);
  WalPushScheduler scheduler(options);
  scheduler.Arm(pusher.Target(s, false));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  std::string path = s.Ready(1);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(pusher.count() == 0);  // CNPG may archive elsewhere now: nothing goes out unasked
  scheduler.Arm(pusher.Target(s, false));
  CHECK(scheduler.Archive(path, kNever).ok());
  CHECK(pusher.count() == 1);
  s.Ready(2);
  CHECK(pusher.WaitFor(2));  // armed again by that call
}

TEST_CASE("after a failed push, push-ahead backs off instead of working through the backlog") {
  Scratch s;
  FakePusher pusher;
  pusher.result = [](int) { return absl::UnavailableError("repository down"); };
  for (int i = 1; i <= 6; ++i) s.Ready(i);
  WalPushScheduler scheduler(Opts(s, true, 2));
  scheduler.Arm(pusher.Target(s, false));
  REQUIRE(pusher.WaitFor(2));
  s.Ready(7);  // a new mark during the pause starts nothing either
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(pusher.count() == 2);
  // PostgreSQL's own retry still gets an answer from a fresh attempt.
  absl::Status st = scheduler.Archive(s.wal + "/" + Segment(1), kNever);
  CHECK(st.code() == absl::StatusCode::kUnavailable);
  CHECK(pusher.count() >= 3);
}

TEST_CASE("no async worker starts while synchronous pushes run: they would write the same segments") {
  Scratch s;
  FakePusher pusher;
  pusher.hold = true;
  WalPushScheduler scheduler(Opts(s, true, 2));
  scheduler.Arm(pusher.Target(s, true));
  s.Ready(1);
  s.Ready(2);
  REQUIRE(pusher.WaitFor(2));
  for (int i = 3; i <= 5; ++i) s.Ready(i);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(pusher.count() == 2);
  pusher.hold = false;  // the slots free up: now one worker takes the rest
  REQUIRE(pusher.WaitFor(3));
  CHECK(pusher.calls[2] == std::make_pair(Segment(3), true));
  CHECK(scheduler.Archive(s.wal + "/" + Segment(5), kNever).ok());
}

TEST_CASE("when pgBackRest's worker ends, what it did not take is pushed without waiting for a call") {
  Scratch s;
  FakePusher pusher;
  int fd = open(s.spool.lock_file.c_str(), O_CREAT | O_RDWR, 0600);
  REQUIRE(flock(fd, LOCK_EX | LOCK_NB) == 0);
  WalPushScheduler scheduler(Opts(s, true, 2));
  scheduler.Arm(pusher.Target(s, true));
  s.Ready(1);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(pusher.count() == 0);  // the running worker may have it
  flock(fd, LOCK_UN);          // it ended without it: no event says so
  close(fd);
  CHECK(pusher.WaitFor(1));
}

TEST_CASE("an Archive call does not answer for a target that changed while it waited") {
  Scratch s;
  FakePusher pusher;
  pusher.hold = true;
  WalPushScheduler scheduler(Opts(s, false));
  scheduler.Arm(pusher.Target(s, false));
  std::string path = s.Ready(1);
  std::thread other([&] {
    REQUIRE(pusher.WaitFor(1));
    WalPushScheduler::Target moved = pusher.Target(s, false);
    moved.identity = "another-archive/main";
    scheduler.Arm(moved);
  });
  absl::Status st = scheduler.Archive(path, kNever);
  other.join();
  CHECK(st.code() == absl::StatusCode::kUnavailable);
  pusher.hold = false;
}

TEST_CASE("a standby pushes nothing ahead; PostgreSQL's own calls still go through") {
  Scratch s;
  FakePusher pusher;
  std::ofstream(s.root + "/standby.signal");
  WalPushScheduler scheduler(Opts(s, true));
  scheduler.Arm(pusher.Target(s, false));
  std::string path = s.Ready(1);
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));  // past the watcher's periodic re-check
  CHECK(pusher.count() == 0);
  CHECK(scheduler.Archive(path, kNever).ok());
  CHECK(pusher.count() == 1);
}
