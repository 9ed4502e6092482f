#include "kubernetes/kubernetes_archive_catalog.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include "common/log.h"

namespace cnpgi_pgbackrest {

absl::StatusOr<Archive> KubernetesArchiveCatalog::Get(absl::string_view namespace_, absl::string_view name) const {
  std::string key = absl::StrCat(namespace_, "/", name);
  auto object =
      client_->Get(absl::StrCat("/apis/pgbackrest.cnpg.opera.com/v1/namespaces/", namespace_, "/archives/", name));
  if (object.ok()) {
    auto archive = ParseArchive(*object);
    if (!archive.ok())
      return absl::FailedPreconditionError(absl::StrCat("Archive '", name, "' in namespace '", namespace_,
                                                        "' is invalid: ", archive.status().message()));
    absl::MutexLock lock(&mu_);
    last_good_[key] = *archive;
    return archive;
  }
  if (absl::IsNotFound(object.status()))
    return absl::NotFoundError(absl::StrCat("Archive '", name, "' does not exist in namespace '", namespace_, "'"));
  if (absl::IsUnavailable(object.status()) || absl::IsDeadlineExceeded(object.status())) {
    absl::MutexLock lock(&mu_);
    if (auto it = last_good_.find(key); it != last_good_.end()) {
      Log("warning", "Kubernetes API unreachable; using the last Archive read",
          {{"archive", key}, {"error", object.status().message()}});
      return it->second;
    }
  }
  return object.status();
}

}  // namespace cnpgi_pgbackrest
