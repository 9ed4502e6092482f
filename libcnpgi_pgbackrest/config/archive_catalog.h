// Where the sidecar finds the Archive objects a Cluster names, without calling the Kubernetes API.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "config/archive.h"
#include "config/cluster.h"

namespace cnpgi_pgbackrest {

inline constexpr absl::string_view kArchivesEnvVar = "CNPGI_PGBACKREST_ARCHIVES";

class ArchiveCatalog {
 public:
  virtual ~ArchiveCatalog() = default;
  // The Archive called name in the namespace, or NOT_FOUND naming it.
  virtual absl::StatusOr<Archive> Get(absl::string_view namespace_, absl::string_view name) const = 0;
  // The names it holds, where it can tell without asking a server (empty otherwise).
  virtual std::vector<std::string> Names() const { return {}; }
};

// The Archive a use names; errors start with where the Cluster declared it (spec.plugins[0]: …).
absl::StatusOr<Archive> LookupArchive(const ArchiveCatalog& catalog, const ArchiveUse& use);

// A fixed set of Archives, resolved when the sidecar starts (the operator puts them in the Pod spec).
class StaticArchiveCatalog : public ArchiveCatalog {
 public:
  explicit StaticArchiveCatalog(std::map<std::string, Archive> archives) : archives_(std::move(archives)) {}
  // An Archive given without a namespace matches any (the sidecar's own Pod namespace).
  absl::StatusOr<Archive> Get(absl::string_view namespace_, absl::string_view name) const override;
  std::vector<std::string> Names() const override;

 private:
  std::map<std::string, Archive> archives_;
};

// Loads Archives from a JSON file, or from $CNPGI_PGBACKREST_ARCHIVES when path is empty.
absl::StatusOr<std::unique_ptr<StaticArchiveCatalog>> LoadArchiveCatalog(const std::string& path);

}  // namespace cnpgi_pgbackrest
