// The Archive resource (pgbackrest.cnpg.opera.com/v1): where and how pgBackRest stores a cluster.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cnpgi_pgbackrest {

inline constexpr absl::string_view kArchiveApiVersion = "pgbackrest.cnpg.opera.com/v1";
inline constexpr absl::string_view kArchiveKind = "Archive";

// A key of a Secret in the Cluster's namespace.
struct SecretKeyRef {
  std::string name;
  std::string key;
  bool operator==(const SecretKeyRef&) const = default;
};

enum class RepositoryType { kS3, kPosix, kAzure, kGcs };

struct S3Credentials {
  std::string region;
  std::string key_type = "shared";  // shared | auto | web-id
  std::optional<SecretKeyRef> access_key_id;
  std::optional<SecretKeyRef> secret_access_key;
};

// Azure Blob storage (Opera PR #137's shape): the repository's bucket is the container.
struct AzureCredentials {
  std::string key_type = "shared";  // shared (account key) | sas (shared access signature)
  SecretKeyRef account;
  SecretKeyRef key;
};

// Google Cloud Storage. key: the service account's JSON key (keyType service) or a token (keyType
// token); none with keyType auto (the instance's service account).
struct GcsCredentials {
  std::string key_type = "service";  // service | token | auto
  std::optional<SecretKeyRef> key;
};

struct Retention {
  std::optional<int> full;
  std::string full_type;  // count | time
  std::optional<int> diff;
  std::optional<int> archive;
  std::string archive_type;  // full | diff | incr
  std::optional<int> history;
};

struct Repository {
  RepositoryType type = RepositoryType::kS3;
  std::string destination_path = "/";  // repoN-path
  // Object stores (s3, azure, gcs)
  std::string bucket;         // the S3 or GCS bucket, the Azure container
  std::string endpoint_host;  // empty (azure, gcs): pgBackRest's default endpoint
  int endpoint_port = 443;
  std::string uri_style;  // host | path (s3, azure); empty: pgBackRest's default
  bool disable_verify_tls = false;
  std::optional<SecretKeyRef> endpoint_ca;
  std::optional<S3Credentials> s3_credentials;
  std::optional<AzureCredentials> azure_credentials;
  std::optional<GcsCredentials> gcs_credentials;
  // Client-side encryption
  std::string encryption;  // empty or aes-256-cbc
  std::optional<SecretKeyRef> encryption_key;
  Retention retention;
};

struct Archive {
  std::string name;
  std::string namespace_;
  std::vector<Repository> repositories;
  std::string compression;  // none | bz2 | gz | lz4 | zst; empty: pgBackRest's default
  std::optional<int> compress_level;
  // archive-push-queue-max in bytes: past this backlog pgBackRest drops WAL (reports it archived
  // without storing it) to keep pg_wal from filling the disk. Unset: WAL is never dropped.
  std::optional<std::uint64_t> archive_push_queue_max;
  nlohmann::json instance_sidecar_configuration = nlohmann::json::object();
  // apiVersion, kind, metadata.name/namespace and spec of the object parsed: what the operator
  // hands to the sidecar (no status or resourceVersion, so unrelated updates never roll Pods).
  nlohmann::json definition = nlohmann::json::object();
};

// Every Secret key a repository names (credentials, encryption key, CA): what the sidecar needs.
std::vector<SecretKeyRef> SecretRefs(const Repository& repo);

// Parses one Archive object; errors name the offending field path.
absl::StatusOr<Archive> ParseArchive(const nlohmann::json& object);

// Parses a JSON array of Archive objects (or a List with items), keyed by name.
absl::StatusOr<std::map<std::string, Archive>> ParseArchiveList(absl::string_view json_text);

}  // namespace cnpgi_pgbackrest
