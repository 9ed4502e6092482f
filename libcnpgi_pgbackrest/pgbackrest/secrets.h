// Where secret values named by an Archive come from inside the sidecar.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "config/archive.h"

namespace cnpgi_pgbackrest {

class SecretResolver {
 public:
  virtual ~SecretResolver() = default;
  // The value of one Secret key, or NOT_FOUND naming the Secret and key.
  virtual absl::StatusOr<std::string> Resolve(const SecretKeyRef& ref) const = 0;
};

// The environment variable that carries a Secret key into the sidecar (secretKeyRef env).
// Secret names never contain '_', so CNPGI_SECRET_<name>_<key> is unambiguous.
std::string SecretEnvName(const SecretKeyRef& ref);

// Reads CNPGI_SECRET_<name>_<key> from this process's environment.
class EnvSecretResolver : public SecretResolver {
 public:
  absl::StatusOr<std::string> Resolve(const SecretKeyRef& ref) const override;
};

// Reads <dir>/<name>/<key>, the layout of Secrets mounted as volumes.
class DirectorySecretResolver : public SecretResolver {
 public:
  explicit DirectorySecretResolver(std::string dir) : dir_(std::move(dir)) {}
  absl::StatusOr<std::string> Resolve(const SecretKeyRef& ref) const override;

 private:
  std::string dir_;
};

// Tries each resolver in order; the first value found wins.
class ChainSecretResolver : public SecretResolver {
 public:
  explicit ChainSecretResolver(std::vector<std::unique_ptr<SecretResolver>> chain) : chain_(std::move(chain)) {}
  absl::StatusOr<std::string> Resolve(const SecretKeyRef& ref) const override;

 private:
  std::vector<std::unique_ptr<SecretResolver>> chain_;
};

}  // namespace cnpgi_pgbackrest
