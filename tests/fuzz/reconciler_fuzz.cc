// ReconcilerHooks Pre as CNPG calls it: the input is the reconciled resource's JSON, optionally
// followed by "\n----\n" and the Cluster's JSON (else the resource is the Cluster too). Never a
// crash; an answer is CONTINUE or a REQUEUE with its delay, an error only for a resource that is
// no JSON object or a Cluster that does not parse.
#include "common/json.h"
#include "config/archive.h"
#include "config/archive_catalog.h"
#include "config/cluster.h"
#include "fuzz_check.h"
#include "reconciler/archive_reconciler.h"

using namespace cnpgi_pgbackrest;

namespace {

constexpr absl::string_view kSeparator = "\n----\n";

const StaticArchiveCatalog& Catalog() {
  static const StaticArchiveCatalog* catalog = [] {
    auto archives = ParseArchiveList(R"([{"metadata":{"name":"local","namespace":"default"},"spec":{"configuration":{
      "repositories":[{"type":"posix","destinationPath":"/backup"}]}}}])");
    FUZZ_CHECK(archives.ok());
    return new StaticArchiveCatalog(*archives);
  }();
  return *catalog;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  absl::string_view text = FuzzText(data, size);
  std::string resource(text), cluster(text);
  if (auto at = text.find(kSeparator); at != absl::string_view::npos) {
    resource = std::string(text.substr(0, at));
    cluster = std::string(text.substr(at + kSeparator.size()));
  }
  ArchiveReconciler hooks(std::string(kDefaultPluginName), &Catalog(), std::chrono::seconds(30));
  auto pre = hooks.Pre({cluster, resource});
  if (!pre.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(pre.status()));
    FUZZ_CHECK(!ParseJsonObject(resource, "resource").ok() || !ParseCluster(cluster).ok());
    return 0;
  }
  FUZZ_CHECK(pre->behavior == ReconcilerBehavior::kContinue || pre->behavior == ReconcilerBehavior::kRequeue);
  if (pre->behavior == ReconcilerBehavior::kRequeue) FUZZ_CHECK(pre->requeue_after == std::chrono::seconds(30));
  FUZZ_CHECK(hooks.Post({cluster, resource}).ok());
  return 0;
}
