#include "config/archive_catalog.h"

#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

#include "common/files.h"
#include "common/status_macros.h"

namespace cnpgi_pgbackrest {

absl::StatusOr<Archive> StaticArchiveCatalog::Get(absl::string_view namespace_, absl::string_view name) const {
  auto it = archives_.find(std::string(name));
  if (it != archives_.end() &&
      (namespace_.empty() || it->second.namespace_.empty() || it->second.namespace_ == namespace_))
    return it->second;
  std::vector<std::string> known;
  for (const auto& [n, a] : archives_) known.push_back(n);
  return absl::NotFoundError(absl::StrCat(
      "Archive '", name, "' is not known to this sidecar (known: ", known.empty() ? "none" : absl::StrJoin(known, ", "),
      "); check pgbackrestObjectName and that the Archive exists in the Cluster's namespace"));
}

std::vector<std::string> StaticArchiveCatalog::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, archive] : archives_) names.push_back(name);
  return names;
}

absl::StatusOr<Archive> LookupArchive(const ArchiveCatalog& catalog, const ArchiveUse& use) {
  auto archive = catalog.Get(use.namespace_, use.archive_name);
  if (!archive.ok())
    return absl::Status(archive.status().code(), absl::StrCat(use.declared_at, ": ", archive.status().message()));
  return archive;
}

absl::StatusOr<std::unique_ptr<StaticArchiveCatalog>> LoadArchiveCatalog(const std::string& path) {
  std::string text;
  std::string source;
  if (!path.empty()) {
    ASSIGN_OR_RETURN(auto read, ReadFile(path));
    text = std::move(read);
    source = path;
  } else {
    const char* env = std::getenv(std::string(kArchivesEnvVar).c_str());
    text = env ? env : "[]";
    source = absl::StrCat("$", kArchivesEnvVar);
  }
  auto archives = ParseArchiveList(text);
  if (!archives.ok()) return absl::InvalidArgumentError(absl::StrCat(source, ": ", archives.status().message()));
  return std::make_unique<StaticArchiveCatalog>(std::move(*archives));
}

}  // namespace cnpgi_pgbackrest
