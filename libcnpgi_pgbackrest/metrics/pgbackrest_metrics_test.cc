#include "metrics/pgbackrest_metrics.h"

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>

#include <doctest/doctest.h>

#include "absl/strings/str_cat.h"

#include "pgbackrest/scripted_engine_test_util.h"

using namespace cnpgi_pgbackrest;
namespace fs = std::filesystem;

namespace {

using testing::kScriptedCluster;
constexpr const char* kCluster = kScriptedCluster;

// pgbackrest prints info_json for every command, or fails when it is empty; two .ready files wait.
struct FakeRepository : testing::ScriptedEngine {
  explicit FakeRepository(const std::string& info_json)
      : ScriptedEngine(info_json.empty() ? "echo 'ERROR: [039]: repository down' >&2\nexit 39\n" : "") {
    if (!info_json.empty()) {
      std::ofstream(dir + "/info.json") << info_json;
      SetScript(absl::StrCat("cat ", dir, "/info.json\n"));
    }
    for (const char* f :
         {"000000010000000000000007.ready", "000000010000000000000008.ready", "000000010000000000000006.done"})
      std::ofstream(dir + "/pgdata/pg_wal/archive_status/" + f);
  }
};

std::map<std::string, double> ByName(const std::vector<MetricSample>& samples) {
  std::map<std::string, double> out;
  for (const auto& s : samples) {
    std::string key = s.fq_name;
    for (const auto& l : s.label_values) key += "/" + l;
    out[key] = s.value;
  }
  return out;
}

}  // namespace

TEST_CASE("Metric names: the plugin name as prefix, valid and unique Prometheus names, a type each") {
  CHECK(MetricPrefix("pgbackrest.cnpg.opera.com") == "pgbackrest_cnpg_opera_com_");
  FakeRepository repo("[]");
  PgbackrestMetrics metrics(repo.engine.get(), nullptr, nullptr, {});
  std::set<std::string> names;
  for (const auto& d : metrics.Define(kCluster)) {
    CHECK_MESSAGE(std::regex_match(d.fq_name, std::regex("[a-zA-Z_:][a-zA-Z0-9_:]*")), d.fq_name);
    CHECK(names.insert(d.fq_name).second);
    CHECK(static_cast<int>(d.type) != 0);
    CHECK_FALSE(d.help.empty());
  }
  CHECK(names.count("pgbackrest_cnpg_opera_com_first_recoverability_point"));
}

TEST_CASE("Collect: the WAL backlog, and backups from pgbackrest info; every sample matches its definition") {
  FakeRepository repo(R"([{"name":"cluster-example","status":{"code":0,"message":"ok"},"archive":[],
    "backup":[
      {"label":"20261121-070000F","type":"full","timestamp":{"start":1795244400,"stop":1795244410},
       "archive":{"start":"000000010000000000000003","stop":"000000010000000000000003"},
       "lsn":{"start":"0/3000028","stop":"0/3000100"},"database":{"id":1,"repo-key":1},"error":false},
      {"label":"20261121-070000F_20261121-071000I","type":"incr","prior":"20261121-070000F",
       "timestamp":{"start":1795245000,"stop":1795245005},
       "archive":{"start":"000000010000000000000007","stop":"000000010000000000000007"},
       "lsn":{"start":"0/7000028","stop":"0/7000138"},"database":{"id":1,"repo-key":1},"error":false}]}])");
  PgbackrestMetrics metrics(repo.engine.get(), nullptr, nullptr, {});
  auto samples = metrics.Collect(kCluster);
  REQUIRE(samples.ok());
  std::map<std::string, std::size_t> defined;
  for (const auto& d : metrics.Define(kCluster)) defined[d.fq_name] = d.variable_labels.size();
  for (const auto& s : *samples) {
    REQUIRE(defined.count(s.fq_name));
    CHECK(defined[s.fq_name] == s.label_values.size());
  }
  auto v = ByName(*samples);
  const std::string p = "pgbackrest_cnpg_opera_com_";
  CHECK(v[p + "wal_ready"] == 2);
  CHECK(v[p + "repository_reachable"] == 1);
  CHECK(v[p + "first_recoverability_point"] == 1795244400);
  CHECK(v[p + "last_available_backup_timestamp"] == 1795245005);
  CHECK(v[p + "backups/full"] == 1);
  CHECK(v[p + "backups/incr"] == 1);
  CHECK(v[p + "backups/diff"] == 0);
  CHECK(v[p + "wal_archived_total"] == 0);
}

TEST_CASE("Collect: a repository that becomes unreachable keeps its last known backups") {
  FakeRepository repo(R"([{"name":"cluster-example","status":{"code":0,"message":"ok"},"archive":[],
    "backup":[{"label":"20261121-070000F","type":"full","timestamp":{"start":1795244400,"stop":1795244410},
       "archive":{"start":"000000010000000000000003","stop":"000000010000000000000003"},
       "lsn":{"start":"0/3000028","stop":"0/3000100"},"database":{"id":1,"repo-key":1},"error":false}]}])");
  PgbackrestMetrics metrics(repo.engine.get(), nullptr, nullptr, {.info_ttl = std::chrono::milliseconds(0)});
  const std::string p = "pgbackrest_cnpg_opera_com_";
  auto first = metrics.Collect(kCluster);
  REQUIRE(first.ok());
  CHECK(ByName(*first)[p + "repository_reachable"] == 1);
  repo.SetScript("echo 'ERROR: [039]: repository down' >&2\nexit 39\n");
  std::map<std::string, double> v;
  for (int i = 0; i < 100; ++i) {  // a scrape answers from the cache while the refresh runs
    v = ByName(*metrics.Collect(kCluster));
    if (v[p + "repository_reachable"] == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  CHECK(v[p + "repository_reachable"] == 0);
  CHECK(v[p + "first_recoverability_point"] == 1795244400);  // unreachable is not empty
  CHECK(v[p + "backups/full"] == 1);
}

TEST_CASE("Collect: an unreadable repository reads as unreachable, not as an error for the whole scrape") {
  FakeRepository repo("");
  PgbackrestMetrics metrics(repo.engine.get(), nullptr, nullptr, {});
  auto samples = metrics.Collect(kCluster);
  REQUIRE(samples.ok());
  auto v = ByName(*samples);
  CHECK(v["pgbackrest_cnpg_opera_com_repository_reachable"] == 0);
  CHECK(v["pgbackrest_cnpg_opera_com_first_recoverability_point"] == 0);
  CHECK_FALSE(metrics.Collect("not json").ok());
}

TEST_CASE("Collect: consumed storage per repository; two readable repositories are reachable") {
  // Real pgBackRest 2.45 output for two repositories, backups in repo1 only: the stanza's status
  // is then "different across repos" (code 4), yet both repositories were read.
  std::ifstream in(std::string(CNPGI_FIXTURES_DIR) + "/pgbackrest-info-two-repos.json");
  std::stringstream text;
  text << in.rdbuf();
  std::string info = std::regex_replace(text.str(), std::regex(R"("name": "demo")"), R"("name": "cluster-example")");
  FakeRepository repo(info);
  repo.SetScript(absl::StrCat(
      "case \"$*\" in\n",
      "  *repo-ls*--repo=1*|*--repo=1*repo-ls*) echo '{\"15-1/a.gz\":{\"type\":\"file\",\"size\":100},",
      "\"15-1\":{\"type\":\"path\"}}' ;;\n", "  *repo-ls*) echo '{\"15-1/b.gz\":{\"type\":\"file\",\"size\":7}}' ;;\n",
      "  *) cat ", repo.dir, "/info.json ;;\nesac\n"));
  PgbackrestMetrics metrics(repo.engine.get(), nullptr, nullptr, {});
  auto samples = metrics.Collect(kCluster);
  REQUIRE(samples.ok());
  auto v = ByName(*samples);
  const std::string p = "pgbackrest_cnpg_opera_com_";
  CHECK(v[p + "repository_reachable"] == 1);
  CHECK(v[p + "repository_backup_bytes/1"] == 3043470 + 204456);  // the sets' repository delta
  CHECK(v[p + "repository_backup_bytes/2"] == 0);
  CHECK(v[p + "repository_wal_bytes/1"] == 100);
  CHECK(v[p + "repository_wal_bytes/2"] == 7);
}
