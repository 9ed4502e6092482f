// Archives read from the Kubernetes API (operator side), with the last good copy kept for outages.
#pragma once

#include <map>

#include "absl/synchronization/mutex.h"

#include "config/archive_catalog.h"
#include "kubernetes/client.h"

namespace cnpgi_pgbackrest {

class KubernetesArchiveCatalog : public ArchiveCatalog {
 public:
  explicit KubernetesArchiveCatalog(const KubernetesClient* client) : client_(client) {}
  absl::StatusOr<Archive> Get(absl::string_view namespace_, absl::string_view name) const override;

 private:
  const KubernetesClient* client_;
  mutable absl::Mutex mu_;
  // namespace/name → the last Archive read; served while the API is unreachable.
  mutable std::map<std::string, Archive> last_good_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cnpgi_pgbackrest
