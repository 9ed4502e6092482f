#include "lifecycle/sidecar_injection.h"

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "common/json.h"
#include "config/cluster.h"
#include "pgbackrest/secrets.h"

namespace cnpgi_pgbackrest {
namespace {

using json = nlohmann::json;

constexpr const char* kPluginsVolume = "plugins";
constexpr const char* kPluginsPath = "/plugins";
// CNPG's in-Pod bootstrap container (CNPG >= 1.31): `instance restore` there looks for plugin sockets.
constexpr const char* kBootstrapContainer = "bootstrap-instance";

// The element of array `list` whose "name" is name, or nullptr.
json* FindByName(json& list, const std::string& name) {
  if (!list.is_array()) return nullptr;
  for (auto& e : list)
    if (StringAt(e, "name") == name) return &e;
  return nullptr;
}

// Replaces the element named like `item`, or appends it (before `before` when that exists).
void Upsert(json& list, const json& item, const std::string& before = "") {
  if (!list.is_array()) list = json::array();
  if (json* existing = FindByName(list, StringAt(item, "name"))) {
    *existing = item;
    return;
  }
  for (std::size_t i = 0; i < list.size(); ++i)
    if (!before.empty() && StringAt(list[i], "name") == before) {
      list.insert(list.begin() + static_cast<std::ptrdiff_t>(i), item);
      return;
    }
  list.push_back(item);
}

json RestrictedSecurityContext() {
  return {{"allowPrivilegeEscalation", false},
          {"capabilities", {{"drop", json::array({"ALL"})}}},
          {"privileged", false},
          {"readOnlyRootFilesystem", true},
          {"runAsNonRoot", true},
          {"seccompProfile", {{"type", "RuntimeDefault"}}}};
}

void AddSecretEnv(std::map<std::string, json>& env, const SecretKeyRef& ref) {
  env[SecretEnvName(ref)] = {{"name", SecretEnvName(ref)},
                             {"valueFrom", {{"secretKeyRef", {{"name", ref.name}, {"key", ref.key}}}}}};
}

}  // namespace

std::vector<LifecycleSubscription> SidecarInjection::Subscriptions() const {
  return {{"", "Pod", {LifecycleOperation::kCreate, LifecycleOperation::kEvaluate}},
          {"batch", "Job", {LifecycleOperation::kCreate}}};
}

absl::StatusOr<std::string> SidecarInjection::Mutate(const LifecycleRequest& request) {
  // Only the writes subscribed to are patched: a DELETE or PATCH sent anyway (CNPG calls every
  // plugin for some verbs) must not get the injection.
  if (request.operation != LifecycleOperation::kCreate && request.operation != LifecycleOperation::kEvaluate)
    return std::string();
  auto cluster = ParseCluster(request.cluster_definition, options_.plugin_name);
  if (!cluster.ok()) return cluster.status();
  std::vector<ArchiveUse> uses;
  for (const auto* use : {&cluster->archive, &cluster->recovery_source, &cluster->replica_source})
    if (*use) uses.push_back(**use);
  if (uses.empty()) return std::string();  // not a Cluster of ours: leave the object alone

  auto parsed = ParseJsonObject(request.object_definition, "object definition");
  if (!parsed.ok()) return parsed.status();
  const json& original = *parsed;
  std::string kind = StringAt(original, "kind");
  json::json_pointer spec_at;
  std::string main_container;
  if (kind == "Pod") {
    spec_at = json::json_pointer("/spec");
    main_container = "postgres";
  } else if (kind == "Job" && request.operation == LifecycleOperation::kCreate) {
    // Only recovery Jobs (CNPG <= 1.30) need the sidecar; matched by suffix for custom API groups.
    const json& labels = ObjectAt(ObjectAt(ObjectAt(ObjectAt(original, "spec"), "template"), "metadata"), "labels");
    for (auto& [k, v] : labels.items())
      if (absl::EndsWith(k, "/jobRole") && v.is_string() && (v == "full-recovery" || v == "snapshot-recovery"))
        main_container = v.get<std::string>();
    if (main_container.empty()) return std::string();
    spec_at = json::json_pointer("/spec/template/spec");
  } else {
    return std::string();
  }
  if (!original.contains(spec_at) || !original[spec_at].is_object())
    return absl::InvalidArgumentError(absl::StrCat(kind, " has no ", spec_at.to_string()));

  // What the sidecar must know, resolved now: the Archives and their Secret keys.
  std::map<std::string, Archive> archives;
  for (const auto& use : uses) {
    auto archive = LookupArchive(*catalog_, use);
    if (!archive.ok()) return archive.status();
    archives.emplace(use.archive_name, std::move(*archive));
  }
  json definitions = json::array();
  std::map<std::string, json> env_by_name;
  json sidecar_config = json::object();
  for (const auto& [name, archive] : archives) {
    definitions.push_back(archive.definition);
    for (const auto& repo : archive.repositories)
      for (const auto& ref : SecretRefs(repo)) AddSecretEnv(env_by_name, ref);
    // The Archive the Cluster writes to decides the sidecar's settings; else the first one.
    if (sidecar_config.empty() || (cluster->archive && cluster->archive->archive_name == name))
      sidecar_config = archive.instance_sidecar_configuration;
  }

  json mutated = original;
  json& spec = mutated[spec_at];
  json* main = FindByName(spec["containers"], main_container);
  if (!main) return absl::InvalidArgumentError(absl::StrCat(kind, " has no container named ", main_container));
  Upsert(spec["volumes"], {{"name", kPluginsVolume}, {"emptyDir", json::object()}});
  const json plugins_mount = {{"name", kPluginsVolume}, {"mountPath", kPluginsPath}};
  Upsert((*main)["volumeMounts"], plugins_mount);
  // A Pod that bootstraps in place restores from its bootstrap container, which must see the
  // sockets too. Patched whenever present, so a CREATE that EVALUATE never saw yields the same
  // spec as EVALUATE then CREATE.
  if (json* bootstrap = FindByName(spec["initContainers"], kBootstrapContainer))
    Upsert((*bootstrap)["volumeMounts"], plugins_mount);

  json env = ArrayAt(*main, "env");
  std::set<std::string> taken;
  for (const auto& e : env) taken.insert(StringAt(e, "name"));
  auto add_env = [&](const json& e) {
    if (taken.insert(StringAt(e, "name")).second) env.push_back(e);
  };
  add_env({{"name", "CNPGI_PGBACKREST_ARCHIVES"}, {"value", definitions.dump()}});
  for (const auto& [name, e] : env_by_name) add_env(e);
  for (const auto& e : ArrayAt(sidecar_config, "env")) add_env(e);

  json sidecar = {
      {"name", options_.container_name},
      {"image", options_.image},
      {"args", json::array({"serve", absl::StrCat("--plugin-name=", options_.plugin_name)})},
      {"restartPolicy", "Always"},
      {"env", env},
      {"volumeMounts", (*main)["volumeMounts"]},
      {"startupProbe",
       {{"exec",
         {{"command", json::array({options_.binary, "probe", absl::StrCat("--plugin-name=", options_.plugin_name)})}}},
        {"periodSeconds", 1},
        {"failureThreshold", 30},
        {"timeoutSeconds", 5}}},
      {"securityContext",
       sidecar_config.contains("securityContext") ? sidecar_config["securityContext"] : RestrictedSecurityContext()},
      {"resources", ObjectAt(sidecar_config, "resources")},
  };
  if (auto policy = cluster->spec.find("imagePullPolicy"); policy != cluster->spec.end() && policy->is_string())
    sidecar["imagePullPolicy"] = *policy;
  // Before CNPG's in-Pod bootstrap container, so the socket is up when the restore starts.
  Upsert(spec["initContainers"], sidecar, kBootstrapContainer);

  json patch = json::diff(original, mutated);
  return patch.empty() ? std::string() : patch.dump();
}

}  // namespace cnpgi_pgbackrest
