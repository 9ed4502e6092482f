// Integration-test harness: a PostgreSQL 15 instance run by postgres.
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

// --- Postgres -----------------------------------------------------------------

Postgres::Postgres(const ScratchDir& dir, std::string name)
    : pgdata_(dir / (name + "-data")),
      socket_dir_(dir.MakeDir(name + "-sock")),
      log_(dir / (name + ".log")),
      port_(FreeTcpPort()) {
  dir.WriteFile(name + ".log", "");
}

Postgres::~Postgres() {
  if (running_) Stop("immediate");
}

void Postgres::InitDb() {
  auto r = RunAsPostgres({kPgBin + "/initdb", "-D", pgdata_, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                          "--data-checksums", "--no-sync"});
  REQUIRE_MESSAGE(r.exit_code == 0, "initdb failed: " << r.err << r.out);
  Configure({"listen_addresses = '127.0.0.1'", "port = " + std::to_string(port_),
             "unix_socket_directories = '" + socket_dir_ + "'", "wal_level = replica", "fsync = off",
             "shared_buffers = 32MB", "max_wal_senders = 2"});
}

void Postgres::Configure(const std::vector<std::string>& lines) {
  std::ofstream conf(pgdata_ + "/postgresql.conf", std::ios::app);
  for (const auto& l : lines) conf << l << "\n";
}

void Postgres::Start(const std::vector<std::string>& env) {
  auto r = RunAsPostgres({kPgBin + "/pg_ctl", "-D", pgdata_, "-l", log_, "-w", "-t", "60", "start"}, env);
  REQUIRE_MESSAGE(r.exit_code == 0, "pg_ctl start failed: " << r.out << r.err << "\n" << ReadFile(log_));
  running_ = true;
}

void Postgres::Stop(const std::string& mode) {
  auto r = RunAsPostgres({kPgBin + "/pg_ctl", "-D", pgdata_, "-m", mode, "-w", "-t", "60", "stop"});
  if (r.exit_code != 0 && mode != "immediate")
    RunAsPostgres({kPgBin + "/pg_ctl", "-D", pgdata_, "-m", "immediate", "-w", "stop"});
  running_ = false;
}

ProcessResult Postgres::TrySql(const std::string& sql) const {
  return RunAsPostgres({"psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-h", socket_dir_, "-p",
                        std::to_string(port_), "-U", "postgres", "-d", "postgres", "-c", sql});
}

std::string Postgres::Sql(const std::string& sql) const {
  auto r = TrySql(sql);
  REQUIRE_MESSAGE(r.exit_code == 0, "SQL failed: " << sql << "\n" << r.err);
  std::string out = r.out;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string Postgres::SwitchWal() {
  Sql("CREATE TABLE IF NOT EXISTS wal_filler(x int); INSERT INTO wal_filler SELECT generate_series(1, 100)");
  return Sql("SELECT pg_walfile_name(pg_switch_wal())");
}

std::vector<std::string> Postgres::ReadyFiles() const {
  std::vector<std::string> out;
  for (const auto& f : ListDir(pgdata_ + "/pg_wal/archive_status"))
    if (f.size() > 6 && f.substr(f.size() - 6) == ".ready") out.push_back(f.substr(0, f.size() - 6));
  return out;
}

std::vector<std::string> Postgres::DoneFiles() const {
  std::vector<std::string> out;
  for (const auto& f : ListDir(pgdata_ + "/pg_wal/archive_status"))
    if (f.size() > 5 && f.substr(f.size() - 5) == ".done") out.push_back(f.substr(0, f.size() - 5));
  return out;
}

bool Postgres::WaitPromoted(std::chrono::seconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    auto r = TrySql("SELECT pg_is_in_recovery()");
    if (r.exit_code == 0 && r.out.rfind("f", 0) == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

bool Postgres::WaitArchived(std::chrono::seconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (ReadyFiles().empty()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return ReadyFiles().empty();
}

bool Postgres::WaitArchivedThrough(const std::string& segment, std::chrono::seconds limit) {
  return WaitUntil(
      [&] {
        // .ready first: a mark renamed between the two listings is then seen as .done.
        if (!ReadyFiles().empty()) return false;
        auto done = DoneFiles();
        return std::find(done.begin(), done.end(), segment) != done.end();
      },
      limit);
}

}  // namespace cnpgi_it
