// A small Kubernetes API client: in-cluster configuration, GET, POST, PUT and PATCH of namespaced objects.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace cnpgi_pgbackrest {

struct KubernetesConfig {
  std::string server;      // https://host:port
  std::string ca_file;     // the cluster CA
  std::string token_file;  // re-read on every request: projected tokens rotate
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};

  // The configuration a Pod gets: KUBERNETES_SERVICE_HOST/PORT and the service account files.
  static absl::StatusOr<KubernetesConfig> InCluster(
      const std::string& account_dir = "/var/run/secrets/kubernetes.io/serviceaccount");
};

class KubernetesClient {
 public:
  explicit KubernetesClient(KubernetesConfig config) : config_(std::move(config)) {}

  // GET of an API path (an object or a list); errors carry the API's own Status message.
  absl::StatusOr<nlohmann::json> Get(const std::string& path) const;
  // PATCH with a merge patch (application/merge-patch+json).
  absl::StatusOr<nlohmann::json> MergePatch(const std::string& path, const nlohmann::json& patch) const;
  // POST of a new object to its collection; an existing name is ABORTED (HTTP 409 AlreadyExists).
  absl::StatusOr<nlohmann::json> Create(const std::string& collection_path, const nlohmann::json& object) const;
  // PUT of a whole object. Its metadata.resourceVersion is a precondition: a stale one is ABORTED
  // (HTTP 409 Conflict), so read-modify-write never overwrites another writer's change.
  absl::StatusOr<nlohmann::json> Replace(const std::string& path, const nlohmann::json& object) const;

 private:
  absl::StatusOr<nlohmann::json> Request(const std::string& method, const std::string& path, const std::string& body,
                                         const std::string& content_type) const;
  KubernetesConfig config_;
};

}  // namespace cnpgi_pgbackrest
