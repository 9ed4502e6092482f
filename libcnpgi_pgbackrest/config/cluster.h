// What this plugin needs from a CNPG Cluster object, read leniently from its JSON.
#pragma once

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cnpgi_pgbackrest {

inline constexpr absl::string_view kDefaultPluginName = "pgbackrest.cnpg.opera.com";
inline constexpr absl::string_view kSkipEmptyWalArchiveCheckAnnotation = "cnpg.io/skipEmptyWalArchiveCheck";

// One use of an Archive by the Cluster: which Archive, which stanza, and where it was declared.
struct ArchiveUse {
  std::string archive_name;  // parameters.pgbackrestObjectName
  std::string stanza;        // parameters.stanza, defaulted
  std::string declared_at;   // e.g. spec.plugins[0], for messages
  std::string namespace_;    // the Cluster's: Archives are looked up there
  std::map<std::string, std::string> parameters;
};

// "Archive 'name' stanza 'stanza'": how messages name a use.
std::string Describe(const ArchiveUse& use);

struct ClusterView {
  std::string name;
  std::string namespace_;
  std::string uid;  // metadata.uid: what an ownerReference to the Cluster names
  std::map<std::string, std::string> annotations;
  nlohmann::json spec = nlohmann::json::object();
  nlohmann::json status = nlohmann::json::object();

  // Archive this Cluster writes WAL and backups to (enabled spec.plugins entry of ours).
  std::optional<ArchiveUse> archive;
  // Archive the Cluster bootstraps from (bootstrap.recovery.source → externalClusters[].plugin).
  std::optional<ArchiveUse> recovery_source;
  // Archive a replica cluster follows (replica.source → externalClusters[].plugin).
  std::optional<ArchiveUse> replica_source;
  // True when spec.plugins names us but the entry is disabled.
  bool plugin_disabled = false;
  // Why `archive` is missing although an entry names us (INVALID_ARGUMENT for bad parameters); OK otherwise.
  absl::Status archive_problem;

  // The replica source can also be streamed from (externalClusters[].connectionParameters).
  bool replica_source_streams = false;
  // CNPG's Cluster.IsReplica(): replica.enabled, or replica.primary names another cluster than replica.self.
  bool is_replica = false;
  // A replica cluster being promoted with a token (spec.replica.promotionToken not yet
  // recorded in status.lastPromotionToken): its last WAL may exist only as a .partial file.
  bool promotion_in_progress = false;

  std::string current_primary;
  std::string target_primary;
  bool has_wal_storage = false;

  bool SkipsEmptyWalArchiveCheck() const;
};

// Parses a Cluster JSON document; unknown fields are ignored, malformed JSON is an error.
absl::StatusOr<ClusterView> ParseCluster(absl::string_view cluster_json,
                                         absl::string_view plugin_name = kDefaultPluginName);

}  // namespace cnpgi_pgbackrest
