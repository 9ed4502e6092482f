// pgbackrest.conf rendered from an Archive, once per Archive, plus the secrets for the child's environment.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

#include "config/archive.h"
#include "pgbackrest/secrets.h"

namespace cnpgi_pgbackrest {

// The PostgreSQL instance pgBackRest works on. pg1-* are stanza options (never read from
// [global]) and are refused on the command line of commands that do not take them, so they
// travel in the environment, which pgBackRest reads only where valid: see PgInstanceEnv.
struct InstanceLocation {
  std::string pgdata;
  std::string socket_dir;
  int port = 5432;
  std::string user = "postgres";
  double wal_io_timeout_seconds = 10;  // io-timeout for archive-push/archive-get; 0: pgBackRest's default
  // archive-push through pgBackRest's async mode with this many processes; 0: synchronous pushes.
  int wal_push_processes = 0;
};

// PGBACKREST_PG1_PATH/_SOCKET_PATH/_PORT/_USER for the instance, with pgdata overridable.
std::vector<std::string> PgInstanceEnv(const InstanceLocation& instance, const std::string& pgdata = "");

struct RenderedArchive {
  std::string archive_name;
  std::string config_path;
  std::vector<std::string> secret_env;  // PGBACKREST_REPOn_...=value, never on argv or in logs
};

// log-level-stderr as rendered for the Archive's log.levelStderr: never less than warn.
std::string StderrLevel(const Archive& archive);

// Whether the sidecar logs every stderr line of pgBackRest (levelStderr info and more verbose);
// at warn and below it logs only what it reports itself (archive-push warnings, failures).
bool LogsPgbackrestStderr(const Archive& archive);

// The configuration text for an Archive; file paths (CA bundles, lock, spool) live under dir.
std::string RenderConfigText(const Archive& archive, const InstanceLocation& instance, const std::string& dir);

// Writes one pgbackrest.conf per Archive under work_dir/<archive>/ and keeps it until the Archive changes.
class ConfigFiles {
 public:
  ConfigFiles(std::string work_dir, InstanceLocation instance, const SecretResolver* secrets)
      : work_dir_(std::move(work_dir)), instance_(std::move(instance)), secrets_(secrets) {}

  // Renders (or reuses) the configuration of archive; fails when a referenced secret is missing.
  absl::StatusOr<RenderedArchive> Render(const Archive& archive);

  const InstanceLocation& instance() const { return instance_; }
  const std::string& work_dir() const { return work_dir_; }

 private:
  std::string work_dir_;
  InstanceLocation instance_;
  const SecretResolver* secrets_;
  absl::Mutex mu_;
  std::map<std::string, std::string> written_ ABSL_GUARDED_BY(mu_);  // archive → file contents on disk
};

}  // namespace cnpgi_pgbackrest
