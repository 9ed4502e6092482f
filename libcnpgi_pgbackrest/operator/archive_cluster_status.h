// The Cluster's plugin status (SetStatusInCluster), taken from the status of the Archive the
// Cluster archives into: status.stanzaRecoveryWindow[<the Cluster's stanza>], which the sidecar of
// the Cluster's primary writes (see docs/architecture.md, "Status").
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

#include "cnpgi_pgbackrest/operator/cluster_status.h"

namespace cnpgi_pgbackrest {

// The compact status shown on the Cluster for one stanzaRecoveryWindow entry: the recovery window,
// the last successful and failed backups, the last archived WAL, per repository its reachability and
// bytes, and the three conditions' statuses. Keys in a fixed order, only what the entry holds (values
// of an unexpected type are left out); derived from the entry alone. Empty when it holds none of these.
nlohmann::ordered_json CompactClusterStatus(const nlohmann::json& stanza_entry);

// This plugin's status.pluginStatus[].status of a Cluster's status, parsed; nullopt when there is
// none, it is empty or it is not a JSON object.
std::optional<nlohmann::json> StoredPluginStatus(const nlohmann::json& cluster_status, absl::string_view plugin_name);

// The raw Archive object (status included) by namespace and name: the Kubernetes API in production.
using ArchiveObjectReader = std::function<absl::StatusOr<nlohmann::json>(absl::string_view, absl::string_view)>;

class ArchiveClusterStatus final : public ClusterStatus {
 public:
  ArchiveClusterStatus(std::string plugin_name, ArchiveObjectReader read_archive)
      : plugin_name_(std::move(plugin_name)), read_archive_(std::move(read_archive)) {}
  absl::StatusOr<std::string> Compute(const std::string& cluster_definition) override;

 private:
  std::string plugin_name_;
  ArchiveObjectReader read_archive_;
  absl::Mutex mu_;
  // Cluster (uid) → the last status answered. CNPG up to 1.30.0 clears every plugin's status at the
  // start of each reconcile loop, so the Cluster received never shows the last answer; answering it
  // again would start another loop every time (CNPG requeues after any answer). A Cluster showing no
  // status is therefore not given the same answer twice; one showing another status is.
  std::map<std::string, std::string> answered_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cnpgi_pgbackrest
