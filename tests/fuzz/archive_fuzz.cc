// ParseArchiveList on any bytes (the sidecar's CNPGI_PGBACKREST_ARCHIVES, the operator's list):
// never crashes; every Archive accepted parses again from its own `definition`, which is what
// the operator hands the sidecar, to the same Archive, and renders a pgbackrest.conf whose
// every line is a comment, a section or one option set once (no value can add an option).
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"

#include "config/archive.h"
#include "fuzz_check.h"
#include "pgbackrest/config_file.h"

using namespace cnpgi_pgbackrest;
using json = nlohmann::json;

namespace {

bool SameRepository(const Repository& a, const Repository& b) {
  auto creds = [](const std::optional<S3Credentials>& c) {
    return c ? std::tuple(true, c->region, c->key_type, c->access_key_id, c->secret_access_key)
             : std::tuple(false, std::string(), std::string(), std::optional<SecretKeyRef>(),
                          std::optional<SecretKeyRef>());
  };
  auto retention = [](const Retention& r) {
    return std::tuple(r.full, r.full_type, r.diff, r.archive, r.archive_type, r.history);
  };
  auto azure = [](const std::optional<AzureCredentials>& c) {
    return c ? std::tuple(true, c->key_type, c->account, c->key)
             : std::tuple(false, std::string(), SecretKeyRef(), SecretKeyRef());
  };
  auto gcs = [](const std::optional<GcsCredentials>& c) {
    return c ? std::tuple(true, c->key_type, c->key) : std::tuple(false, std::string(), std::optional<SecretKeyRef>());
  };
  return a.type == b.type && a.destination_path == b.destination_path && a.bucket == b.bucket &&
         azure(a.azure_credentials) == azure(b.azure_credentials) && gcs(a.gcs_credentials) == gcs(b.gcs_credentials) &&
         a.endpoint_host == b.endpoint_host && a.endpoint_port == b.endpoint_port && a.uri_style == b.uri_style &&
         a.disable_verify_tls == b.disable_verify_tls && a.endpoint_ca == b.endpoint_ca &&
         creds(a.s3_credentials) == creds(b.s3_credentials) && a.encryption == b.encryption &&
         a.encryption_key == b.encryption_key && retention(a.retention) == retention(b.retention);
}

void CheckConfig(const Archive& archive) {
  InstanceLocation instance;
  instance.pgdata = "/pgdata";
  instance.wal_push_processes = 2;
  std::string text = RenderConfigText(archive, instance, "/work/archive");
  std::set<std::string> keys;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty() || line.front() == '#') continue;
    if (line.front() == '[') {
      FUZZ_CHECK(line.back() == ']');
      keys.clear();
      continue;
    }
    auto eq = line.find('=');
    FUZZ_CHECK(eq != absl::string_view::npos && eq > 0);
    for (char c : line.substr(0, eq)) FUZZ_CHECK(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-');
    FUZZ_CHECK(keys.insert(std::string(line.substr(0, eq))).second);
  }
}

void CheckReparses(const Archive& archive) {
  CheckConfig(archive);
  FUZZ_CHECK(!archive.name.empty());
  FUZZ_CHECK(!archive.repositories.empty() && archive.repositories.size() <= 4);
  auto again = ParseArchive(archive.definition);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->name == archive.name && again->namespace_ == archive.namespace_);
  FUZZ_CHECK(again->definition == archive.definition);
  FUZZ_CHECK(again->compression == archive.compression && again->compress_level == archive.compress_level);
  FUZZ_CHECK(again->archive_push_queue_max == archive.archive_push_queue_max);
  FUZZ_CHECK(again->instance_sidecar_configuration == archive.instance_sidecar_configuration);
  FUZZ_CHECK(again->repositories.size() == archive.repositories.size());
  for (std::size_t i = 0; i < archive.repositories.size(); ++i)
    FUZZ_CHECK(SameRepository(again->repositories[i], archive.repositories[i]));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  absl::string_view text = FuzzText(data, size);
  auto archives = ParseArchiveList(text);
  if (!archives.ok()) {
    FUZZ_CHECK(!archives.status().message().empty());
  } else {
    for (const auto& [name, archive] : *archives) {
      FUZZ_CHECK(name == archive.name);
      CheckReparses(archive);
    }
  }
  // One object as the operator reads it from the API server.
  json object = json::parse(text, nullptr, false);
  if (auto archive = ParseArchive(object); archive.ok()) CheckReparses(*archive);
  return 0;
}
