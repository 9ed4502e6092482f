// The lifecycle patch of a Pod or Job CNPG is about to create. The input is the object's JSON,
// optionally followed by "\n----\n" and a Cluster's JSON (else a Cluster using the Archive
// "store"). Invariants: never a crash; a patch is a JSON Patch that applies to the object; the
// patched object needs no further patch (EVALUATE then CREATE changes nothing more).
#include <nlohmann/json.hpp>

#include "config/archive.h"
#include "fuzz_check.h"
#include "lifecycle/sidecar_injection.h"

using namespace cnpgi_pgbackrest;
using json = nlohmann::json;

namespace {

constexpr absl::string_view kSeparator = "\n----\n";

constexpr const char* kCluster = R"({"kind":"Cluster","metadata":{"name":"cluster-example","namespace":"default"},
  "spec":{"imagePullPolicy":"IfNotPresent","plugins":[{"name":"pgbackrest.cnpg.opera.com",
    "parameters":{"pgbackrestObjectName":"store"}}],"bootstrap":{"recovery":{"source":"origin"}},
  "externalClusters":[{"name":"origin","plugin":{"name":"pgbackrest.cnpg.opera.com",
    "parameters":{"pgbackrestObjectName":"local","stanza":"origin"}}}]}})";

const StaticArchiveCatalog& Catalog() {
  static const StaticArchiveCatalog* catalog = [] {
    auto archives = ParseArchiveList(R"([
      {"apiVersion":"pgbackrest.cnpg.opera.com/v1","kind":"Archive","metadata":{"name":"store","namespace":"default"},
       "spec":{"configuration":{"repositories":[{"bucket":"backups","endpointURL":"s3.example.com",
         "endpointCA":{"name":"ca","key":"ca.crt"},"encryption":"aes-256-cbc","encryptionKey":{"name":"s3","key":"KEY"},
         "s3Credentials":{"region":"eu","accessKeyId":{"name":"s3","key":"ID"},"secretAccessKey":{"name":"s3","key":"SECRET"}}}]},
        "instanceSidecarConfiguration":{"resources":{"limits":{"memory":"1Gi"}},"env":[{"name":"TZ","value":"UTC"}]}}},
      {"metadata":{"name":"local"},"spec":{"configuration":{"repositories":[{"type":"posix","destinationPath":"/backup"}]}}}])");
    FUZZ_CHECK(archives.ok());
    return new StaticArchiveCatalog(*archives);
  }();
  return *catalog;
}

// The object after the patch; the patch must be an array of operations that applies.
json Apply(const json& object, const std::string& patch) {
  if (patch.empty()) return object;
  json ops = json::parse(patch, nullptr, false);
  FUZZ_CHECK(ops.is_array() && !ops.empty());
  for (const auto& op : ops) FUZZ_CHECK(op.is_object() && op.contains("op") && op.contains("path"));
  try {
    return object.patch(ops);
  } catch (const json::exception& e) {
    std::fprintf(stderr, "the patch does not apply: %s\n%s\n", e.what(), patch.c_str());
    FUZZ_CHECK(false);
  }
  return object;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  absl::string_view text = FuzzText(data, size);
  std::string object(text), cluster = kCluster;
  if (auto at = text.find(kSeparator); at != absl::string_view::npos) {
    object = std::string(text.substr(0, at));
    cluster = std::string(text.substr(at + kSeparator.size()));
  }
  SidecarInjectionOptions options;
  options.image = "sidecar:test";
  SidecarInjection hook(options, &Catalog());
  for (auto op : {LifecycleOperation::kEvaluate, LifecycleOperation::kCreate}) {
    auto patch = hook.Mutate({op, cluster, object});
    if (!patch.ok()) {
      FUZZ_CHECK(!patch.status().message().empty());
      continue;
    }
    json original = json::parse(object, nullptr, false);
    if (patch->empty()) continue;
    FUZZ_CHECK(original.is_object());
    json patched = Apply(original, *patch);
    auto again = hook.Mutate({LifecycleOperation::kCreate, cluster, patched.dump()});
    FUZZ_CHECK(again.ok());
    if (!again->empty()) std::fprintf(stderr, "second patch: %s\n", again->c_str());
    FUZZ_CHECK(Apply(patched, *again) == patched);
  }
  return 0;
}
