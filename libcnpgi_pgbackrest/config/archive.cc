#include "config/archive.h"

#include <set>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

#include "common/json.h"
#include "common/text.h"
#include "common/wal_name.h"
#include "config/archive_schema.h"
#include "config/names.h"

namespace cnpgi_pgbackrest {
namespace {

using json = nlohmann::json;

absl::Status FieldError(absl::string_view path, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", problem));
}

// Reads an optional string field; a present non-string is an error.
absl::StatusOr<std::optional<std::string>> OptString(const json& obj, absl::string_view key, absl::string_view path) {
  auto it = obj.find(std::string(key));
  if (it == obj.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return FieldError(absl::StrCat(path, ".", key), "must be a string");
  return std::optional<std::string>(it->get<std::string>());
}

// A Kubernetes-style size in Mi, Gi or Ti as bytes, from one WAL segment (16Mi) to pgBackRest's
// maximum for archive-push-queue-max (4096Ti).
absl::StatusOr<std::uint64_t> ParseQueueSize(const std::string& text, absl::string_view path) {
  static const std::map<std::string, int> shift = {{"Mi", 20}, {"Gi", 30}, {"Ti", 40}};
  std::size_t digits = 0;
  while (digits < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  auto unit = shift.find(text.substr(digits));
  std::uint64_t n = 0;
  if (digits == 0 || digits > 9 || unit == shift.end() || !absl::SimpleAtoi(text.substr(0, digits), &n))
    return FieldError(path, absl::StrCat(Quoted(text), " is not a size like 512Mi, 4Gi or 1Ti"));
  constexpr std::uint64_t kMax = std::uint64_t{4096} << 40;
  if (n > (kMax >> unit->second))
    return FieldError(path, absl::StrCat(Quoted(text), " is more than pgBackRest allows (4096Ti)"));
  std::uint64_t bytes = n << unit->second;
  if (bytes < (std::uint64_t{16} << 20))
    return FieldError(path, absl::StrCat(Quoted(text), " is less than one WAL segment (16Mi)"));
  return bytes;
}

// Values written into pgbackrest.conf: a line break would start an option of its own.
absl::Status CheckConfigValue(absl::string_view value, absl::string_view path) {
  for (char c : value)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return FieldError(path,
                        "must not contain control characters or line breaks (it is written into pgbackrest.conf)");
  return absl::OkStatus();
}

absl::StatusOr<bool> OptBool(const json& obj, absl::string_view key, absl::string_view path) {
  auto it = obj.find(std::string(key));
  if (it == obj.end() || it->is_null()) return false;
  if (!it->is_boolean()) return FieldError(absl::StrCat(path, ".", key), "must be true or false");
  return it->get<bool>();
}

// Reads an optional integer field (its range is the schema's, checked before).
absl::StatusOr<std::optional<int>> OptInt(const json& obj, absl::string_view key, absl::string_view path) {
  auto it = obj.find(std::string(key));
  if (it == obj.end() || it->is_null()) return std::optional<int>();
  if (!it->is_number_integer()) return FieldError(absl::StrCat(path, ".", key), "must be an integer");
  return std::optional<int>(static_cast<int>(it->get<long long>()));
}

absl::StatusOr<std::optional<SecretKeyRef>> OptSecretRef(const json& obj, absl::string_view key,
                                                         absl::string_view parent) {
  std::string path = absl::StrCat(parent, ".", key);
  auto it = obj.find(std::string(key));
  if (it == obj.end() || it->is_null()) return std::optional<SecretKeyRef>();
  if (!it->is_object()) return FieldError(path, "must be an object with 'name' and 'key'");
  SecretKeyRef ref;
  auto name = OptString(*it, "name", path);
  if (!name.ok()) return name.status();
  auto k = OptString(*it, "key", path);
  if (!k.ok()) return k.status();
  if (!name->has_value()) return FieldError(absl::StrCat(path, ".name"), "is required");
  if (!k->has_value()) return FieldError(absl::StrCat(path, ".key"), "is required");
  ref.name = **name;
  ref.key = **k;
  if (!IsResourceName(ref.name))
    return FieldError(absl::StrCat(path, ".name"), absl::StrCat(Quoted(ref.name), " is not a valid Secret name"));
  if (!IsSecretKey(ref.key))
    return FieldError(absl::StrCat(path, ".key"), absl::StrCat(Quoted(ref.key), " is not a valid Secret key"));
  return std::optional<SecretKeyRef>(ref);
}

// endpointURL: "host", "host:port", "https://host[:port][/]". pgBackRest 2.45 speaks HTTPS only.
absl::Status ParseEndpoint(std::string url, Repository& repo, absl::string_view path) {
  if (absl::StartsWithIgnoreCase(url, "http://"))
    return FieldError(path, absl::StrCat(Quoted(url), " uses plain HTTP; pgBackRest needs an HTTPS endpoint"));
  if (absl::StartsWithIgnoreCase(url, "https://")) url = url.substr(8);
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.empty()) return FieldError(path, "is empty");
  if (url.find('/') != std::string::npos)
    return FieldError(path, absl::StrCat(Quoted(url), " must be host[:port] without a path"));
  auto colon = url.rfind(':');
  if (colon != std::string::npos && url.find(']') == std::string::npos) {
    int port = 0;
    if (!absl::SimpleAtoi(url.substr(colon + 1), &port) || port < 1 || port > 65535)
      return FieldError(path, absl::StrCat(Quoted(url), " has an invalid port"));
    repo.endpoint_port = port;
    url = url.substr(0, colon);
  }
  if (url.empty()) return FieldError(path, "has no host");
  if (auto s = CheckConfigValue(url, path); !s.ok()) return s;
  repo.endpoint_host = url;
  return absl::OkStatus();
}

absl::StatusOr<Retention> ParseRetention(const json& obj, absl::string_view path) {
  Retention r;
  if (!obj.is_object()) return FieldError(path, "must be an object");
  auto full = OptInt(obj, "full", path);
  if (!full.ok()) return full.status();
  r.full = *full;
  auto diff = OptInt(obj, "diff", path);
  if (!diff.ok()) return diff.status();
  r.diff = *diff;
  auto arch = OptInt(obj, "archive", path);
  if (!arch.ok()) return arch.status();
  r.archive = *arch;
  auto hist = OptInt(obj, "history", path);
  if (!hist.ok()) return hist.status();
  r.history = *hist;
  auto ft = OptString(obj, "fullType", path);
  if (!ft.ok()) return ft.status();
  if (ft->has_value()) {
    r.full_type = **ft;
  }
  auto at = OptString(obj, "archiveType", path);
  if (!at.ok()) return at.status();
  if (at->has_value()) {
    r.archive_type = **at;
  }
  return r;
}

// The credentials object of the repository's store type at obj[key], as an object.
absl::StatusOr<const json*> CredentialsObject(const json& obj, absl::string_view key, absl::string_view store,
                                              absl::string_view path) {
  auto it = obj.find(std::string(key));
  if (it == obj.end() || !it->is_object())
    return FieldError(absl::StrCat(path, ".", key), absl::StrCat("is required for ", store, " (an object)"));
  return &*it;
}

// A credentials block's keyType (kept at its default when unset) and, where the store has one, its
// uriStyle (which the repository's own uriStyle overrides).
absl::Status ReadKeyTypeAndUriStyle(const json& c, const std::string& cpath, std::string* key_type, Repository* repo) {
  auto kt = OptString(c, "keyType", cpath);
  if (!kt.ok()) return kt.status();
  if (kt->has_value()) *key_type = **kt;
  if (!repo) return absl::OkStatus();
  auto uri = OptString(c, "uriStyle", cpath);
  if (!uri.ok()) return uri.status();
  if (uri->has_value() && repo->uri_style.empty()) repo->uri_style = **uri;
  return absl::OkStatus();
}

absl::StatusOr<S3Credentials> ParseS3Credentials(const json& obj, Repository& repo, absl::string_view path) {
  std::string cpath = absl::StrCat(path, ".s3Credentials");
  auto creds_obj = CredentialsObject(obj, "s3Credentials", "an S3 repository", path);
  if (!creds_obj.ok()) return creds_obj.status();
  const json& c = **creds_obj;
  S3Credentials creds;
  auto region = OptString(c, "region", cpath);
  if (!region.ok()) return region.status();
  if (!region->has_value() || (*region)->empty()) return FieldError(absl::StrCat(cpath, ".region"), "is required");
  creds.region = **region;
  if (auto s = CheckConfigValue(creds.region, absl::StrCat(cpath, ".region")); !s.ok()) return s;
  if (auto st = ReadKeyTypeAndUriStyle(c, cpath, &creds.key_type, &repo); !st.ok()) return st;
  auto ak = OptSecretRef(c, "accessKeyId", cpath);
  if (!ak.ok()) return ak.status();
  auto sk = OptSecretRef(c, "secretAccessKey", cpath);
  if (!sk.ok()) return sk.status();
  creds.access_key_id = *ak;
  creds.secret_access_key = *sk;
  if (creds.key_type == "shared") {
    if (!creds.access_key_id) return FieldError(absl::StrCat(cpath, ".accessKeyId"), "is required with keyType shared");
    if (!creds.secret_access_key)
      return FieldError(absl::StrCat(cpath, ".secretAccessKey"), "is required with keyType shared");
  }
  return creds;
}

// Opera PR #137's azureCredentials: account and key are Secret keys (pgBackRest takes both from
// the environment, PGBACKREST_REPOn_AZURE_ACCOUNT/_KEY); keyType shared or sas, as pgBackRest 2.45.
absl::StatusOr<AzureCredentials> ParseAzureCredentials(const json& obj, Repository& repo, absl::string_view path) {
  std::string cpath = absl::StrCat(path, ".azureCredentials");
  auto creds_obj = CredentialsObject(obj, "azureCredentials", "an azure repository", path);
  if (!creds_obj.ok()) return creds_obj.status();
  const json& c = **creds_obj;
  AzureCredentials creds;
  if (auto st = ReadKeyTypeAndUriStyle(c, cpath, &creds.key_type, &repo); !st.ok()) return st;
  auto account = OptSecretRef(c, "account", cpath);
  if (!account.ok()) return account.status();
  if (!account->has_value()) return FieldError(absl::StrCat(cpath, ".account"), "is required");
  creds.account = **account;
  auto key = OptSecretRef(c, "key", cpath);
  if (!key.ok()) return key.status();
  if (!key->has_value())
    return FieldError(absl::StrCat(cpath, ".key"), "is required (the account key, or the SAS token with keyType sas)");
  creds.key = **key;
  return creds;
}

// gcsCredentials: keyType as pgBackRest names it (repo-gcs-key-type), key a Secret key holding the
// service account's JSON key (service) or a token (token); auto uses the instance's account.
absl::StatusOr<GcsCredentials> ParseGcsCredentials(const json& obj, absl::string_view path) {
  std::string cpath = absl::StrCat(path, ".gcsCredentials");
  auto creds_obj = CredentialsObject(obj, "gcsCredentials", "a gcs repository", path);
  if (!creds_obj.ok()) return creds_obj.status();
  const json& c = **creds_obj;
  GcsCredentials creds;
  if (auto st = ReadKeyTypeAndUriStyle(c, cpath, &creds.key_type, nullptr); !st.ok()) return st;
  auto key = OptSecretRef(c, "key", cpath);
  if (!key.ok()) return key.status();
  creds.key = *key;
  if (creds.key_type == "auto" && creds.key)
    return FieldError(absl::StrCat(cpath, ".key"), "must not be set with keyType auto (the instance's account)");
  if (creds.key_type != "auto" && !creds.key)
    return FieldError(absl::StrCat(cpath, ".key"), absl::StrCat("is required with keyType ", creds.key_type));
  return creds;
}

// The store type: `type` when given, else the credentials present (Opera's Archives have no
// `type`: an azureCredentials block makes an Azure repository), else s3.
absl::StatusOr<RepositoryType> ParseRepositoryType(const json& obj, absl::string_view path) {
  static const std::map<std::string, RepositoryType> by_name = {{"s3", RepositoryType::kS3},
                                                                {"posix", RepositoryType::kPosix},
                                                                {"azure", RepositoryType::kAzure},
                                                                {"gcs", RepositoryType::kGcs}};
  static const std::map<std::string, std::string> credentials_of = {
      {"s3Credentials", "s3"}, {"azureCredentials", "azure"}, {"gcsCredentials", "gcs"}};
  std::vector<std::string> given;
  for (const auto& [field, type] : credentials_of)
    if (obj.contains(field)) given.push_back(field);
  if (given.size() > 1)
    return FieldError(absl::StrCat(path, ".", given[1]),
                      absl::StrCat("cannot be combined with ", given[0], " (one store per repository)"));
  auto type = OptString(obj, "type", path);
  if (!type.ok()) return type.status();
  if (!type->has_value()) return given.empty() ? RepositoryType::kS3 : by_name.at(credentials_of.at(given[0]));
  if (!given.empty() && credentials_of.at(given[0]) != **type)
    return FieldError(absl::StrCat(path, ".", given[0]), absl::StrCat("only applies to ", credentials_of.at(given[0]),
                                                                      " repositories (type is ", Quoted(**type), ")"));
  return by_name.at(**type);
}

absl::StatusOr<Repository> ParseRepository(const json& obj, absl::string_view path) {
  if (!obj.is_object()) return FieldError(path, "must be an object");
  Repository repo;
  auto type = ParseRepositoryType(obj, path);
  if (!type.ok()) return type.status();
  repo.type = *type;
  auto dest = OptString(obj, "destinationPath", path);
  if (!dest.ok()) return dest.status();
  if (dest->has_value()) repo.destination_path = **dest;
  if (repo.destination_path.empty() || repo.destination_path.front() != '/')
    return FieldError(absl::StrCat(path, ".destinationPath"),
                      absl::StrCat(Quoted(repo.destination_path), " must be an absolute path"));
  if (auto s = CheckConfigValue(repo.destination_path, absl::StrCat(path, ".destinationPath")); !s.ok()) return s;
  // A path inside the repository's root: no '.', '..' or empty components (one trailing '/' is fine).
  if (absl::string_view dest = absl::StripSuffix(repo.destination_path, "/"); !dest.empty())
    if (auto s = CheckCleanAbsolutePath(dest, absl::StrCat(path, ".destinationPath")); !s.ok()) return s;

  auto enc = OptString(obj, "encryption", path);
  if (!enc.ok()) return enc.status();
  if (enc->has_value() && **enc != "none" && !(*enc)->empty()) {
    repo.encryption = **enc;
  }
  auto enc_key = OptSecretRef(obj, "encryptionKey", path);
  if (!enc_key.ok()) return enc_key.status();
  repo.encryption_key = *enc_key;
  if (!repo.encryption.empty() && !repo.encryption_key)
    return FieldError(absl::StrCat(path, ".encryptionKey"), "is required when encryption is set");
  if (repo.encryption.empty() && repo.encryption_key)
    return FieldError(absl::StrCat(path, ".encryption"), "must be set (aes-256-cbc) when encryptionKey is given");

  if (obj.contains("retention")) {
    auto r = ParseRetention(obj["retention"], absl::StrCat(path, ".retention"));
    if (!r.ok()) return r.status();
    repo.retention = *r;
  }

  if (repo.type == RepositoryType::kPosix) {
    for (const char* store_only : {"bucket", "endpointURL", "endpointCA", "uriStyle"})
      if (obj.contains(store_only))
        return FieldError(absl::StrCat(path, ".", store_only),
                          "only applies to object store repositories (type: s3, azure or gcs)");
    if (repo.destination_path == "/")
      return FieldError(absl::StrCat(path, ".destinationPath"), "a posix repository needs a directory, not '/'");
    return repo;
  }
  absl::string_view store = repo.type == RepositoryType::kS3      ? "an S3 repository"
                            : repo.type == RepositoryType::kAzure ? "an azure repository (the container)"
                                                                  : "a gcs repository";
  auto bucket = OptString(obj, "bucket", path);
  if (!bucket.ok()) return bucket.status();
  if (!bucket->has_value() || (*bucket)->empty())
    return FieldError(absl::StrCat(path, ".bucket"), absl::StrCat("is required for ", store));
  repo.bucket = **bucket;
  if (auto s = CheckConfigValue(repo.bucket, absl::StrCat(path, ".bucket")); !s.ok()) return s;
  auto endpoint = OptString(obj, "endpointURL", path);
  if (!endpoint.ok()) return endpoint.status();
  if (endpoint->has_value()) {
    if (auto s = ParseEndpoint(**endpoint, repo, absl::StrCat(path, ".endpointURL")); !s.ok()) return s;
  } else if (repo.type == RepositoryType::kS3) {
    return FieldError(absl::StrCat(path, ".endpointURL"), "is required for an S3 repository");
  }
  auto verify = OptBool(obj, "disableVerifyTLS", path);
  if (!verify.ok()) return verify.status();
  repo.disable_verify_tls = *verify;
  auto ca = OptSecretRef(obj, "endpointCA", path);
  if (!ca.ok()) return ca.status();
  repo.endpoint_ca = *ca;
  auto uri = OptString(obj, "uriStyle", path);
  if (!uri.ok()) return uri.status();
  if (uri->has_value()) {
    if (repo.type == RepositoryType::kGcs)
      return FieldError(absl::StrCat(path, ".uriStyle"), "only applies to s3 and azure repositories");
    repo.uri_style = **uri;
  }

  if (repo.type == RepositoryType::kS3) {
    auto creds = ParseS3Credentials(obj, repo, path);
    if (!creds.ok()) return creds.status();
    repo.s3_credentials = std::move(*creds);
  } else if (repo.type == RepositoryType::kAzure) {
    auto creds = ParseAzureCredentials(obj, repo, path);
    if (!creds.ok()) return creds.status();
    repo.azure_credentials = std::move(*creds);
  } else {
    auto creds = ParseGcsCredentials(obj, path);
    if (!creds.ok()) return creds.status();
    repo.gcs_credentials = std::move(*creds);
  }
  return repo;
}

// obj[key] when present (its type is the schema's, checked before), else nullptr.
const json* Present(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

// log {levelStderr}: pgBackRest's stderr level (Opera 0.8); console output stays off.
void ParseLog(const json& conf, Archive& archive) {
  if (const json* log = Present(conf, "log"))
    if (const json* level = Present(*log, "levelStderr")) archive.log_level_stderr = level->get<std::string>();
}

// backupStandby (Opera PR #104, issue 12): the shape is accepted so that Opera's Archives parse;
// enabled: true is refused, because backups would silently still need the primary.
absl::Status ParseBackupStandby(const json& conf, Archive& archive) {
  const json* it = Present(conf, "backupStandby");
  if (!it) return absl::OkStatus();
  constexpr absl::string_view path = "spec.configuration.backupStandby";
  if (const json* enabled = Present(*it, "enabled"); enabled && enabled->get<bool>())
    return FieldError(absl::StrCat(path, ".enabled"),
                      "backups from a standby are not supported by this version (issue 12); remove backupStandby or "
                      "set enabled: false");
  // Defaults (true) are the schema's, filled in before.
  if (const json* v = Present(*it, "injectService")) archive.backup_standby_inject_service = v->get<bool>();
  if (const json* v = Present(*it, "injectSAN")) archive.backup_standby_inject_san = v->get<bool>();
  auto service = OptString(*it, "serviceName", path);
  if (!service.ok()) return service.status();
  if (service->has_value()) {
    if (!IsResourceName(**service) || (*service)->find('.') != std::string::npos || (*service)->size() > 63)
      return FieldError(absl::StrCat(path, ".serviceName"), absl::StrCat(Quoted(**service), " is not a Service name"));
    archive.backup_standby_service_name = **service;
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<SecretKeyRef> SecretRefs(const Repository& repo) {
  std::vector<SecretKeyRef> out;
  auto add = [&](const std::optional<SecretKeyRef>& ref) {
    if (ref) out.push_back(*ref);
  };
  if (repo.s3_credentials) {
    add(repo.s3_credentials->access_key_id);
    add(repo.s3_credentials->secret_access_key);
  }
  if (repo.azure_credentials) {
    out.push_back(repo.azure_credentials->account);
    out.push_back(repo.azure_credentials->key);
  }
  if (repo.gcs_credentials) add(repo.gcs_credentials->key);
  add(repo.encryption_key);
  add(repo.endpoint_ca);
  return out;
}

absl::StatusOr<Archive> ParseArchive(const json& object) {
  if (!object.is_object()) return absl::InvalidArgumentError("Archive: must be a JSON object");
  Archive archive;
  if (auto it = object.find("apiVersion"); it != object.end() && *it != json(std::string(kArchiveApiVersion)))
    return FieldError("apiVersion", absl::StrCat("must be ", kArchiveApiVersion));
  if (auto it = object.find("kind"); it != object.end() && *it != json(std::string(kArchiveKind)))
    return FieldError("kind", "must be Archive");
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return FieldError("metadata", "is required");
  auto name = OptString(*meta, "name", "metadata");
  if (!name.ok()) return name.status();
  if (!name->has_value() || !IsResourceName(**name))
    return FieldError("metadata.name", "is required and must be a valid resource name");
  archive.name = **name;
  auto ns = OptString(*meta, "namespace", "metadata");
  if (!ns.ok()) return ns.status();
  archive.namespace_ = ns->value_or("");
  if (!archive.namespace_.empty() && !IsResourceName(archive.namespace_))
    return FieldError("metadata.namespace", absl::StrCat(Quoted(archive.namespace_), " is not a valid namespace"));

  auto given_spec = object.find("spec");
  if (given_spec == object.end() || !given_spec->is_object()) return FieldError("spec", "is required");
  // Fields, types, allowed values and ranges: the schema's (config/archive_schema.cc). What follows
  // reads the spec with the schema's defaults filled in, as the API server stores it.
  if (auto s = CheckAgainstSchema(*given_spec, ArchiveSpecSchema(), "spec"); !s.ok()) return s;
  const json defaulted = WithDefaults(*given_spec, ArchiveSpecSchema());
  const json* spec = &defaulted;
  auto conf = spec->find("configuration");
  if (conf == spec->end() || !conf->is_object()) return FieldError("spec.configuration", "is required");
  auto repos = conf->find("repositories");
  if (repos == conf->end() || !repos->is_array() || repos->empty())
    return FieldError("spec.configuration.repositories", "needs at least one repository");
  if (repos->size() > kMaxRepositories)
    return FieldError("spec.configuration.repositories",
                      absl::StrCat("pgBackRest supports at most ", kMaxRepositories, " repositories"));
  for (std::size_t i = 0; i < repos->size(); ++i) {
    auto repo = ParseRepository((*repos)[i], absl::StrCat("spec.configuration.repositories[", i, "]"));
    if (!repo.ok()) return repo.status();
    archive.repositories.push_back(std::move(*repo));
  }
  auto compression = OptString(*conf, "compression", "spec.configuration");
  if (!compression.ok()) return compression.status();
  if (compression->has_value()) {
    archive.compression = **compression;
  }
  auto level = OptInt(*conf, "compressLevel", "spec.configuration");
  if (!level.ok()) return level.status();
  archive.compress_level = *level;
  auto queue_max = OptString(*conf, "archivePushQueueMax", "spec.configuration");
  if (!queue_max.ok()) return queue_max.status();
  if (queue_max->has_value()) {
    auto bytes = ParseQueueSize(**queue_max, "spec.configuration.archivePushQueueMax");
    if (!bytes.ok()) return bytes.status();
    archive.archive_push_queue_max = *bytes;
  }
  ParseLog(*conf, archive);
  if (auto s = ParseBackupStandby(*conf, archive); !s.ok()) return s;
  if (auto it = spec->find("instanceSidecarConfiguration"); it != spec->end() && !it->is_null()) {
    if (!it->is_object()) return FieldError("spec.instanceSidecarConfiguration", "must be an object");
    auto interval = OptInt(*it, "catalogMaintenanceIntervalSeconds", "spec.instanceSidecarConfiguration");
    if (!interval.ok()) return interval.status();
    if (*interval) archive.catalog_maintenance_interval_seconds = **interval;
    archive.instance_sidecar_configuration = *it;
  }
  archive.definition = {{"apiVersion", std::string(kArchiveApiVersion)},
                        {"kind", std::string(kArchiveKind)},
                        {"metadata", {{"name", archive.name}, {"namespace", archive.namespace_}}},
                        {"spec", *given_spec}};
  return archive;
}

absl::StatusOr<std::map<std::string, Archive>> ParseArchiveList(absl::string_view json_text) {
  auto parsed = ParseJson(json_text, "archives");
  if (!parsed.ok()) return parsed.status();
  json doc = std::move(*parsed);
  if (doc.is_object() && doc.contains("items")) doc = doc["items"];
  if (doc.is_object()) doc = json::array({doc});
  if (!doc.is_array()) return absl::InvalidArgumentError("archives: expected a JSON array of Archive objects");
  std::map<std::string, Archive> out;
  for (std::size_t i = 0; i < doc.size(); ++i) {
    auto a = ParseArchive(doc[i]);
    if (!a.ok()) return absl::InvalidArgumentError(absl::StrCat("archives[", i, "]: ", a.status().message()));
    std::string name = a->name;
    if (!out.emplace(name, std::move(*a)).second)
      return absl::InvalidArgumentError(absl::StrCat("archives: Archive '", name, "' is defined twice"));
  }
  return out;
}

}  // namespace cnpgi_pgbackrest
