// SetStatusInCluster over an Archive object whose status any instance Pod of the Cluster may have
// written (ArchiveClusterStatus::Compute): the input is that Archive's JSON, optionally followed by
// "\n----\n" and the plugin status the Cluster already shows. Never a crash or an error for a valid
// Cluster; an answer is empty or a JSON object; stored back as CNPG stores it, it is answered with
// nothing (churn-free), however odd the Archive status.
#include "common/json.h"
#include "fuzz_check.h"
#include "operator/archive_cluster_status.h"

using namespace cnpgi_pgbackrest;
using json = nlohmann::json;

namespace {

constexpr absl::string_view kSeparator = "\n----\n";

std::string Cluster(const std::string& stored) {
  json c = json::parse(R"({"kind":"Cluster","metadata":{"name":"cluster-example","namespace":"default","uid":"u"},
    "spec":{"plugins":[{"name":"pgbackrest.cnpg.opera.com","parameters":{"pgbackrestObjectName":"minio-store"}}]},
    "status":{"pluginStatus":[{"name":"pgbackrest.cnpg.opera.com"}]}})");
  c["status"]["pluginStatus"][0]["status"] = stored;
  // CNPG's JSON encoder (Go) writes invalid UTF-8 as U+FFFD, as this does.
  return c.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  absl::string_view text = FuzzText(data, size);
  std::string archive_text(text), stored;
  if (auto at = text.find(kSeparator); at != absl::string_view::npos) {
    archive_text = std::string(text.substr(0, at));
    stored = std::string(text.substr(at + kSeparator.size()));
  }
  // The client parses API answers the same way (depth limit included); what is no object is an error.
  auto archive = ParseJsonObject(archive_text, "archive");
  ArchiveClusterStatus status("pgbackrest.cnpg.opera.com",
                              [&](absl::string_view, absl::string_view) -> absl::StatusOr<json> { return archive; });
  auto answer = status.Compute(Cluster(stored));
  FUZZ_CHECK(answer.ok());
  if (answer->empty()) return 0;
  auto parsed = ParseJsonObject(*answer, "answer");
  FUZZ_CHECK(parsed.ok());
  FUZZ_CHECK(parsed->value("stanza", "") == "cluster-example");
  auto again = status.Compute(Cluster(*answer));
  FUZZ_CHECK(again.ok() && again->empty());
  return 0;
}
