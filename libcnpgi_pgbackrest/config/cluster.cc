#include "config/cluster.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include "common/json.h"
#include "common/status_macros.h"
#include "common/text.h"
#include "config/names.h"

namespace cnpgi_pgbackrest {
namespace {

using json = nlohmann::json;

bool Enabled(const json& entry) { return BoolAt(entry, "enabled", true); }

// Builds an ArchiveUse from a plugin entry {name, parameters}; stanza defaults to default_stanza.
absl::StatusOr<ArchiveUse> UseFromEntry(const json& entry, std::string declared_at, std::string default_stanza) {
  ArchiveUse use;
  use.declared_at = std::move(declared_at);
  const json& params = ObjectAt(entry, "parameters");
  for (auto& [k, v] : params.items()) {
    if (!v.is_string())
      return absl::InvalidArgumentError(absl::StrCat(use.declared_at, ".parameters.", k, ": must be a string"));
    use.parameters[k] = v.get<std::string>();
  }
  use.archive_name = use.parameters.count("pgbackrestObjectName") ? use.parameters["pgbackrestObjectName"] : "";
  use.stanza = use.parameters.count("stanza") ? use.parameters["stanza"] : default_stanza;
  if (use.archive_name.empty())
    return absl::InvalidArgumentError(
        absl::StrCat(use.declared_at, ".parameters.pgbackrestObjectName: is required (the name of an Archive)"));
  RETURN_IF_ERROR(CheckResourceName(use.archive_name, absl::StrCat(use.declared_at, ".parameters.pgbackrestObjectName"),
                                    "Archive"));
  // The stanza names directories in the repository, the spool and the lock dir: checked here,
  // where every use of it comes from.
  RETURN_IF_ERROR(CheckStanzaName(use.stanza, absl::StrCat(use.declared_at, ".parameters.stanza")));
  return use;
}

// The externalClusters entry `source` when its plugin is us and enabled.
absl::StatusOr<std::optional<ArchiveUse>> ExternalUse(const json& spec, const std::string& source,
                                                      absl::string_view plugin_name) {
  if (source.empty()) return std::optional<ArchiveUse>();
  auto ext = spec.find("externalClusters");
  if (ext == spec.end() || !ext->is_array()) return std::optional<ArchiveUse>();
  for (std::size_t i = 0; i < ext->size(); ++i) {
    const json& cluster = (*ext)[i];
    if (StringAt(cluster, "name") != source) continue;
    const json& plugin = ObjectAt(cluster, "plugin");
    if (StringAt(plugin, "name") != plugin_name || !Enabled(plugin)) return std::optional<ArchiveUse>();
    // A source cluster's stanza defaults to that cluster's name, which is what it archived under.
    ASSIGN_OR_RETURN(auto use, UseFromEntry(plugin, absl::StrCat("spec.externalClusters[", i, "].plugin"), source));
    return std::optional<ArchiveUse>(use);
  }
  return std::optional<ArchiveUse>();
}

}  // namespace

std::string Describe(const ArchiveUse& use) {
  return absl::StrCat("Archive '", use.archive_name, "' stanza '", use.stanza, "'");
}

bool ClusterView::SkipsEmptyWalArchiveCheck() const {
  auto it = annotations.find(std::string(kSkipEmptyWalArchiveCheckAnnotation));
  return it != annotations.end() && it->second == "enabled";
}

absl::StatusOr<ClusterView> ParseCluster(absl::string_view cluster_json, absl::string_view plugin_name) {
  ASSIGN_OR_RETURN(auto parsed, ParseJsonObject(cluster_json, "cluster definition"));
  const json& doc = parsed;
  if (auto kind = StringAt(doc, "kind"); !kind.empty() && kind != "Cluster")
    return absl::InvalidArgumentError(absl::StrCat("cluster definition has kind ", Quoted(kind), ", expected Cluster"));
  ClusterView view;
  const json& meta = ObjectAt(doc, "metadata");
  view.name = StringAt(meta, "name");
  if (view.name.empty()) return absl::InvalidArgumentError("cluster definition has no metadata.name");
  // The name is the default stanza and the namespace part of API paths: both must be what
  // Kubernetes allows.
  RETURN_IF_ERROR(CheckResourceName(view.name, "cluster definition metadata.name", "Cluster"));
  view.namespace_ = StringAt(meta, "namespace");
  if (!view.namespace_.empty())
    RETURN_IF_ERROR(CheckResourceName(view.namespace_, "cluster definition metadata.namespace", "namespace"));
  view.uid = StringAt(meta, "uid");
  for (auto& [k, v] : ObjectAt(meta, "annotations").items())
    if (v.is_string()) view.annotations[k] = v.get<std::string>();
  view.spec = ObjectAt(doc, "spec");
  auto in_namespace = [&](std::optional<ArchiveUse>& use) {
    if (use) use->namespace_ = view.namespace_;
  };
  view.status = ObjectAt(doc, "status");
  view.current_primary = StringAt(view.status, "currentPrimary");
  view.target_primary = StringAt(view.status, "targetPrimary");
  view.has_wal_storage = view.spec.contains("walStorage") && view.spec["walStorage"].is_object();

  if (auto plugins = view.spec.find("plugins"); plugins != view.spec.end() && plugins->is_array()) {
    for (std::size_t i = 0; i < plugins->size(); ++i) {
      const json& entry = (*plugins)[i];
      if (StringAt(entry, "name") != plugin_name) continue;
      if (!Enabled(entry)) {
        view.plugin_disabled = true;
        continue;
      }
      auto use = UseFromEntry(entry, absl::StrCat("spec.plugins[", i, "]"), view.name);
      if (!use.ok()) {
        view.archive_problem = use.status();
        continue;
      }
      view.archive = *use;
      break;
    }
  }
  const json& bootstrap = ObjectAt(view.spec, "bootstrap");
  ASSIGN_OR_RETURN(auto recovery,
                   ExternalUse(view.spec, StringAt(ObjectAt(bootstrap, "recovery"), "source"), plugin_name));
  view.recovery_source = recovery;
  const json& replica_spec = ObjectAt(view.spec, "replica");
  if (auto e = replica_spec.find("enabled"); e != replica_spec.end() && e->is_boolean()) {
    view.is_replica = e->get<bool>();
  } else {
    std::string self = StringAt(replica_spec, "self");
    std::string primary = StringAt(replica_spec, "primary");
    view.is_replica = !primary.empty() && primary != (self.empty() ? view.name : self);
  }
  std::string token = StringAt(ObjectAt(view.spec, "replica"), "promotionToken");
  view.promotion_in_progress = !token.empty() && token != StringAt(view.status, "lastPromotionToken");
  std::string replica_source = StringAt(ObjectAt(view.spec, "replica"), "source");
  ASSIGN_OR_RETURN(auto replica, ExternalUse(view.spec, replica_source, plugin_name));
  view.replica_source = replica;
  in_namespace(view.archive);
  in_namespace(view.recovery_source);
  in_namespace(view.replica_source);
  if (auto ext = view.spec.find("externalClusters"); ext != view.spec.end() && ext->is_array())
    for (const auto& e : *ext)
      if (!replica_source.empty() && StringAt(e, "name") == replica_source)
        view.replica_source_streams = !ObjectAt(e, "connectionParameters").empty();
  return view;
}

}  // namespace cnpgi_pgbackrest
