// The pgBackRest side shared by every sidecar capability: Cluster → Archive → config → command.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

#include "config/archive_catalog.h"
#include "config/cluster.h"
#include "pgbackrest/config_file.h"
#include "pgbackrest/runner.h"
#include "pgbackrest/secrets.h"

namespace cnpgi_pgbackrest {

struct EngineOptions {
  std::string plugin_name = std::string(kDefaultPluginName);
  std::string pod_name;       // $POD_NAME: the instance (or Job) this sidecar runs in
  std::string work_dir;       // writable: rendered configs, locks, spool
  InstanceLocation instance;  // the local PostgreSQL
  std::string pgbackrest_binary = "pgbackrest";
  std::chrono::milliseconds wal_timeout{std::chrono::minutes(5)};
  // restore_command CNPG's PostgreSQL runs: the instance manager's wal-restore.
  std::string instance_manager = "/controller/manager";
  // Where CNPG mounts a separate WAL volume (spec.walStorage).
  std::string wal_storage_dir = "/var/lib/postgresql/wal/pg_wal";
};

// One Archive use, ready to run commands against.
struct Stanza {
  ArchiveUse use;
  Archive archive;
  RenderedArchive rendered;
  // The Cluster's status.pgDataImageInfo.majorVersion, set by callers that have the Cluster:
  // EnsureStanza runs stanza-upgrade only when it shows the data directory's new major version.
  std::optional<int> cluster_major_version;
};

class Engine {
 public:
  Engine(EngineOptions options, std::unique_ptr<ArchiveCatalog> catalog, std::unique_ptr<SecretResolver> secrets);

  const EngineOptions& options() const { return options_; }

  // Parses the Cluster JSON of a request, for this plugin's name. The same bytes as the last call's
  // are not parsed again: CNPG sends the whole Cluster in every call, unchanged until the Cluster
  // changes, and parsing it is most of what an Archive call that finds its segment stored costs.
  absl::StatusOr<ClusterView> Cluster(absl::string_view cluster_json) const;

  // The Archives this sidecar knows by name (see ArchiveCatalog::Names).
  std::vector<std::string> ArchiveNames() const { return catalog_->Names(); }

  // Looks up the Archive of use and renders its configuration.
  absl::StatusOr<Stanza> Open(const ArchiveUse& use);

  // Runs a command against the stanza; the status is about starting it.
  absl::StatusOr<ProcessResult> Run(const Stanza& stanza, PgbackrestCall call) const;

  // Replaces this process with the command against the stanza (an operator's shell).
  absl::Status Exec(const Stanza& stanza, PgbackrestCall call) const;

  // Makes the stanza fit to write into, once per Archive spec (remembered once done): refuses
  // (FAILED_PRECONDITION) a stanza of another database, runs stanza-upgrade after an in-place major
  // upgrade (see DecideStanza), and creates it from pg_control in every repository that lacks it
  // (works before any backup, and on standbys).
  absl::Status EnsureStanza(const Stanza& stanza, const std::function<bool()>& cancelled);

  // Forgets that the stanza exists (after a failure that suggests it was removed).
  void ForgetStanza(const Stanza& stanza);

  // FAILED_PRECONDITION when the stanza already holds WAL (a new cluster must not write into it).
  absl::Status RequireEmptyArchive(const Stanza& stanza, const std::function<bool()>& cancelled);

  // `pgbackrest info --output=json` for the stanza: the stanza's object.
  absl::StatusOr<nlohmann::json> Info(const Stanza& stanza, const std::function<bool()>& cancelled) const;

 private:
  std::string StanzaKey(const Stanza& stanza) const;
  // What CheckStanzaOwner found in the repositories.
  struct StanzaCheck {
    bool create = false;   // a repository has no stanza yet (or PGDATA could not be read to tell)
    bool upgrade = false;  // a repository's stanza needs stanza-upgrade
    bool complete = true;  // every repository answered: the result may be remembered
  };
  // Checks each repository's archive.info against the local PGDATA; FAILED_PRECONDITION when a
  // stanza belongs to another database.
  absl::StatusOr<StanzaCheck> CheckStanzaOwner(const Stanza& stanza, const std::function<bool()>& cancelled) const;
  // The call with the stanza and the local instance's PG1 options filled in.
  PgbackrestCall Prepared(const Stanza& stanza, PgbackrestCall call) const;

  EngineOptions options_;
  std::unique_ptr<ArchiveCatalog> catalog_;
  std::unique_ptr<SecretResolver> secrets_;
  ConfigFiles configs_;
  PgbackrestRunner runner_;
  absl::Mutex mu_;
  std::set<std::string> stanzas_ready_ ABSL_GUARDED_BY(mu_);
  mutable absl::Mutex cluster_mu_;
  mutable std::string last_cluster_json_ ABSL_GUARDED_BY(cluster_mu_);
  mutable std::optional<ClusterView> last_cluster_ ABSL_GUARDED_BY(cluster_mu_);
  // stanza-create takes pgBackRest's archive lock: concurrent first pushes must not race for it.
  absl::Mutex create_mu_;
};

}  // namespace cnpgi_pgbackrest
