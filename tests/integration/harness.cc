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

namespace cnpgi_it {
namespace {

using cnpgi_pgbackrest::InheritedEnvironment;
using cnpgi_pgbackrest::ProcessSpec;
using cnpgi_pgbackrest::RunProcess;

const std::string kPgBin = "/usr/lib/postgresql/15/bin";

std::string Env(const char* name, const char* fallback = "") {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

struct PostgresUser {
  uid_t uid;
  gid_t gid;
};

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

ProcessResult Run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = std::chrono::minutes(5)) {
  ProcessSpec spec;
  spec.argv = argv;
  spec.env = InheritedEnvironment();
  spec.timeout = timeout;
  auto r = RunProcess(spec);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return *r;
}

}  // namespace

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

// --- S3 -----------------------------------------------------------------------

std::optional<S3Service> S3Service::FromEnv() {
  S3Service s;
  s.endpoint = Env("CNPGI_TEST_S3_ENDPOINT");
  if (s.endpoint.empty()) return std::nullopt;
  s.port = std::atoi(Env("CNPGI_TEST_S3_PORT", "7480").c_str());
  s.bucket = Env("CNPGI_TEST_S3_BUCKET", "pgbr");
  s.region = Env("CNPGI_TEST_S3_REGION", "us-east-1");
  s.key = Env("CNPGI_TEST_S3_KEY");
  s.secret = Env("CNPGI_TEST_S3_SECRET");
  s.ca_file = Env("CNPGI_TEST_S3_CA_FILE");
  return s;
}

namespace {
const char* kEmptySha256 = "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
}

// Query values must be percent-encoded exactly as SigV4 canonicalizes them ('/' too).
std::string UrlEncode(const std::string& in) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::vector<std::string> S3Service::ListKeys(const std::string& prefix) const {
  std::vector<std::string> keys;
  std::string token;
  for (int page = 0; page < 100; ++page) {
    std::string url = "https://" + endpoint + ":" + std::to_string(port) + "/" + bucket + "?" +
                      (token.empty() ? "" : "continuation-token=" + UrlEncode(token) + "&") +
                      "list-type=2&prefix=" + UrlEncode(prefix);
    auto r = Run({"curl", "-sS", "--fail", "--cacert", ca_file, "--aws-sigv4", "aws:amz:" + region + ":s3", "--user",
                  key + ":" + secret, "-H", kEmptySha256, url});
    REQUIRE_MESSAGE(r.exit_code == 0, "S3 list failed: " << r.err);
    std::regex key_re("<Key>([^<]*)</Key>");
    for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), key_re); it != std::sregex_iterator(); ++it)
      keys.push_back((*it)[1]);
    std::smatch m;
    if (!std::regex_search(r.out, m, std::regex("<NextContinuationToken>([^<]*)</NextContinuationToken>"))) break;
    token = m[1];
  }
  return keys;
}

std::string S3Service::GetObjectPrefix(const std::string& object_key, int bytes) const {
  std::string url = "https://" + endpoint + ":" + std::to_string(port) + "/" + bucket + "/" + object_key;
  auto r = Run({"curl", "-sS", "--fail", "--cacert", ca_file, "--aws-sigv4", "aws:amz:" + region + ":s3", "--user",
                key + ":" + secret, "-H", kEmptySha256, url});
  REQUIRE_MESSAGE(r.exit_code == 0, "S3 get failed: " << r.err);
  return r.out.substr(0, static_cast<std::size_t>(bytes));
}

// --- a private RGW ---------------------------------------------------------------

PrivateRgw::PrivateRgw() {
  RequireService(FileExists("/usr/bin/radosgw") && FileExists("/usr/bin/ceph-mon"),
                 "Ceph RGW (radosgw, ceph-mon; tools/install-deps.sh --tests installs them)");
  char tmpl[] = "/tmp/cnpgi-it-private-rgw-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  dir_ = tmpl;
  ports_env_ = {"RGW_PORT=" + std::to_string(FreeTcpPort()), "RGW_MON_PORT=" + std::to_string(FreeTcpPort()),
                "RGW_MON_V1_PORT=" + std::to_string(FreeTcpPort())};
  auto r = Script({"start", dir_});
  REQUIRE_MESSAGE(r.exit_code == 0, "a private RGW did not start: " << r.err);
  std::cerr << r.err;  // rgw.sh's closing line says how long the start took
  // DIR/env: `export CNPGI_TEST_S3_NAME=value` lines.
  std::map<std::string, std::string> env;
  std::istringstream lines(ReadFile(dir_ + "/env"));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("export ", 0) != 0) continue;
    auto eq = line.find('=');
    env[line.substr(7, eq - 7)] = line.substr(eq + 1);
  }
  service_.endpoint = env["CNPGI_TEST_S3_ENDPOINT"];
  service_.port = std::stoi(env["CNPGI_TEST_S3_PORT"]);
  service_.bucket = env["CNPGI_TEST_S3_BUCKET"];
  service_.region = env["CNPGI_TEST_S3_REGION"];
  service_.key = env["CNPGI_TEST_S3_KEY"];
  service_.secret = env["CNPGI_TEST_S3_SECRET"];
  service_.ca_file = env["CNPGI_TEST_S3_CA_FILE"];
}

// No assertion here: a program-wide instance is destroyed after the test run has ended.
PrivateRgw::~PrivateRgw() {
  RunProcess({.argv = ScriptArgv({"stop", dir_, Env("CNPGI_KEEP_SCRATCH") == "1" ? "" : "--purge"}),
              .env = InheritedEnvironment(),
              .timeout = std::chrono::minutes(1)})
      .IgnoreError();
}

std::vector<std::string> PrivateRgw::ScriptArgv(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"env"};
  argv.insert(argv.end(), ports_env_.begin(), ports_env_.end());
  argv.push_back(std::string(CNPGI_SOURCE_DIR) + "/tests/services/rgw.sh");
  for (const auto& a : args)
    if (!a.empty()) argv.push_back(a);
  return argv;
}

ProcessResult PrivateRgw::Script(const std::vector<std::string>& args) const {
  return Run(ScriptArgv(args), std::chrono::minutes(3));
}

void PrivateRgw::StopGateway() {
  auto r = Script({"stop-gateway", dir_});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
}

void PrivateRgw::StartGateway() {
  auto r = Script({"start-gateway", dir_});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
}

// --- fixtures -----------------------------------------------------------------

json ClusterJson(const std::string& name, const std::string& archive, const std::string& pod) {
  return json{{"apiVersion", "postgresql.cnpg.io/v1"},
              {"kind", "Cluster"},
              {"metadata",
               {{"name", name},
                {"namespace", "default"},
                {"uid", "8f4a6f1e-1f3c-4a5e-9d1e-2b7c3d4e5f60"},
                {"generation", 1},
                {"creationTimestamp", "2026-11-21T06:00:00Z"},
                {"annotations", json::object()}}},
              {"spec",
               {{"instances", 1},
                {"imageName", "ghcr.io/cloudnative-pg/postgresql:15"},
                {"postgresUID", 26},
                {"postgresGID", 26},
                {"primaryUpdateStrategy", "unsupervised"},
                {"primaryUpdateMethod", "restart"},
                {"logLevel", "info"},
                {"enableSuperuserAccess", false},
                {"plugins", json::array({{{"name", "pgbackrest.cnpg.opera.com"},
                                          {"enabled", true},
                                          {"isWALArchiver", true},
                                          {"parameters", {{"pgbackrestObjectName", archive}}}}})},
                {"storage", {{"size", "1Gi"}, {"resizeInUseVolumes", true}}},
                {"postgresql", {{"parameters", {{"archive_timeout", "5min"}}}}}}},
              {"status",
               {{"instances", 1},
                {"readyInstances", 1},
                {"currentPrimary", pod},
                {"targetPrimary", pod},
                {"timelineID", 1},
                {"phase", "Cluster in healthy state"},
                {"latestGeneratedNode", 1},
                {"pluginStatus",
                 json::array({{{"name", "pgbackrest.cnpg.opera.com"},
                               {"version", "0.1.0"},
                               {"capabilities", json::array({"TYPE_LIFECYCLE_SERVICE", "TYPE_RECONCILER_HOOKS"})},
                               {"walCapabilities", json::array({"TYPE_ARCHIVE_WAL", "TYPE_RESTORE_WAL"})}}})}}}};
}

json S3Archive(const std::string& name, const S3Service& s3, const std::string& path, int port) {
  return json{{"apiVersion", "pgbackrest.cnpg.opera.com/v1"},
              {"kind", "Archive"},
              {"metadata", {{"name", name}, {"namespace", "default"}}},
              {"spec",
               {{"configuration",
                 {{"repositories",
                   json::array({{{"destinationPath", path},
                                 {"bucket", s3.bucket},
                                 {"endpointURL", s3.endpoint + ":" + std::to_string(port)},
                                 {"uriStyle", "path"},
                                 {"endpointCA", {{"name", "s3-ca"}, {"key", "ca.crt"}}},
                                 {"encryption", "aes-256-cbc"},
                                 {"encryptionKey", {{"name", "s3-creds"}, {"key", "ENCRYPTION_KEY"}}},
                                 {"s3Credentials",
                                  {{"region", s3.region},
                                   {"accessKeyId", {{"name", "s3-creds"}, {"key", "ACCESS_KEY_ID"}}},
                                   {"secretAccessKey", {{"name", "s3-creds"}, {"key", "ACCESS_SECRET_KEY"}}}}}}})},
                  {"compression", "zst"}}}}}};
}

std::vector<std::string> SecretEnv(const S3Service& s3, const std::string& secret, const std::string& cipher) {
  return {"CNPGI_SECRET_s3-creds_ACCESS_KEY_ID=" + s3.key, "CNPGI_SECRET_s3-creds_ACCESS_SECRET_KEY=" + secret,
          "CNPGI_SECRET_s3-creds_ENCRYPTION_KEY=" + cipher, "CNPGI_SECRET_s3-ca_ca.crt=" + ReadFile(s3.ca_file)};
}

json PosixArchive(const std::string& name, const std::string& path) {
  return json{
      {"apiVersion", "pgbackrest.cnpg.opera.com/v1"},
      {"kind", "Archive"},
      {"metadata", {{"name", name}, {"namespace", "default"}}},
      {"spec",
       {{"configuration",
         {{"repositories", json::array({{{"type", "posix"}, {"destinationPath", path}}})}, {"compression", "lz4"}}}}}};
}

std::map<std::string, double> Scrape(const ArchivingPrimary& primary, const std::string& pod) {
  auto r = RunAsPostgres({Programs::Get().standin, "metrics", "--cluster-json=" + primary.cluster_file,
                          "--plugins-dir=" + primary.plugins},
                         {"POD_NAME=" + pod});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  std::map<std::string, double> out;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    auto space = line.rfind(' ');
    if (space != std::string::npos) out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

std::string ArchiveCommand(const std::string& cluster_file, const std::string& plugins_dir, const std::string& pod) {
  return "POD_NAME=" + pod + " " + Programs::Get().standin +
         " wal-archive --log-destination /dev/null --cluster-json=" + cluster_file + " --plugins-dir=" + plugins_dir +
         " %p";
}

std::string RestoreCommand(const std::string& cluster_file, const std::string& plugins_dir, const std::string& pod) {
  return "POD_NAME=" + pod + " " + Programs::Get().standin +
         " wal-restore --log-destination /dev/null --cluster-json=" + cluster_file + " --plugins-dir=" + plugins_dir +
         " %f %p";
}

}  // namespace cnpgi_it
