#include "pgbackrest/secrets.h"

#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include "common/files.h"

namespace cnpgi_pgbackrest {

std::string SecretEnvName(const SecretKeyRef& ref) { return absl::StrCat("CNPGI_SECRET_", ref.name, "_", ref.key); }

absl::StatusOr<std::string> EnvSecretResolver::Resolve(const SecretKeyRef& ref) const {
  std::string name = SecretEnvName(ref);
  const char* v = std::getenv(name.c_str());
  if (v == nullptr)
    return absl::NotFoundError(absl::StrCat("Secret '", ref.name, "' key '", ref.key,
                                            "' is not available to the sidecar (environment variable ", name,
                                            " is not set)"));
  return std::string(v);
}

absl::StatusOr<std::string> DirectorySecretResolver::Resolve(const SecretKeyRef& ref) const {
  std::string path = absl::StrCat(dir_, "/", ref.name, "/", ref.key);
  auto value = ReadFile(path);
  if (!value.ok())
    return absl::Status(value.status().code(),
                        absl::StrCat("Secret '", ref.name, "' key '", ref.key, "' is not mounted at ", path, " (",
                                     value.status().message(), ")"));
  return value;
}

absl::StatusOr<std::string> ChainSecretResolver::Resolve(const SecretKeyRef& ref) const {
  absl::Status last = absl::NotFoundError(absl::StrCat("Secret '", ref.name, "' key '", ref.key, "' is not available"));
  for (const auto& r : chain_) {
    auto v = r->Resolve(ref);
    if (v.ok() || v.status().code() != absl::StatusCode::kNotFound) return v;
    last = v.status();
  }
  return last;
}

}  // namespace cnpgi_pgbackrest
