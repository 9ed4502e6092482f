#include "config/cluster.h"

#include <doctest/doctest.h>

using namespace cnpgi_pgbackrest;

TEST_CASE("The archiving Cluster of the documentation") {
  auto c = ParseCluster(R"({"apiVersion":"postgresql.cnpg.io/v1","kind":"Cluster",
    "metadata":{"name":"cluster-example","namespace":"default","creationTimestamp":null},
    "spec":{"instances":3,"plugins":[{"name":"pgbackrest.cnpg.opera.com",
      "parameters":{"pgbackrestObjectName":"minio-store"}}],"storage":{"size":"1Gi"}},
    "status":{"currentPrimary":"cluster-example-1","unknownField":{"a":1}}})");
  REQUIRE(c.ok());
  REQUIRE(c->archive);
  CHECK(c->archive->archive_name == "minio-store");
  CHECK(c->archive->stanza == "cluster-example");
  CHECK(c->archive->declared_at == "spec.plugins[0]");
  CHECK_FALSE(c->recovery_source);
  CHECK(c->current_primary == "cluster-example-1");
}

TEST_CASE("Recovery and replica sources come from externalClusters; stanza defaults to the source's name") {
  auto c = ParseCluster(R"({"metadata":{"name":"cluster-dc-a"},
    "spec":{"plugins":[{"name":"barman-cloud.cloudnative-pg.io","parameters":{"x":"y"}},
                       {"name":"pgbackrest.cnpg.opera.com","parameters":{"pgbackrestObjectName":"minio-store-a"}}],
      "bootstrap":{"recovery":{"source":"cluster-dc-b"}},
      "replica":{"self":"cluster-dc-a","primary":"cluster-dc-a","source":"cluster-dc-b"},
      "externalClusters":[
        {"name":"cluster-dc-a","plugin":{"name":"pgbackrest.cnpg.opera.com","parameters":{"pgbackrestObjectName":"minio-store-a"}}},
        {"name":"cluster-dc-b","plugin":{"name":"pgbackrest.cnpg.opera.com","parameters":{"pgbackrestObjectName":"minio-store-b"}}}]}})");
  REQUIRE(c.ok());
  CHECK(c->archive->archive_name == "minio-store-a");
  CHECK(c->archive->declared_at == "spec.plugins[1]");
  REQUIRE(c->recovery_source);
  CHECK(c->recovery_source->archive_name == "minio-store-b");
  CHECK(c->recovery_source->stanza == "cluster-dc-b");
  CHECK(c->recovery_source->declared_at == "spec.externalClusters[1].plugin");
  REQUIRE(c->replica_source);
  CHECK(c->replica_source->archive_name == "minio-store-b");
}

TEST_CASE("An explicit stanza wins; a disabled entry is not an archive") {
  auto c = ParseCluster(R"({"metadata":{"name":"cluster-restore"},
    "spec":{"plugins":[{"name":"pgbackrest.cnpg.opera.com","enabled":false,"parameters":{"pgbackrestObjectName":"x"}}],
      "bootstrap":{"recovery":{"source":"source"}},
      "externalClusters":[{"name":"source","plugin":{"name":"pgbackrest.cnpg.opera.com",
        "parameters":{"pgbackrestObjectName":"minio-store","stanza":"cluster-example"}}}]}})");
  REQUIRE(c.ok());
  CHECK_FALSE(c->archive);
  CHECK(c->plugin_disabled);
  CHECK(c->recovery_source->stanza == "cluster-example");
}

TEST_CASE("Problems are reported with their place") {
  auto c = ParseCluster(R"({"metadata":{"name":"c"},"spec":{"plugins":[{"name":"pgbackrest.cnpg.opera.com"}]}})");
  REQUIRE(c.ok());
  CHECK_FALSE(c->archive);
  CHECK(c->archive_problem.message() ==
        "spec.plugins[0].parameters.pgbackrestObjectName: is required (the name of an Archive)");
  CHECK(c->archive_problem.code() == absl::StatusCode::kInvalidArgument);
  CHECK_FALSE(ParseCluster("{ not json").ok());
  CHECK_FALSE(ParseCluster("[]").ok());
  CHECK_FALSE(ParseCluster(R"({"metadata":{}})").ok());
  CHECK_FALSE(ParseCluster(R"({"kind":"Pod","metadata":{"name":"x"}})").ok());
  auto bad_param = ParseCluster(R"({"metadata":{"name":"c"},"spec":{"bootstrap":{"recovery":{"source":"s"}},
    "externalClusters":[{"name":"s","plugin":{"name":"pgbackrest.cnpg.opera.com","parameters":{"stanza":5}}}]}})");
  REQUIRE_FALSE(bad_param.ok());
  CHECK(std::string(bad_param.status().message()) ==
        "spec.externalClusters[0].plugin.parameters.stanza: must be a string");
}

TEST_CASE("The skip annotation is read exactly as CNPG does") {
  auto c = ParseCluster(R"({"metadata":{"name":"c","annotations":{"cnpg.io/skipEmptyWalArchiveCheck":"enabled"}}})");
  REQUIRE(c.ok());
  CHECK(c->SkipsEmptyWalArchiveCheck());
  auto d = ParseCluster(R"({"metadata":{"name":"c","annotations":{"cnpg.io/skipEmptyWalArchiveCheck":"true"}}})");
  CHECK_FALSE(d->SkipsEmptyWalArchiveCheck());
}

TEST_CASE("A token-based promotion is in progress until the operator records the token") {
  auto c =
      ParseCluster(R"({"metadata":{"name":"c"},"spec":{"replica":{"primary":"c","source":"b","promotionToken":"tok"},
    "externalClusters":[{"name":"b","connectionParameters":{"host":"b-rw"},
      "plugin":{"name":"pgbackrest.cnpg.opera.com","parameters":{"pgbackrestObjectName":"store-b"}}}]},
    "status":{"lastPromotionToken":"older"}})");
  REQUIRE(c.ok());
  CHECK(c->promotion_in_progress);
  CHECK(c->replica_source_streams);
  auto done = ParseCluster(R"({"metadata":{"name":"c"},"spec":{"replica":{"promotionToken":"tok"}},
    "status":{"lastPromotionToken":"tok"}})");
  CHECK_FALSE(done->promotion_in_progress);
}

TEST_CASE("IsReplica follows CNPG: enabled, or a primary other than self") {
  auto designated = ParseCluster(R"({"metadata":{"name":"cluster-dc-a"},
    "spec":{"replica":{"self":"cluster-dc-a","primary":"cluster-dc-b","source":"cluster-dc-b"}}})");
  CHECK(designated->is_replica);
  auto primary = ParseCluster(R"({"metadata":{"name":"cluster-dc-a"},
    "spec":{"replica":{"self":"cluster-dc-a","primary":"cluster-dc-a","source":"cluster-dc-b"}}})");
  CHECK_FALSE(primary->is_replica);
  auto enabled = ParseCluster(R"({"metadata":{"name":"x"},"spec":{"replica":{"enabled":true,"source":"y"}}})");
  CHECK(enabled->is_replica);
  auto disabled = ParseCluster(R"({"metadata":{"name":"x"},"spec":{"replica":{"enabled":false,"source":"y"}}})");
  CHECK_FALSE(disabled->is_replica);
}
