// Integration-test harness: real PostgreSQL 15, pgBackRest, the sidecar host and the CNPG stand-in.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <sys/types.h>

#include "common/process.h"
#include "kubernetes/client.h"

namespace cnpgi_it {

using json = nlohmann::json;
using cnpgi_pgbackrest::ProcessResult;

// Paths of the programs under test, from the build (set by meson through the environment).
struct Programs {
  std::string sidecar;
  std::string standin;
  static const Programs& Get();
};

// Skips the current test loudly when the integration option allows it, else fails it.
void RequireService(bool available, const std::string& what);

// Runs argv as the postgres user (tests run as root in CI), with extra NAME=VALUE env.
ProcessResult RunAsPostgres(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
                            std::chrono::milliseconds timeout = std::chrono::minutes(5));

// A scratch directory owned by postgres, removed at the end.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& label);
  ~ScratchDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& sub) const { return path_ + "/" + sub; }
  // Creates a subdirectory owned by postgres (mode 0700).
  std::string MakeDir(const std::string& sub) const;
  // Writes a file owned by postgres.
  void WriteFile(const std::string& sub, const std::string& content) const;

 private:
  std::string path_;
};

int FreeTcpPort();
// Polls until done() is true or limit passes; returns done()'s last answer. For faults to happen
// and states to be reached, never to assert a time.
bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds limit,
               std::chrono::milliseconds step = std::chrono::milliseconds(100));

// A live process of this machine, from /proc (argv joined by spaces).
struct ProcessInfo {
  pid_t pid = 0;
  pid_t ppid = 0;
  std::string cmdline;
};
// Live processes whose command line contains every one of needles (zombies left out).
std::vector<ProcessInfo> FindProcesses(const std::vector<std::string>& needles);
std::string ReadFile(const std::string& path);
bool FileExists(const std::string& path);
std::vector<std::string> ListDir(const std::string& dir);

// A PostgreSQL 15 instance run by postgres on loopback.
class Postgres {
 public:
  Postgres(const ScratchDir& dir, std::string name = "pg");
  ~Postgres();
  void InitDb();
  // Appends settings to postgresql.conf.
  void Configure(const std::vector<std::string>& lines);
  void Start(const std::vector<std::string>& env = {});
  void Stop(const std::string& mode = "fast");
  // Waits until recovery has ended (promotion); false after the limit.
  bool WaitPromoted(std::chrono::seconds limit);
  // Runs SQL with psql; returns trimmed stdout, fails the test on error.
  std::string Sql(const std::string& sql) const;
  // Runs SQL and returns the result (no assertion).
  ProcessResult TrySql(const std::string& sql) const;
  // Switches to a new WAL segment after writing something; returns the finished segment's name.
  std::string SwitchWal();
  // Wakes the archiver (it sleeps up to a minute after failures) by finishing a segment.
  void NudgeArchiver() { SwitchWal(); }
  // Waits until no .ready file is left (bounded); true when drained.
  bool WaitArchived(std::chrono::seconds limit);
  // Waits until segment is .done and no .ready file is left: PostgreSQL marks a switched segment
  // .ready only once it is written out, so an empty archive_status alone may come too early.
  bool WaitArchivedThrough(const std::string& segment, std::chrono::seconds limit);
  std::vector<std::string> ReadyFiles() const;
  std::vector<std::string> DoneFiles() const;

  const std::string& pgdata() const { return pgdata_; }
  std::string LogText() const { return ReadFile(log_); }
  const std::string& socket_dir() const { return socket_dir_; }
  int port() const { return port_; }

 private:
  std::string pgdata_;
  std::string socket_dir_;
  std::string log_;
  int port_;
  bool running_ = false;
};

// A background program whose output goes to log; ready once log contains ready_text. Stopped on destruction.
class Daemon {
 public:
  Daemon(std::vector<std::string> argv, std::string log, const std::string& ready_text);
  ~Daemon() { Stop(); }
  // Sends sig (SIGTERM: a clean stop; SIGKILL: a crash) and reaps the program.
  void Stop(int sig = 15);

 private:
  pid_t pid_ = -1;
};

// The sidecar host serving on <plugins>/<plugin name>, run as postgres like in the Pod.
class Sidecar {
 public:
  struct Options {
    std::string plugins_dir;
    std::string work_dir;
    std::string pgdata;
    std::string pg_socket_dir;
    int pg_port = 5432;
    std::string archives_file;
    std::string pod_name = "cluster-example-1";
    std::vector<std::string> env;  // e.g. CNPGI_SECRET_* values
    std::vector<std::string> extra_flags;
  };
  explicit Sidecar(Options options);
  ~Sidecar();
  // Starts and waits until the probe succeeds; returns false (with output) when it exits instead.
  bool Start(std::string* output = nullptr);
  // Starts and expects the process to exit on its own; returns its exit code and output.
  int StartExpectingExit(std::string* output, std::chrono::seconds limit = std::chrono::seconds(20));
  void Kill(int sig = 15);
  pid_t pid() const { return pid_; }
  std::string socket_path() const;
  std::string Log() const;

 private:
  void Spawn();

  Options options_;
  pid_t pid_ = -1;
  std::string log_path_;
};

// A primary whose archive_command is CNPG's wal-archive (the stand-in) through its own sidecar,
// archiving to the Archive called archive_name (by default a posix repository at <dir>/repo).
class ArchivingPrimary {
 public:
  ArchivingPrimary(const std::string& label, const std::string& archive_name, json archive = json(),
                   std::vector<std::string> sidecar_env = {});

  void WriteCluster() const;
  void WriteArchives(const json& archive) const;
  // (Re)starts the sidecar with sidecar_env and sidecar_flags.
  void StartSidecar();
  // PostgreSQL keeps every segment in pg_wal (wal_keep_size), so a test can compare what the
  // repository gives back with the original.
  void KeepAllWal();
  // The name of the segment PostgreSQL is writing now.
  std::string CurrentSegment() const;
  // CNPG's Backup flow through the stand-in (a Backup object named name with these plugin
  // parameters): the status CNPG would write as JSON on stdout, or the error.
  ProcessResult TakeBackup(const std::string& name, const json& parameters, const json& cluster_override = json());
  std::string Diagnostics() const;

  ScratchDir dir;
  std::string repo;
  std::string plugins;
  std::string work;
  std::string cluster_file;
  std::string archives_file;
  json cluster;
  Postgres pg;
  std::unique_ptr<Sidecar> sidecar;
  std::vector<std::string> sidecar_env;
  std::vector<std::string> sidecar_flags;
};

// A new Cluster bootstrapped from the Archive src archives to, as CNPG runs it (restore hook, then
// recovery), with its own sidecar (src's Secret values unless sidecar_env is given).
struct Recovery {
  Recovery(const ArchivingPrimary& src, const json& target, const json& spec_extra = json::object(),
           std::vector<std::string> sidecar_env = {}, std::vector<std::string> flags = {});

  // CNPG's `instance restore`: the restore hook; returns its output or error.
  ProcessResult RestoreHook();
  // CNPG's concludeRestore: restore_config, then the target settings, recovery.signal, start, wait for promotion.
  void Recover();
  // The batches of the backup tests' table events(batch, id) after recovery ("1,2,3").
  std::string Batches();

  ScratchDir dir{"recovery"};
  std::string plugins = dir.MakeDir("plugins");
  std::string cluster_file = dir / "cluster.json";
  Postgres pg{dir};
  std::unique_ptr<Sidecar> sidecar;
  json cluster;
};

// What a fault test reports: every segment PostgreSQL considers archived (its .done mark, whether
// PostgreSQL or the sidecar renamed it) restored from the repository through a second sidecar (a
// replica Pod, the stand-in's wal-restore as CNPG calls it) and compared byte for byte with pg_wal.
struct ArchiveFigures {
  int generated = 0;  // segments from the first to the last of the test
  int archived = 0;   // of those, marked .done
  int restored = 0;   // of those, restored identical to the original
  int lost = 0;       // archived but not restored identical
  std::vector<std::string> lost_segments;
  // One line: "figures LABEL: segments generated N, archived N, restored N, lost N".
  std::string Line(const std::string& label) const;
};
// Needs KeepAllWal() from before `first`; prints the figures line and returns it.
ArchiveFigures AuditArchive(const ArchivingPrimary& primary, const std::string& first, const std::string& last,
                            const std::string& label);

// One scrape through the stand-in, as CNPG's instance exporter makes it: `name{labels}` → value.
std::map<std::string, double> Scrape(const ArchivingPrimary& primary, const std::string& pod = "cluster-example-1");

// S3 settings exported by tests/services/rgw.sh (CNPGI_TEST_S3_*), if present.
struct S3Service {
  std::string endpoint;
  int port = 0;
  std::string bucket, region, key, secret, ca_file;
  static std::optional<S3Service> FromEnv();
  // Object keys under prefix (signed ListObjectsV2 through curl).
  std::vector<std::string> ListKeys(const std::string& prefix) const;
  // The first bytes of an object.
  std::string GetObjectPrefix(const std::string& object_key, int bytes) const;
};

// A Ceph RGW of the test's own (tests/services/rgw.sh on free ports, in a directory of its own), so
// a test may stop its gateway without touching the RGW the other tests share. Stopped on destruction.
class PrivateRgw {
 public:
  PrivateRgw();
  ~PrivateRgw();
  const S3Service& service() const { return service_; }
  // Stops radosgw only: the memstore OSD (and the mon) keep running, and with them the objects.
  void StopGateway();
  // Starts radosgw again and waits until S3 answers signed requests.
  void StartGateway();

 private:
  std::vector<std::string> ScriptArgv(const std::vector<std::string>& args) const;
  ProcessResult Script(const std::vector<std::string>& args) const;
  std::string dir_;
  std::vector<std::string> ports_env_;
  S3Service service_;
};

// Azure Blob settings exported by tests/services/azurite.sh (CNPGI_TEST_AZURE_*), if present.
struct AzureService {
  std::string endpoint;
  int port = 0;
  std::string account, key, container, ca_file;
  std::string dir;  // the directory azurite.sh started it in (its `ls` and `head` read DIR/env)
  static std::optional<AzureService> FromEnv();
  // Blob names under prefix (signed List Blobs through azurite.sh).
  std::vector<std::string> ListBlobs(const std::string& prefix) const;
  // The first bytes of a blob.
  std::string GetBlobPrefix(const std::string& blob, int bytes) const;
};

// An Archive with one Azure repository (Opera's azureCredentials; the container as bucket) on the
// test Azurite at path: HTTPS with its CA, path-style URIs, zstd.
json AzureArchive(const std::string& name, const AzureService& azure, const std::string& path);

// The Secret values of AzureArchive as the operator injects them (CNPGI_SECRET_* env), with key as
// the account key.
std::vector<std::string> AzureSecretEnv(const AzureService& azure, const std::string& key);

// tests/integration/fake_apiserver.py on a free loopback port, with a self-signed certificate
// (ca.crt) and a bearer token (token) in dir: a service account directory. archives (a JSON list)
// are Archive objects it holds besides its own. Stopped on destruction.
class FakeApiServer {
 public:
  explicit FakeApiServer(const json& archives = json::array());
  void Stop() { daemon_.reset(); }
  cnpgi_pgbackrest::KubernetesConfig Config() const;
  // The environment a Pod gets for this server (KUBERNETES_SERVICE_HOST/PORT).
  std::vector<std::string> PodEnv() const;

  ScratchDir dir{"apiserver"};
  int port = FreeTcpPort();

 private:
  std::unique_ptr<Daemon> daemon_;
};

// A Cluster JSON as CNPG sends it (metadata, spec and status), for cluster `name` using Archive `archive`.
json ClusterJson(const std::string& name, const std::string& archive, const std::string& pod = "cluster-example-1");

// An Archive object called name with one repository and this compression.
json ArchiveObject(const std::string& name, const json& repository, const std::string& compression);

// An Archive with one S3 repository on the test RGW (TLS with its CA, aes-256-cbc, zstd) at path.
json S3Archive(const std::string& name, const S3Service& s3, const std::string& path, int port);

// The Secret values of S3Archive as the operator injects them (CNPGI_SECRET_* env).
std::vector<std::string> SecretEnv(const S3Service& s3, const std::string& secret, const std::string& cipher);

// An Archive object with one posix repository at path.
json PosixArchive(const std::string& name, const std::string& path);

// The stand-in's archive_command / restore_command for this cluster file and plugins directory.
std::string ArchiveCommand(const std::string& cluster_file, const std::string& plugins_dir, const std::string& pod);
std::string RestoreCommand(const std::string& cluster_file, const std::string& plugins_dir, const std::string& pod);

}  // namespace cnpgi_it
