#include "operator/archive_cluster_status.h"

#include "absl/strings/str_cat.h"

#include "common/json.h"
#include "common/log.h"
#include "config/cluster.h"

namespace cnpgi_pgbackrest {
namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

// The conditions the sidecar maintains, in the order they are shown.
constexpr absl::string_view kConditions[] = {"RepositoryReachable", "LastBackupSucceeded", "WALArchiving"};

void CopyString(const json& from, absl::string_view key, ordered_json& to) {
  if (auto it = from.find(key); it != from.end() && it->is_string() && !it->get<std::string>().empty())
    to[std::string(key)] = *it;
}

void CopyNumber(const json& from, absl::string_view key, ordered_json& to) {
  if (auto it = from.find(key); it != from.end() && it->is_number_integer()) to[std::string(key)] = *it;
}

}  // namespace

ordered_json CompactClusterStatus(const json& entry) {
  ordered_json out = ordered_json::object();
  if (!entry.is_object()) return out;
  for (absl::string_view key : {"firstRecoverabilityPoint", "lastRecoverabilityPoint", "lastSuccessfulBackup",
                                "lastSuccessfulBackupId", "lastFailedBackup", "lastArchivedWAL", "lastArchivedWALTime"})
    CopyString(entry, key, out);
  ordered_json repositories = ordered_json::array();
  for (const json& repo : ArrayAt(entry, "repositories")) {
    if (!repo.is_object()) continue;
    ordered_json r = ordered_json::object();
    CopyNumber(repo, "repo", r);
    if (auto it = repo.find("reachable"); it != repo.end() && it->is_boolean()) r["reachable"] = *it;
    CopyNumber(repo, "backupBytes", r);
    CopyNumber(repo, "walBytes", r);
    if (!r.empty()) repositories.push_back(std::move(r));
  }
  if (!repositories.empty()) out["repositories"] = std::move(repositories);
  ordered_json conditions = ordered_json::object();
  for (absl::string_view type : kConditions)
    for (const json& c : ArrayAt(entry, "conditions"))
      if (StringAt(c, "type") == type && !StringAt(c, "status").empty()) {
        conditions[std::string(type)] = StringAt(c, "status");
        break;
      }
  if (!conditions.empty()) out["conditions"] = std::move(conditions);
  return out;
}

std::optional<json> StoredPluginStatus(const json& cluster_status, absl::string_view plugin_name) {
  for (const json& entry : ArrayAt(cluster_status, "pluginStatus")) {
    if (StringAt(entry, "name") != plugin_name) continue;
    std::string stored = StringAt(entry, "status");
    if (stored.empty()) return std::nullopt;
    auto parsed = ParseJsonObject(stored, "plugin status");
    if (!parsed.ok()) return std::nullopt;
    return *parsed;
  }
  return std::nullopt;
}

absl::StatusOr<std::string> ArchiveClusterStatus::Compute(const std::string& cluster_definition) {
  auto cluster = ParseCluster(cluster_definition, plugin_name_);
  if (!cluster.ok()) return cluster.status();
  if (!cluster->archive) return std::string();  // the Cluster does not archive through us
  const ArchiveUse& use = *cluster->archive;
  auto archive = read_archive_(cluster->namespace_, use.archive_name);
  if (!archive.ok()) {
    // Nothing is answered, so the Cluster keeps what it shows: no flapping through "unknown".
    Log("warning", "Cluster status not updated: the Archive cannot be read",
        {{"cluster", cluster->name},
         {"namespace", cluster->namespace_},
         {"archive", use.archive_name},
         {"error", archive.status().message()}});
    return std::string();
  }
  const json& entry = ObjectAt(ObjectAt(ObjectAt(*archive, "status"), "stanzaRecoveryWindow"), use.stanza);
  ordered_json compact = CompactClusterStatus(entry);
  if (compact.empty()) return std::string();  // the sidecar has not reported on this stanza yet
  compact["archive"] = use.archive_name;
  compact["stanza"] = use.stanza;
  std::string answer = compact.dump();
  json wanted = json::parse(answer);  // unordered: compared by value, whatever order the stored keys are in
  std::optional<json> stored = StoredPluginStatus(cluster->status, plugin_name_);
  std::string key = cluster->uid.empty() ? absl::StrCat(cluster->namespace_, "/", cluster->name) : cluster->uid;
  absl::MutexLock lock(&mu_);
  if (answered_.size() > 10000) answered_.clear();  // deleted Clusters: forgetting costs one answer each
  if (stored && *stored == wanted) {
    answered_[key] = answer;
    return std::string();
  }
  if (!stored) {
    auto it = answered_.find(key);
    if (it != answered_.end() && it->second == answer) return std::string();
  }
  answered_[key] = answer;
  return answer;
}

}  // namespace cnpgi_pgbackrest
