#include "config/names.h"

#include <string>

#include <doctest/doctest.h>

#include "config/cluster.h"

using namespace cnpgi_pgbackrest;

namespace {

std::string PluginCluster(const std::string& parameters, const std::string& name = "cluster-example") {
  return R"({"metadata":{"name":")" + name +
         R"(","namespace":"default"},"spec":{"plugins":[{"name":"pgbackrest.cnpg.opera.com","parameters":)" +
         parameters + "}]}}";
}

}  // namespace

TEST_CASE("Stanza names: what pgBackRest and a directory can hold, nothing that leaves it") {
  for (const char* good : {"cluster-example", "db_1", "A.b-c_d", "0"}) CHECK(CheckStanzaName(good, "f").ok());
  for (const char* bad :
       {"", "..", ".", "../../../../tmp/victim", "a/b", "-x", "_x", ".hidden", "a b", "a\nb", "a:b", "a\\b"}) {
    auto s = CheckStanzaName(bad, "spec.plugins[0].parameters.stanza");
    CHECK_MESSAGE(s.code() == absl::StatusCode::kInvalidArgument, bad);
    CHECK(std::string(s.message()).rfind("spec.plugins[0].parameters.stanza: ", 0) == 0);
  }
  CHECK_FALSE(CheckStanzaName(std::string(101, 'a'), "f").ok());
  CHECK(CheckStanzaName(std::string(100, 'a'), "f").ok());
}

TEST_CASE("Resource names and Secret keys follow Kubernetes' rules") {
  CHECK(IsResourceName("minio-store"));
  CHECK(IsResourceName("a.b"));
  for (const char* bad : {"", "Upper", "../x", "a/b", "-a", "a-"}) CHECK_FALSE(IsResourceName(bad));
  CHECK(IsSecretKey("ACCESS_KEY_ID"));
  CHECK(IsSecretKey("ca.crt"));
  CHECK(IsSecretKey(".dotfile"));
  for (const char* bad : {"", ".", "..", "..x", "a/b"}) CHECK_FALSE(IsSecretKey(bad));
}

TEST_CASE("A Cluster whose stanza or Archive name would escape a directory is refused, naming the field") {
  auto escaping = ParseCluster(PluginCluster(R"({"pgbackrestObjectName":"local","stanza":"../../../../tmp/victim"})"));
  REQUIRE(escaping.ok());  // the Cluster parses; its use of the plugin does not
  CHECK_FALSE(escaping->archive.has_value());
  CHECK(escaping->archive_problem.code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(escaping->archive_problem.message())
            .rfind("spec.plugins[0].parameters.stanza: '../../../../tmp/victim' is not a valid stanza", 0) == 0);

  auto archive_name = ParseCluster(PluginCluster(R"({"pgbackrestObjectName":"../x"})"));
  REQUIRE(archive_name.ok());
  CHECK(std::string(archive_name->archive_problem.message())
            .rfind("spec.plugins[0].parameters.pgbackrestObjectName: '../x'", 0) == 0);

  // An external cluster's stanza (recovery or replica source) fails the whole Cluster: CNPG needs it.
  auto recovery = ParseCluster(R"({"metadata":{"name":"restore"},"spec":{"bootstrap":{"recovery":{"source":"src"}},
    "externalClusters":[{"name":"src","plugin":{"name":"pgbackrest.cnpg.opera.com",
      "parameters":{"pgbackrestObjectName":"local","stanza":"a/../../b"}}}]}})");
  REQUIRE_FALSE(recovery.ok());
  CHECK(recovery.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(recovery.status().message()).rfind("spec.externalClusters[0].plugin.parameters.stanza: ", 0) == 0);

  // The Cluster's own name is the default stanza; its namespace goes into API paths.
  CHECK_FALSE(ParseCluster(PluginCluster(R"({"pgbackrestObjectName":"local"})", "../evil")).ok());
  auto ns = ParseCluster(R"({"metadata":{"name":"c","namespace":"a/b"}})");
  REQUIRE_FALSE(ns.ok());
  CHECK(std::string(ns.status().message()).find("metadata.namespace") != std::string::npos);
}

TEST_CASE("Clusters with values of unexpected types parse leniently and never throw") {
  CHECK(ParseCluster(R"({"metadata":"x"})").status().code() == absl::StatusCode::kInvalidArgument);
  auto odd = ParseCluster(R"({"metadata":{"name":"c","annotations":[1]},"spec":{"plugins":"x","replica":5,
    "bootstrap":{"recovery":"x"},"externalClusters":{"a":1}},"status":[]})");
  REQUIRE(odd.ok());
  CHECK_FALSE(odd->archive.has_value());
}
