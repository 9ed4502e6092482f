// Integration-test harness: daemons, the sidecar host and an archiving primary.
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
#include "harness.h"
#include "harness_internal.h"

namespace cnpgi_it {
using namespace internal;

// --- Daemon -------------------------------------------------------------------

Daemon::Daemon(std::vector<std::string> argv, std::string log, const std::string& ready_text) {
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  pid_ = fork();
  if (pid_ == 0) {
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    execvp(cargv[0], cargv.data());
    _exit(127);
  }
  close(log_fd);
  for (int i = 0; i < 100 && ReadFile(log).find(ready_text) == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE_MESSAGE(ReadFile(log).find(ready_text) != std::string::npos, argv[0] << " did not start:\n" << ReadFile(log));
}

void Daemon::Stop(int sig) {
  if (pid_ <= 0) return;
  kill(pid_, sig);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

// --- Sidecar ------------------------------------------------------------------

Sidecar::Sidecar(Options options) : options_(std::move(options)) { log_path_ = options_.work_dir + ".log"; }

Sidecar::~Sidecar() { Kill(SIGTERM); }

std::string Sidecar::socket_path() const { return options_.plugins_dir + "/pgbackrest.cnpg.opera.com"; }

std::string Sidecar::Log() const { return ReadFile(log_path_); }

void Sidecar::Spawn() {
  std::vector<std::string> argv = {Programs::Get().sidecar,
                                   "serve",
                                   "--plugin-path=" + options_.plugins_dir,
                                   "--work-dir=" + options_.work_dir,
                                   "--pgdata=" + options_.pgdata,
                                   "--pg-socket-dir=" + options_.pg_socket_dir,
                                   "--pg-port=" + std::to_string(options_.pg_port)};
  if (!options_.archives_file.empty()) argv.push_back("--archives-file=" + options_.archives_file);
  argv.insert(argv.end(), options_.extra_flags.begin(), options_.extra_flags.end());
  std::vector<std::string> env = InheritedEnvironment([](absl::string_view n) { return n == "POD_NAME"; });
  env.push_back("POD_NAME=" + options_.pod_name);
  env.insert(env.end(), options_.env.begin(), options_.env.end());
  std::vector<char*> cargv, cenv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  for (auto& e : env) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  bool as_root = geteuid() == 0;
  PostgresUser user = as_root ? PgUser() : PostgresUser{getuid(), getgid()};
  int log_fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  pid_ = fork();
  if (pid_ == 0) {
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, 0);
    if (as_root) {
      setgroups(0, nullptr);
      if (setgid(user.gid) != 0 || setuid(user.uid) != 0) _exit(126);
    }
    execve(cargv[0], cargv.data(), cenv.data());
    _exit(127);
  }
  close(log_fd);
}

int Sidecar::StartExpectingExit(std::string* output, std::chrono::seconds limit) {
  Spawn();
  auto until = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (std::chrono::steady_clock::now() < until) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      *output = Log();
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  *output = Log();
  Kill(SIGKILL);
  return -1;  // still running: it did not refuse
}

bool Sidecar::Start(std::string* output) {
  Spawn();
  for (int i = 0; i < 200; ++i) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      if (output) *output = Log();
      return false;
    }
    auto probe = RunAsPostgres(
        {Programs::Get().sidecar, "probe", "--plugin-path=" + options_.plugins_dir, "--probe-timeout=1s"});
    if (probe.exit_code == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (output) *output = Log();
  return false;
}

void Sidecar::Kill(int sig) {
  if (pid_ <= 0) return;
  kill(pid_, sig);
  int status = 0;
  for (int i = 0; i < 200; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

// --- ArchivingPrimary ---------------------------------------------------------

ArchivingPrimary::ArchivingPrimary(const std::string& label, const std::string& archive_name, json archive,
                                   std::vector<std::string> env)
    : dir(label),
      repo(dir.MakeDir("repo")),
      plugins(dir.MakeDir("plugins")),
      work(dir.MakeDir("work")),
      cluster_file(dir / "cluster.json"),
      archives_file(dir / "archives.json"),
      cluster(ClusterJson("cluster-example", archive_name)),
      pg(dir),
      sidecar_env(std::move(env)) {
  RequireService(FileExists("/usr/lib/postgresql/15/bin/initdb") && FileExists("/usr/bin/pgbackrest"),
                 "PostgreSQL 15 and pgBackRest");
  WriteArchives(archive.is_null() ? PosixArchive(archive_name, repo) : archive);
  WriteCluster();
  pg.InitDb();
  pg.Configure(
      {"archive_mode = on", "archive_command = '" + ArchiveCommand(cluster_file, plugins, "cluster-example-1") + "'"});
  StartSidecar();
  pg.Start();
}

void ArchivingPrimary::WriteCluster() const { dir.WriteFile("cluster.json", cluster.dump()); }

void ArchivingPrimary::WriteArchives(const json& archive) const {
  dir.WriteFile("archives.json", json::array({archive}).dump(2));
}

void ArchivingPrimary::StartSidecar() {
  sidecar.reset();  // stops the previous one first: the socket is refused while it lives
  sidecar = std::make_unique<Sidecar>(Sidecar::Options{.plugins_dir = plugins,
                                                       .work_dir = work,
                                                       .pgdata = pg.pgdata(),
                                                       .pg_socket_dir = pg.socket_dir(),
                                                       .pg_port = pg.port(),
                                                       .archives_file = archives_file,
                                                       .env = sidecar_env,
                                                       .extra_flags = sidecar_flags});
  std::string out;
  REQUIRE_MESSAGE(sidecar->Start(&out), "sidecar did not start: " << out);
}

void ArchivingPrimary::KeepAllWal() {
  pg.Sql("ALTER SYSTEM SET wal_keep_size = '8GB'");
  pg.Sql("SELECT pg_reload_conf()");
}

std::string ArchivingPrimary::CurrentSegment() const {
  return pg.Sql("SELECT pg_walfile_name(pg_current_wal_insert_lsn())");
}

ProcessResult ArchivingPrimary::TakeBackup(const std::string& name, const json& parameters,
                                           const json& cluster_override) {
  json backup = {{"apiVersion", "postgresql.cnpg.io/v1"},
                 {"kind", "Backup"},
                 {"metadata", {{"name", name}, {"namespace", "default"}, {"uid", "uid-" + name}}},
                 {"spec",
                  {{"cluster", {{"name", "cluster-example"}}},
                   {"method", "plugin"},
                   {"target", "primary"},
                   {"pluginConfiguration", {{"name", "pgbackrest.cnpg.opera.com"}, {"parameters", parameters}}}}}};
  dir.WriteFile(name + ".json", backup.dump());
  std::string cfile = cluster_file;
  if (!cluster_override.is_null()) {
    dir.WriteFile(name + "-cluster.json", cluster_override.dump());
    cfile = dir / (name + "-cluster.json");
  }
  return RunAsPostgres({Programs::Get().standin, "backup", "--cluster-json=" + cfile, "--plugins-dir=" + plugins,
                        "--backup-json=" + (dir / (name + ".json"))},
                       {"POD_NAME=cluster-example-1"});
}

std::string ArchiveFigures::Line(const std::string& label) const {
  return "figures " + label + ": segments generated " + std::to_string(generated) + ", archived " +
         std::to_string(archived) + ", restored " + std::to_string(restored) + ", lost " + std::to_string(lost);
}

ArchiveFigures AuditArchive(const ArchivingPrimary& p, const std::string& first, const std::string& last,
                            const std::string& label) {
  // A replica Pod: its data directory has the primary's pg_control (pgBackRest checks the system id).
  std::string data = p.dir.MakeDir("audit-data");
  p.dir.MakeDir("audit-data/pg_wal");
  p.dir.MakeDir("audit-data/global");
  p.dir.WriteFile("audit-data/global/pg_control", ReadFile(p.pg.pgdata() + "/global/pg_control"));
  std::string plugins = p.dir.MakeDir("audit-plugins");
  p.dir.WriteFile("audit-cluster.json", p.cluster.dump());
  Sidecar restorer(Sidecar::Options{.plugins_dir = plugins,
                                    .work_dir = p.dir.MakeDir("audit-work"),
                                    .pgdata = data,
                                    .archives_file = p.archives_file,
                                    .pod_name = "cluster-example-2",
                                    .env = p.sidecar_env});
  std::string out;
  REQUIRE_MESSAGE(restorer.Start(&out), "the restoring sidecar did not start: " << out);
  auto listed = p.pg.DoneFiles();
  std::set<std::string> done(listed.begin(), listed.end());  // the listing is sorted by mark, not by name
  ArchiveFigures f;
  for (std::string seg = first; seg <= last; seg = cnpgi_pgbackrest::NextWalSegment(seg).value()) {
    ++f.generated;
    if (!done.count(seg)) {
      MESSAGE(seg << " is not archived for PostgreSQL (no .done mark)");
      continue;
    }
    ++f.archived;
    std::string original = p.pg.pgdata() + "/pg_wal/" + seg;
    REQUIRE_MESSAGE(FileExists(original), seg << " is no longer in pg_wal (call KeepAllWal before the test's WAL)");
    std::string dest = data + "/pg_wal/RECOVERYXLOG";
    std::filesystem::remove(dest);
    auto r = RunAsPostgres({Programs::Get().standin, "wal-restore", "--cluster-json=" + (p.dir / "audit-cluster.json"),
                            "--plugins-dir=" + plugins, "--pgdata=" + data, seg, "pg_wal/RECOVERYXLOG"},
                           {"POD_NAME=cluster-example-2"});
    if (r.exit_code == 0 && FileExists(dest) && ReadFile(dest) == ReadFile(original)) {
      ++f.restored;
    } else {
      ++f.lost;
      f.lost_segments.push_back(seg);
      MESSAGE(seg << " is archived for PostgreSQL but not restored identical: " << r.err);
    }
  }
  std::cout << f.Line(label) << std::endl;
  return f;
}

std::string ArchivingPrimary::Diagnostics() const {
  return "--- sidecar log ---\n" + sidecar->Log() + "\n--- postgres log ---\n" + pg.LogText();
}

}  // namespace cnpgi_it
