#include "reconciler/archive_reconciler.h"

#include <doctest/doctest.h>

using namespace cnpgi_pgbackrest;

namespace {

StaticArchiveCatalog Catalog() {
  auto archives = ParseArchiveList(R"([{"metadata":{"name":"local"},"spec":{"configuration":{
    "repositories":[{"type":"posix","destinationPath":"/backup"}]}}}])");
  REQUIRE(archives.ok());
  return StaticArchiveCatalog(*archives);
}

std::string ClusterUsing(const std::string& archive) {
  return R"({"kind":"Cluster","metadata":{"name":"c","namespace":"default"},"spec":{"plugins":[
    {"name":"pgbackrest.cnpg.opera.com","parameters":{"pgbackrestObjectName":")" +
         archive + R"("}}]}})";
}

}  // namespace

TEST_CASE("Reconciler Pre: a Cluster waits for a missing Archive; Backups pass; odd resources never throw") {
  auto catalog = Catalog();
  ArchiveReconciler hooks("pgbackrest.cnpg.opera.com", &catalog, std::chrono::seconds(7));
  auto ok = hooks.Pre({ClusterUsing("local"), ClusterUsing("local")});
  REQUIRE(ok.ok());
  CHECK(ok->behavior == ReconcilerBehavior::kContinue);
  auto waits = hooks.Pre({ClusterUsing("missing"), ClusterUsing("missing")});
  REQUIRE(waits.ok());
  CHECK(waits->behavior == ReconcilerBehavior::kRequeue);
  CHECK(waits->requeue_after == std::chrono::seconds(7));
  auto backup = hooks.Pre({ClusterUsing("missing"), R"({"kind":"Backup","metadata":{"name":"b"}})"});
  REQUIRE(backup.ok());
  CHECK(backup->behavior == ReconcilerBehavior::kContinue);
  // A kind of another type is no Backup, never thrown on; a resource that is no JSON object is refused.
  for (const char* odd : {R"({"kind":5})", R"({"kind":["Backup"]})"}) {
    auto r = hooks.Pre({ClusterUsing("missing"), odd});
    REQUIRE(r.ok());
    CHECK(r->behavior == ReconcilerBehavior::kRequeue);
  }
  for (const char* bad : {"[]", "not json"})
    CHECK(hooks.Pre({ClusterUsing("local"), bad}).status().code() == absl::StatusCode::kInvalidArgument);
}
