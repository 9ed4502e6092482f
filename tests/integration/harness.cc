// Integration-test harness: the programs under test, scratch directories, processes and files.
#include "harness.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <grp.h>
#include <iostream>
#include <pwd.h>
#include <regex>
#include <set>
#include <signal.h>
#include <sstream>
#include <thread>
#include <unistd.h>

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "absl/strings/string_view.h"

#include "common/wal_name.h"
#include "harness_internal.h"

namespace cnpgi_it {
namespace internal {

std::string Env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

PostgresUser PgUser() {
  passwd* pw = getpwnam("postgres");
  REQUIRE_MESSAGE(pw != nullptr, "the postgres user does not exist (install postgresql-15)");
  return {pw->pw_uid, pw->pw_gid};
}

void ChownToPostgres(const std::string& path) {
  if (geteuid() != 0) return;
  auto u = PgUser();
  REQUIRE(chown(path.c_str(), u.uid, u.gid) == 0);
}

ProcessResult Run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  ProcessSpec spec;
  spec.argv = argv;
  spec.env = InheritedEnvironment();
  spec.timeout = timeout;
  auto r = RunProcess(spec);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return *r;
}

}  // namespace internal

using namespace internal;

const Programs& Programs::Get() {
  static Programs p{Env("CNPGI_SIDECAR_BIN"), Env("CNPGI_STANDIN_BIN")};
  return p;
}

void RequireService(bool available, const std::string& what) {
  if (available) return;
  if (Env("CNPGI_INTEGRATION", "required") == "skip") {
    std::cerr << "\n*** SKIPPED: " << what << " is not available; integration tests were NOT run ***\n\n";
    std::exit(77);  // meson: skipped
  }
  FAIL(what << " is not available (configure with -Dintegration=skip to skip on a developer machine)");
}

ProcessResult RunAsPostgres(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                            std::chrono::milliseconds timeout) {
  std::vector<std::string> full;
  if (geteuid() == 0) full = {"runuser", "-u", "postgres", "--"};
  full.push_back("env");
  full.insert(full.end(), env.begin(), env.end());
  full.insert(full.end(), argv.begin(), argv.end());
  return Run(full, timeout);
}

ScratchDir::ScratchDir(const std::string& label) {
  std::string tmpl = "/tmp/cnpgi-it-" + label + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  REQUIRE(mkdtemp(buf.data()) != nullptr);
  path_ = buf.data();
  chmod(path_.c_str(), 0755);
  ChownToPostgres(path_);
}

ScratchDir::~ScratchDir() {
  if (Env("CNPGI_KEEP_SCRATCH") == "1") {
    std::cerr << "keeping " << path_ << "\n";
    return;
  }
  std::filesystem::remove_all(path_);
}

std::string ScratchDir::MakeDir(const std::string& sub) const {
  std::string p = path_ + "/" + sub;
  std::filesystem::create_directories(p);
  chmod(p.c_str(), 0700);
  ChownToPostgres(p);
  return p;
}

void ScratchDir::WriteFile(const std::string& sub, const std::string& content) const {
  std::string p = path_ + "/" + sub;
  std::ofstream(p) << content;
  ChownToPostgres(p);
}

int FreeTcpPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool FileExists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds limit, std::chrono::milliseconds step) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(step);
  }
  return done();
}

std::vector<ProcessInfo> FindProcesses(const std::vector<std::string>& needles) {
  std::vector<ProcessInfo> out;
  for (const auto& entry : ListDir("/proc")) {
    if (entry.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = ReadFile("/proc/" + entry + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (!std::all_of(needles.begin(), needles.end(),
                     [&](const std::string& n) { return cmdline.find(n) != std::string::npos; }))
      continue;
    // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ')'.
    std::string stat = ReadFile("/proc/" + entry + "/stat");
    auto paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream rest(stat.substr(paren + 1));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (state == 'Z' || state == 'X') continue;
    out.push_back({static_cast<pid_t>(std::stol(entry)), ppid, cmdline});
  }
  return out;
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) out.emplace_back(e->d_name);
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace cnpgi_it
