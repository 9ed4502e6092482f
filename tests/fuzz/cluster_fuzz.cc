// ParseCluster on any bytes: never crashes; what it accepts parses to the same view again when
// rebuilt from the fields it read (so nothing depends on fields it claims to ignore).
#include <nlohmann/json.hpp>

#include "config/cluster.h"
#include "fuzz_check.h"

using namespace cnpgi_pgbackrest;
using json = nlohmann::json;

namespace {

bool SameUse(const std::optional<ArchiveUse>& a, const std::optional<ArchiveUse>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  return a->archive_name == b->archive_name && a->stanza == b->stanza && a->declared_at == b->declared_at &&
         a->namespace_ == b->namespace_ && a->parameters == b->parameters;
}

void CheckUse(const std::optional<ArchiveUse>& use, const ClusterView& view) {
  if (!use) return;
  FUZZ_CHECK(!use->archive_name.empty());
  FUZZ_CHECK(!use->stanza.empty());
  FUZZ_CHECK(use->namespace_ == view.namespace_);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto view = ParseCluster(FuzzText(data, size));
  if (!view.ok()) {
    FUZZ_CHECK(!view.status().message().empty());
    return 0;
  }
  FUZZ_CHECK(!view->name.empty());
  CheckUse(view->archive, *view);
  CheckUse(view->recovery_source, *view);
  CheckUse(view->replica_source, *view);

  json rebuilt = {
      {"kind", "Cluster"},
      {"metadata", {{"name", view->name}, {"namespace", view->namespace_}, {"annotations", view->annotations}}},
      {"spec", view->spec},
      {"status", view->status}};
  auto again = ParseCluster(rebuilt.dump());
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->name == view->name && again->namespace_ == view->namespace_);
  FUZZ_CHECK(again->annotations == view->annotations);
  FUZZ_CHECK(SameUse(again->archive, view->archive));
  FUZZ_CHECK(SameUse(again->recovery_source, view->recovery_source));
  FUZZ_CHECK(SameUse(again->replica_source, view->replica_source));
  FUZZ_CHECK(again->archive_problem == view->archive_problem && again->plugin_disabled == view->plugin_disabled);
  FUZZ_CHECK(again->is_replica == view->is_replica && again->replica_source_streams == view->replica_source_streams);
  FUZZ_CHECK(again->promotion_in_progress == view->promotion_in_progress);
  FUZZ_CHECK(again->current_primary == view->current_primary && again->target_primary == view->target_primary);
  FUZZ_CHECK(again->has_wal_storage == view->has_wal_storage);
  return 0;
}
