#include "config/archive_schema.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "common/text.h"
#include "config/archive.h"

namespace cnpgi_pgbackrest {
namespace {

using Json = nlohmann::ordered_json;
using Type = SchemaField::Type;

SchemaField Field(Type type, std::string description) {
  SchemaField f;
  f.type = type;
  f.description = std::move(description);
  return f;
}
SchemaField String(std::string description) { return Field(Type::kString, std::move(description)); }
SchemaField Boolean(std::string description) { return Field(Type::kBoolean, std::move(description)); }
SchemaField Integer(std::string description, std::int64_t minimum, std::int64_t maximum) {
  SchemaField f = Field(Type::kInteger, std::move(description));
  f.minimum = minimum;
  f.maximum = maximum;
  return f;
}
SchemaField Object(std::string description, std::vector<std::pair<std::string, SchemaField>> properties) {
  SchemaField f = Field(Type::kObject, std::move(description));
  for (auto& [name, child] : properties) {
    f.names.push_back(name);
    f.children.push_back(std::move(child));
  }
  return f;
}
SchemaField Array(std::string description, SchemaField item) {
  SchemaField f = Field(Type::kArray, std::move(description));
  f.children.push_back(std::move(item));
  return f;
}
// An object whose keys are free (a Kubernetes map), each value of the given schema.
SchemaField Map(std::string description, SchemaField value) {
  SchemaField f = Field(Type::kMap, std::move(description));
  f.children.push_back(std::move(value));
  return f;
}
// A Kubernetes type (core/v1 ...) whose schema the CRD spells out and the parser does not check.
SchemaField Literal(std::string description, std::string type, std::string kubernetes_type) {
  SchemaField f = Field(Type::kLiteral, std::move(description));
  f.literal_type = std::move(type);
  f.literal = std::move(kubernetes_type);
  return f;
}
// A key of a Secret in the Cluster's namespace, {name, key} (config/archive.cc resolves it).
SchemaField SecretKey(std::string description) {
  return Object(std::move(description), {{"name", String("Name of the Secret.")
                                                      .Crd("minLength", 1)
                                                      .Crd("maxLength", 253)
                                                      .Crd("pattern", "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")},
                                         {"key", String("Key inside the Secret.")
                                                     .Crd("minLength", 1)
                                                     .Crd("maxLength", 253)
                                                     .Crd("pattern", "^[-._a-zA-Z0-9]+$")}})
      .Required({"name", "key"});
}

SchemaField BuildSpec() {
  return Object(
             "Desired configuration of the archive.",
             {{"configuration",
               Object(
                   "pgBackRest configuration shared by every stanza (Cluster) stored in this archive.",
                   {{"repositories",
                     Array(
                         "pgBackRest repositories, repo1 to repo4 in list order. WAL is pushed to all of them; backups "
                         "go to the first unless the Backup selects another.",
                         Object(
                             "One pgBackRest repository (repo1..repo4, in list order).",
                             {{"type", String("Storage type of the repository: s3 (an S3-compatible object store over "
                                              "HTTPS), azure (Azure Blob storage), gcs (Google Cloud Storage) or posix "
                                              "(a directory mounted in the instance Pods). Unset: azure with "
                                              "azureCredentials, gcs with gcsCredentials, else s3.")
                                           .Enum({"s3", "posix", "azure", "gcs"})},
                              {"destinationPath",
                               String("repoN-path: absolute path of the repository inside the bucket (s3) or on the "
                                      "file system (posix, where \"/\" is not allowed).")
                                   .Default(Json("/"))
                                   .Crd("pattern", Json("^/"))
                                   .Crd("minLength", Json(1))
                                   .Crd("maxLength", Json(1024))
                                   .Rule("!self.contains('/../') && !self.endsWith('/..')",
                                         "destinationPath must not contain '..'")},
                              {"bucket",
                               String("Bucket (s3, gcs) or container (azure) name; required for object stores.")
                                   .Crd("minLength", Json(1))
                                   .Crd("maxLength", Json(255))},
                              {"endpointURL",
                               String("Object store endpoint as host, host:port or https://host[:port] (required for "
                                      "s3; azure and gcs default to pgBackRest's blob.core.windows.net and "
                                      "storage.googleapis.com). pgBackRest speaks HTTPS only: http:// is rejected. "
                                      "Port defaults to 443.")
                                   .Crd("pattern", Json("^([hH][tT][tT][pP][sS]://)?(\\[[0-9a-fA-F:.]+\\]|[^/"
                                                        ":\\[\\]\\s]+)(:[0-9]{1,5})?/*$"))
                                   .Crd("minLength", Json(1))
                                   .Crd("maxLength", Json(2048))},
                              {"endpointCA",
                               SecretKey("PEM bundle of the certificate authority that signed the object store "
                                         "endpoint's certificate (repoN-storage-ca-file; s3, azure, gcs). A key of a "
                                         "Secret in the namespace of the Cluster.")},
                              {"disableVerifyTLS",
                               Boolean("Skip verification of the object store endpoint's TLS certificate "
                                       "(repoN-storage-verify-tls=n). For tests only.")},
                              {"uriStyle",
                               String("repoN-s3-uri-style or repoN-azure-uri-style: host (virtual-hosted, "
                                      "bucket.endpoint or account.endpoint) or path (endpoint/bucket or "
                                      "endpoint/account); unset means pgBackRest's default, host. s3 and azure only.")
                                   .Enum({"host", "path"})},
                              {"encryption", String("Client-side encryption of backups and WAL (repoN-cipher-type). "
                                                    "aes-256-cbc needs encryptionKey.")
                                                 .Enum({"aes-256-cbc", "none"})},
                              {"encryptionKey", SecretKey("Passphrase of aes-256-cbc (repoN-cipher-pass); required "
                                                          "with encryption aes-256-cbc and allowed only then. A key of "
                                                          "a Secret in the namespace of the Cluster.")},
                              {"s3Credentials",
                               Object(
                                   "Credentials and region for the S3 endpoint (s3 only; required there).",
                                   {{"region",
                                     String(
                                         "repoN-s3-region. Any non-empty value for stores that ignore it (e.g. MinIO).")
                                         .Crd("minLength", Json(1))
                                         .Crd("maxLength", Json(256))},
                                    {"keyType", String("repoN-s3-key-type: shared (access key pair from "
                                                       "accessKeyId/secretAccessKey), auto (instance metadata "
                                                       "credentials) or web-id (IRSA web identity token).")
                                                    .Enum({"shared", "auto", "web-id"})
                                                    .Default(Json("shared"))},
                                    {"accessKeyId", SecretKey("S3 access key ID (required with keyType shared). A key "
                                                              "of a Secret in the namespace of the Cluster.")},
                                    {"secretAccessKey",
                                     SecretKey("S3 secret access key (required with keyType shared). A key of a Secret "
                                               "in the namespace of the Cluster.")},
                                    {"uriStyle", String("repoN-s3-uri-style: host (virtual-hosted, bucket.endpoint) or "
                                                        "path (endpoint/bucket); unset means pgBackRest's default, "
                                                        "host. Used only when the repository's own uriStyle is unset.")
                                                     .Enum({"host", "path"})}})
                                   .Required({"region"})
                                   .Rule("(has(self.keyType) && self.keyType != 'shared') || (has(self.accessKeyId) && "
                                         "has(self.secretAccessKey))",
                                         "keyType shared needs accessKeyId and secretAccessKey")},
                              {"azureCredentials",
                               Object("Account and key of Azure Blob storage (azure only; required there). The "
                                      "repository's bucket is the container.",
                                      {{"keyType", String("repoN-azure-key-type: shared (the account key) or sas (a "
                                                          "shared access signature token).")
                                                       .Enum({"shared", "sas"})
                                                       .Default(Json("shared"))},
                                       {"account", SecretKey("Storage account name (PGBACKREST_REPOn_AZURE_ACCOUNT). A "
                                                             "key of a Secret in the namespace of the Cluster.")},
                                       {"key", SecretKey("Account key (keyType shared) or SAS token (keyType sas), "
                                                         "PGBACKREST_REPOn_AZURE_KEY. A key of a Secret in the "
                                                         "namespace of the Cluster.")},
                                       {"uriStyle",
                                        String("repoN-azure-uri-style: host (account.endpoint) or path "
                                               "(endpoint/account, as Azurite needs); unset means pgBackRest's "
                                               "default, host. Used only when the repository's own uriStyle is unset.")
                                            .Enum({"host", "path"})}})
                                   .Required({"account", "key"})},
                              {"gcsCredentials",
                               Object("Credentials of Google Cloud Storage (gcs only; required there).",
                                      {{"keyType",
                                        String("repoN-gcs-key-type: service (a service account JSON key), token (an "
                                               "access token) or auto (the instance's service account, no key).")
                                            .Enum({"service", "token", "auto"})
                                            .Default(Json("service"))},
                                       {"key", SecretKey("The service account's JSON key (keyType service, written to "
                                                         "a file of mode 0600 for repoN-gcs-key) or the token (keyType "
                                                         "token, PGBACKREST_REPOn_GCS_KEY). A key of a Secret in the "
                                                         "namespace of the Cluster.")}})
                                   .Rule("(has(self.keyType) && self.keyType == 'auto') != has(self.key)",
                                         "keyType service and token need key; keyType auto takes none")},
                              {"retention",
                               Object(
                                   "Retention of backups and WAL in this repository (pgBackRest repoN-retention-* "
                                   "options). Unset fields keep pgBackRest's defaults.",
                                   {{"full", Integer("repoN-retention-full: number of full backups to keep (fullType "
                                                     "count) or days to keep them (fullType time).",
                                                     1, 9999999)},
                                    {"fullType",
                                     String("repoN-retention-full-type: whether full counts backups or days.")
                                         .Enum({"count", "time"})},
                                    {"diff", Integer("repoN-retention-diff: number of differential backups to keep.", 1,
                                                     9999999)},
                                    {"archive",
                                     Integer(
                                         "repoN-retention-archive: number of backups of archiveType whose WAL is kept.",
                                         1, 9999999)},
                                    {"archiveType",
                                     String("repoN-retention-archive-type: the backup type that archive counts.")
                                         .Enum({"full", "diff", "incr"})},
                                    {"history", Integer("repoN-retention-history: days of backup history manifests to "
                                                        "keep (0 keeps none).",
                                                        0, 9999999)}})}})
                             .Rule("!((has(self.type) && self.type == 's3') || (!has(self.type) && "
                                   "!has(self.azureCredentials) && !has(self.gcsCredentials))) || (has(self.bucket) && "
                                   "has(self.endpointURL) && has(self.s3Credentials))",
                                   "an s3 repository needs bucket, endpointURL and s3Credentials")
                             .Rule("!((has(self.type) && self.type == 'azure') || (!has(self.type) && "
                                   "has(self.azureCredentials))) || (has(self.bucket) && has(self.azureCredentials))",
                                   "an azure repository needs bucket (the container) and azureCredentials")
                             .Rule("!((has(self.type) && self.type == 'gcs') || (!has(self.type) && "
                                   "has(self.gcsCredentials))) || (has(self.bucket) && has(self.gcsCredentials))",
                                   "a gcs repository needs bucket and gcsCredentials")
                             .Rule("(has(self.s3Credentials) ? 1 : 0) + (has(self.azureCredentials) ? 1 : 0) + "
                                   "(has(self.gcsCredentials) ? 1 : 0) <= 1",
                                   "s3Credentials, azureCredentials and gcsCredentials exclude each other")
                             .Rule("!has(self.type) || ((!has(self.s3Credentials) || self.type == 's3') && "
                                   "(!has(self.azureCredentials) || self.type == 'azure') && "
                                   "(!has(self.gcsCredentials) || self.type == 'gcs'))",
                                   "the credentials must be those of the repository's type")
                             .Rule(
                                 "!(has(self.type) && self.type == 'posix') || (!has(self.bucket) && "
                                 "!has(self.endpointURL) && !has(self.endpointCA) && !has(self.uriStyle))",
                                 "bucket, endpointURL, endpointCA and uriStyle only apply to object store repositories")
                             .Rule("!has(self.gcsCredentials) || !has(self.uriStyle)",
                                   "uriStyle only applies to s3 and azure repositories")
                             .Rule("!(has(self.type) && self.type == 'posix') || (has(self.destinationPath) && "
                                   "self.destinationPath != '/')",
                                   "a posix repository needs a directory as destinationPath, not '/'")
                             .Rule("!(has(self.encryption) && self.encryption == 'aes-256-cbc') || "
                                   "has(self.encryptionKey)",
                                   "encryptionKey is required when encryption is aes-256-cbc")
                             .Rule("!has(self.encryptionKey) || (has(self.encryption) && self.encryption == "
                                   "'aes-256-cbc')",
                                   "encryptionKey needs encryption: aes-256-cbc"))
                         .Crd("minItems", Json(1))
                         .Crd("maxItems", Json(kMaxRepositories))
                         .Crd("x-kubernetes-list-type", Json("atomic"))},
                    {"compression", String("compress-type for backups and WAL. Unset: pgBackRest's default (gz).")
                                        .Enum({"none", "bz2", "gz", "lz4", "zst"})},
                    {"compressLevel",
                     Integer("compress-level (the range that is meaningful depends on compression).", 0, 22)},
                    {"archivePushQueueMax",
                     String("archive-push-queue-max, at least 16Mi. Unset (the default): WAL is never dropped. Set: "
                            "once the WAL waiting to be archived exceeds this size, pgBackRest drops segments instead "
                            "of storing them, so pg_wal cannot fill the disk; recovery cannot pass a dropped segment. "
                            "Every drop is logged by the sidecar and counted in the wal_dropped_total metric.")
                         .Crd("pattern", Json("^[0-9]{1,9}(Mi|Gi|Ti)$"))},
                    {"log", Object("Logging of the pgBackRest commands the plugin runs (Opera 0.8). Console output "
                                   "always stays off, so that `info --output=json` parses.",
                                   {{"levelStderr",
                                     String("log-level-stderr. info, detail, debug and trace also put every stderr "
                                            "line of pgBackRest in the sidecar log; off and error keep pgBackRest at "
                                            "warn (the plugin reads its warnings) and log none of its lines.")
                                         .Enum({"off", "error", "warn", "info", "detail", "debug", "trace"})
                                         .Default(Json("warn"))}})},
                    {"backupStandby",
                     Object("Backups from a standby (Opera PR #104, issue 12). Accepted so that Opera's Archives "
                            "apply; not acted on by this version, and enabled true is refused.",
                            {{"enabled", Boolean("Backups from a standby. Not supported yet; true is refused.")},
                             {"injectService", Boolean("Whether the plugin would create the headless Service of the "
                                                       "pgBackRest TLS server. Not acted on yet.")
                                                   .Default(Json(true))},
                             {"injectSAN", Boolean("Whether the plugin would add that Service's DNS name to the "
                                                   "Cluster's server certificate. Not acted on yet.")
                                               .Default(Json(true))},
                             {"serviceName", String("The Service resolving to the primary's pgBackRest TLS server; "
                                                    "unset: <cluster>-pgbackrest. Not acted on yet.")
                                                 .Crd("pattern", Json("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"))
                                                 .Crd("minLength", Json(1))
                                                 .Crd("maxLength", Json(63))}})
                         .Rule("!has(self.enabled) || !self.enabled",
                               "backups from a standby are not supported by this version (issue 12)")},
                    {"stanza",
                     String("Opera's stanza for every Cluster using this Archive. Accepted and ignored: the stanza is "
                            "the Cluster's stanza plugin parameter (default: the Cluster's name).")},
                    {"createStanza",
                     String("Opera's stanza creation policy. Accepted and ignored: the plugin creates a missing stanza "
                            "on the first archive (OnFirstArchive) and refuses a non-empty one for a new Cluster.")
                         .Enum({"OnFirstArchive", "OnBackup", "Disabled"})
                         .Default(Json("OnFirstArchive"))},
                    {"wal",
                     Object("Opera's WAL settings. Accepted and ignored: WAL goes through pgBackRest's own async "
                            "archive-push (see the sidecar's FLAGS_wal_push_processes).",
                            {{"maxParallel",
                              Integer("Opera: WAL files archived or restored in parallel. Ignored.", 1, 2147483647)},
                             {"archiveAdditionalCommandArgs", Array("Opera: extra arguments of archive-push. Ignored: "
                                                                    "options come from the Archive's fields only.",
                                                                    String("One argument."))},
                             {"restoreAdditionalCommandArgs",
                              Array("Opera: extra arguments of archive-get. Ignored.", String("One argument."))}})},
                    {"data",
                     Object("Opera's backup settings. Accepted and ignored: a Backup's pluginConfiguration parameters "
                            "set pgBackRest's backup options.",
                            {{"jobs", Integer("Opera: backup process-max. Ignored.", 1, 2147483647)},
                             {"immediateCheckpoint", Boolean("Opera: --start-fast. Ignored.")},
                             {"tags", Map("Opera: backup annotations. Ignored.", String("One annotation's value."))},
                             {"additionalCommandArgs",
                              Array("Opera: extra arguments of backup. Ignored.", String("One argument."))}})},
                    {"restore", Object("Opera's restore settings. Accepted and ignored.",
                                       {{"jobs", Integer("Opera: restore process-max. Ignored.", 1, 2147483647)},
                                        {"additionalCommandArgs", Array("Opera: extra arguments of restore. Ignored.",
                                                                        String("One argument."))}})}})
                   .Required({"repositories"})},
              {"instanceSidecarConfiguration",
               Object(
                   "Settings of the pgBackRest sidecar injected into the instance Pods of Clusters that use this "
                   "Archive.",
                   {{"catalogMaintenanceIntervalSeconds",
                     Integer("Seconds between two syncs of the Cluster's Backup objects with the pgBackRest catalog "
                             "(issue 13); 0 turns it off. Accepted, not acted on by this version.",
                             0, 2147483647)
                         .Default(Json(1800))},
                    {"env", Literal("Extra environment variables of the pgBackRest sidecar container (core/v1 EnvVar).",
                                    "array", "core/v1 EnvVar list")},
                    {"resources",
                     Literal("Compute resources of the pgBackRest sidecar container (core/v1 ResourceRequirements).",
                             "object", "core/v1 ResourceRequirements")},
                    {"securityContext",
                     Literal("Security context of the pgBackRest sidecar container (core/v1 SecurityContext). Unset: a "
                             "restricted default (non-root, no privilege escalation, all capabilities dropped, "
                             "read-only root file system, seccomp RuntimeDefault).",
                             "object", "core/v1 SecurityContext")}})}})
      .Required({"configuration"});
}

const char* TypeName(const SchemaField& f) {
  switch (f.type) {
    case Type::kObject:
    case Type::kMap:
      return "object";
    case Type::kArray:
      return "array";
    case Type::kString:
      return "string";
    case Type::kInteger:
      return "integer";
    case Type::kBoolean:
      return "boolean";
    case Type::kLiteral:
      return f.literal_type.c_str();
  }
  return "";
}

absl::Status Problem(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

}  // namespace

const SchemaField* SchemaField::Property(const std::string& name) const {
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return &children[i];
  return nullptr;
}

const SchemaField& ArchiveSpecSchema() {
  static const SchemaField* const spec = new SchemaField(BuildSpec());
  return *spec;
}

absl::Status CheckAgainstSchema(const nlohmann::json& value, const SchemaField& field, const std::string& path) {
  if (value.is_null()) return absl::OkStatus();  // as if absent
  switch (field.type) {
    case Type::kLiteral:
      return absl::OkStatus();
    case Type::kObject:
      if (!value.is_object()) return Problem(path, "must be an object");
      for (auto& [k, v] : value.items()) {
        const SchemaField* child = field.Property(k);
        if (!child) return Problem(absl::StrCat(path, ".", k), "is not a known field");
        if (auto s = CheckAgainstSchema(v, *child, absl::StrCat(path, ".", k)); !s.ok()) return s;
      }
      return absl::OkStatus();
    case Type::kMap:
      if (!value.is_object()) return Problem(path, "must be an object");
      for (auto& [k, v] : value.items())
        if (auto s = CheckAgainstSchema(v, field.children[0], absl::StrCat(path, ".", k)); !s.ok()) return s;
      return absl::OkStatus();
    case Type::kArray:
      if (!value.is_array()) return Problem(path, "must be a list");
      for (std::size_t i = 0; i < value.size(); ++i)
        if (auto s = CheckAgainstSchema(value[i], field.children[0], absl::StrCat(path, "[", i, "]")); !s.ok())
          return s;
      return absl::OkStatus();
    case Type::kString: {
      if (!value.is_string()) return Problem(path, "must be a string");
      const std::string& v = value.get_ref<const std::string&>();
      if (!field.values.empty() && std::find(field.values.begin(), field.values.end(), v) == field.values.end())
        return Problem(path, absl::StrCat(Quoted(v), " is not one of: ", absl::StrJoin(field.values, ", ")));
      return absl::OkStatus();
    }
    case Type::kInteger: {
      if (!value.is_number_integer()) return Problem(path, "must be an integer");
      // Compared as signed: a huge unsigned value reads as negative and fails like one.
      auto v = value.get<std::int64_t>();
      if ((field.minimum && v < *field.minimum) || (field.maximum && v > *field.maximum))
        return Problem(path, absl::StrCat("must be between ", field.minimum.value_or(INT64_MIN), " and ",
                                          field.maximum.value_or(INT64_MAX)));
      return absl::OkStatus();
    }
    case Type::kBoolean:
      if (!value.is_boolean()) return Problem(path, "must be true or false");
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

nlohmann::json WithDefaults(nlohmann::json value, const SchemaField& field) {
  if (field.type == Type::kObject && value.is_object()) {
    for (std::size_t i = 0; i < field.names.size(); ++i) {
      const SchemaField& child = field.children[i];
      auto it = value.find(field.names[i]);
      if (it == value.end() || it->is_null()) {
        if (!child.default_value.is_null()) value[field.names[i]] = nlohmann::json::parse(child.default_value.dump());
      } else {
        *it = WithDefaults(std::move(*it), child);
      }
    }
  } else if (field.type == Type::kArray && value.is_array()) {
    for (auto& item : value) item = WithDefaults(std::move(item), field.children[0]);
  } else if (field.type == Type::kMap && value.is_object()) {
    for (auto& [k, v] : value.items()) v = WithDefaults(std::move(v), field.children[0]);
  }
  return value;
}

nlohmann::ordered_json CrdSchema(const SchemaField& field) {
  if (field.type == Type::kLiteral) return {{"x-cnpgi-literal", field.literal}};
  Json out = Json::object();
  if (!field.description.empty()) out["description"] = field.description;
  out["type"] = TypeName(field);
  if (!field.required.empty()) out["required"] = field.required;
  if (!field.values.empty()) out["enum"] = field.values;
  if (!field.default_value.is_null()) out["default"] = field.default_value;
  if (field.minimum) out["minimum"] = *field.minimum;
  if (field.maximum) out["maximum"] = *field.maximum;
  for (auto& [k, v] : field.crd.items()) out[k] = v;
  if (field.type == Type::kObject) {
    Json props = Json::object();
    for (std::size_t i = 0; i < field.names.size(); ++i) props[field.names[i]] = CrdSchema(field.children[i]);
    out["properties"] = std::move(props);
  } else if (field.type == Type::kArray) {
    out["items"] = CrdSchema(field.children[0]);
  } else if (field.type == Type::kMap) {
    out["additionalProperties"] = CrdSchema(field.children[0]);
  }
  if (!field.rules.empty()) {
    Json rules = Json::array();
    for (const auto& [rule, message] : field.rules) rules.push_back({{"rule", rule}, {"message", message}});
    out["x-kubernetes-validations"] = std::move(rules);
  }
  return out;
}

}  // namespace cnpgi_pgbackrest
