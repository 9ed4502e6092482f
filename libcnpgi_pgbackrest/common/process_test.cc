#include "common/process.h"

#include <cstdio>
#include <fstream>
#include <signal.h>
#include <string>
#include <unistd.h>

#include <doctest/doctest.h>

using namespace cnpgi_pgbackrest;

TEST_CASE("RunProcess captures exit code, stdout and stderr") {
  auto r = RunProcess({.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"}, .env = {"PATH=/usr/bin:/bin"}});
  REQUIRE(r.ok());
  CHECK(r->exit_code == 3);
  CHECK(r->out == "out\n");
  CHECK(r->err == "err\n");
  CHECK_FALSE(r->ok());
}

TEST_CASE("RunProcess passes exactly the given environment") {
  auto r = RunProcess({.argv = {"sh", "-c", "echo \"$ONLY:$HOME\""}, .env = {"PATH=/usr/bin:/bin", "ONLY=yes"}});
  REQUIRE(r.ok());
  CHECK(r->out == "yes:\n");
}

TEST_CASE("RunProcess stops a child that overruns its timeout, including its process group") {
  auto r = RunProcess({.argv = {"sh", "-c", "sleep 30 & sleep 30"},
                       .env = {"PATH=/usr/bin:/bin"},
                       .timeout = std::chrono::milliseconds(200)});
  REQUIRE(r.ok());
  CHECK(r->timed_out);
  CHECK(r->elapsed < std::chrono::seconds(10));
}

TEST_CASE("RunProcess stops a child when the caller cancels") {
  int polls = 0;
  auto r =
      RunProcess({.argv = {"sleep", "30"}, .env = {"PATH=/usr/bin:/bin"}, .cancelled = [&] { return ++polls > 3; }});
  REQUIRE(r.ok());
  CHECK(r->cancelled);
}

TEST_CASE("RunProcess reports a missing program as an error, not a crash") {
  auto r = RunProcess({.argv = {"/nonexistent/program"}, .env = {}});
  CHECK_FALSE(r.ok());
  CHECK(r.status().message().find("/nonexistent/program") != std::string::npos);
}

TEST_CASE("RunProcess does not wait for a daemon that keeps the pipes open") {
  auto r = RunProcess({.argv = {"sh", "-c", "(sleep 5 &) ; echo done"}, .env = {"PATH=/usr/bin:/bin"}});
  REQUIRE(r.ok());
  CHECK(r->exit_code == 0);
  CHECK(r->elapsed < std::chrono::seconds(4));
}

TEST_CASE("InheritedEnvironment drops what the filter names") {
  setenv("PGBACKREST_SERVICE_HOST", "10.0.0.1", 1);
  auto env = InheritedEnvironment([](absl::string_view n) { return n.rfind("PGBACKREST_", 0) == 0; });
  for (const auto& e : env) CHECK(e.rfind("PGBACKREST_", 0) != 0);
  unsetenv("PGBACKREST_SERVICE_HOST");
}

namespace {

// The state letter of /proc/<pid>/stat ('Z' for a zombie), or 0 when the process is gone.
char ProcessState(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() ? 0 : stat[close + 2];
}

}  // namespace

TEST_CASE("A child killed by a signal takes its process group with it (pgBackRest's local workers)") {
  // The shell starts a worker in its group, then dies by SIGKILL as a killed `pgbackrest backup` does.
  char tmpl[] = "/tmp/cnpgi-group-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  auto r = RunProcess({.argv = {"sh", "-c", "sleep 60 & echo $! > " + dir + "/worker; kill -9 $$"},
                       .env = {"PATH=/usr/bin:/bin"},
                       .timeout = std::chrono::seconds(30)});
  REQUIRE(r.ok());
  CHECK(r->term_signal == SIGKILL);
  long worker = 0;
  std::ifstream(dir + "/worker") >> worker;
  REQUIRE(worker > 0);
  char state = ProcessState(worker);
  CHECK_MESSAGE((state == 0 || state == 'Z'), "the worker still runs in state " << state);
  if (state != 0 && state != 'Z') kill(static_cast<pid_t>(worker), SIGKILL);
  std::remove((dir + "/worker").c_str());
  rmdir(dir.c_str());
}

TEST_CASE("A child that exits normally leaves what it detached into its own session alone") {
  // pgBackRest's async archive-push worker detaches (setsid) and must survive its foreground process.
  char tmpl[] = "/tmp/cnpgi-group-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  auto r = RunProcess({.argv = {"sh", "-c", "setsid sleep 60 >/dev/null 2>&1 & echo $! > " + dir + "/worker"},
                       .env = {"PATH=/usr/bin:/bin"}});
  REQUIRE(r.ok());
  CHECK(r->exit_code == 0);
  long worker = 0;
  std::ifstream(dir + "/worker") >> worker;
  REQUIRE(worker > 0);
  char state = ProcessState(worker);
  CHECK((state != 0 && state != 'Z'));
  kill(static_cast<pid_t>(worker), SIGKILL);
  std::remove((dir + "/worker").c_str());
  rmdir(dir.c_str());
}
