// Integration-test harness: real PostgreSQL 15, pgBackRest, the sidecar host and the CNPG stand-in.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/process.h"

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
  void Stop();

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

// A Cluster JSON as CNPG sends it (metadata, spec and status), for cluster `name` using Archive `archive`.
json ClusterJson(const std::string& name, const std::string& archive, const std::string& pod = "cluster-example-1");

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
