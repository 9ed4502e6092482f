#include "common/process.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <sys/syscall.h>
#include <sys/wait.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

#include "common/files.h"

extern char** environ;

namespace cnpgi_pgbackrest {
namespace {

using Clock = std::chrono::steady_clock;

struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() {
    for (int f : fd)
      if (f >= 0) close(f);
  }
};

void AppendCapped(std::string& to, const char* data, std::size_t n, std::size_t cap) {
  if (to.size() >= cap) return;
  to.append(data, std::min(n, cap - to.size()));
}

// Stops the whole process group: pgbackrest may have forked helpers.
void StopGroup(pid_t pid, int* status) {
  kill(-pid, SIGTERM);
  auto give_up = Clock::now() + std::chrono::seconds(3);
  while (Clock::now() < give_up) {
    if (waitpid(pid, status, WNOHANG) == pid) return;
    usleep(20000);
  }
  kill(-pid, SIGKILL);
  waitpid(pid, status, 0);
}

// Whether any process of group pgid is still running (zombies hold no descriptors or locks).
bool GroupRunning(pid_t pgid) {
  for (const auto& pid : ListDirectory("/proc")) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(pid[0]))) continue;
    std::string stat = ReadFileText(absl::StrCat("/proc/", pid, "/stat"));
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so parse after the last ')'.
    auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (std::sscanf(stat.c_str() + close + 1, " %c %ld %ld", &state, &ppid, &pgrp) == 3 && pgrp == pgid &&
        state != 'Z' && state != 'X')
      return true;
  }
  return false;
}

// After the leader died by a signal, its children live on in its group: pgBackRest's local
// workers keep copying and hold the backup lock through inherited descriptors, so the next
// command would find it taken. End them and wait until none runs. The detached async
// archive-push worker starts a session of its own and is never in this group.
void EndGroup(pid_t pgid) {
  if (kill(-pgid, SIGKILL) != 0) return;  // nothing left
  auto give_up = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < give_up) {
    while (waitpid(-pgid, nullptr, WNOHANG) > 0) {
    }  // our own children only when we are their subreaper
    if (!GroupRunning(pgid)) return;
    usleep(10000);
  }
}

}  // namespace

absl::StatusOr<ProcessResult> RunProcess(const ProcessSpec& spec) {
  if (spec.argv.empty()) return absl::InvalidArgumentError("no program to run");
  Pipe out, err;
  if (pipe2(out.fd, O_CLOEXEC) != 0 || pipe2(err.fd, O_CLOEXEC) != 0)
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.fd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err.fd[1], 2);
  if (!spec.working_dir.empty()) posix_spawn_file_actions_addchdir_np(&actions, spec.working_dir.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> argv, envp;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  // posix_spawnp searches the caller's PATH, which is what an operator expects.
  pid_t pid = -1;
  auto start = Clock::now();
  int rc = posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    return absl::FailedPreconditionError(absl::StrCat("cannot run '", spec.argv[0], "': ", std::strerror(rc)));
  close(out.fd[1]);
  out.fd[1] = -1;
  close(err.fd[1]);
  err.fd[1] = -1;

  ProcessResult result;
  int status = 0;
  bool exited = false;
  // A pidfd wakes poll the moment the child exits: pgBackRest's detached async worker keeps
  // our pipes open, so their hang-up would never come.
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  pollfd fds[3] = {{out.fd[0], POLLIN, 0}, {err.fd[0], POLLIN, 0}, {pidfd, POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  char buf[16384];
  int open_fds = 2;
  while (true) {
    int n = poll(fds, pidfd >= 0 ? 3 : 2, exited ? 0 : 50);
    if (n > 0) {
      if (pidfd >= 0 && (fds[2].revents & POLLIN)) fds[2].fd = -1;  // exited: reaped below
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t got = read(fds[i].fd, buf, sizeof buf);
        if (got > 0) {
          AppendCapped(*sinks[i], buf, static_cast<std::size_t>(got), spec.max_output_bytes);
        } else if (got == 0 || errno != EINTR) {
          fds[i].fd = -1;
          --open_fds;
        }
      }
    }
    if (!exited && waitpid(pid, &status, WNOHANG) == pid) exited = true;
    // A daemon forked by the child may keep the pipes open: once the child is
    // gone, take what is buffered and stop reading.
    if (exited && (open_fds == 0 || n <= 0)) break;
    if (exited) continue;
    if (spec.timeout.count() > 0 && Clock::now() - start > spec.timeout) {
      result.timed_out = true;
      StopGroup(pid, &status);
      break;
    }
    if (spec.cancelled && spec.cancelled()) {
      result.cancelled = true;
      StopGroup(pid, &status);
      break;
    }
  }
  if (pidfd >= 0) close(pidfd);
  if (WIFSIGNALED(status)) EndGroup(pid);
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.term_signal = WTERMSIG(status);
  return result;
}

absl::Status ExecProcess(const ProcessSpec& spec) {
  if (spec.argv.empty()) return absl::InvalidArgumentError("no program to run");
  std::vector<char*> argv, envp;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  if (!spec.working_dir.empty() && chdir(spec.working_dir.c_str()) != 0)
    return absl::FailedPreconditionError(absl::StrCat("cannot enter ", spec.working_dir, ": ", std::strerror(errno)));
  execvpe(argv[0], argv.data(), envp.data());
  return absl::FailedPreconditionError(absl::StrCat("cannot run '", spec.argv[0], "': ", std::strerror(errno)));
}

std::vector<std::string> InheritedEnvironment(const std::function<bool(absl::string_view)>& drop) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    absl::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq == absl::string_view::npos) continue;
    if (drop && drop(entry.substr(0, eq))) continue;
    env.emplace_back(entry);
  }
  return env;
}

}  // namespace cnpgi_pgbackrest
