#include "stanza/stanza_state.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <doctest/doctest.h>

#include "absl/strings/match.h"

#include "common/files.h"

using namespace cnpgi_pgbackrest;

namespace {

// archive.info exactly as pgBackRest 2.45 wrote it for `stanza-create` on a PostgreSQL 15.18 initdb.
constexpr absl::string_view kArchiveInfo15 = R"([backrest]
backrest-format=5
backrest-version="2.45"

[db]
db-id=1
db-system-id=7714325387226717277
db-version="15"

[db:history]
1={"db-id":7714325387226717277,"db-version":"15"}

[backrest]
backrest-checksum="1852c06f9de03028cdcdca6b551e7a10e4847deb"
)";

// By hand in the same format: a stanza created on PostgreSQL 14 and not yet upgraded, and the same
// stanza after `stanza-upgrade` to 15 (pg_upgrade's new cluster has its own system identifier).
constexpr absl::string_view kArchiveInfo14 = R"([backrest]
backrest-format=5
backrest-version="2.45"

[db]
db-id=1
db-system-id=7300000000000000014
db-version="14"

[db:history]
1={"db-id":7300000000000000014,"db-version":"14"}
)";

constexpr absl::string_view kArchiveInfoUpgraded = R"([backrest]
backrest-format=5
backrest-version="2.45"

[cipher]
cipher-pass="notarealpassphrase"

[db]
db-id=2
db-system-id=7714325387226717277
db-version="15"

[db:history]
1={"db-id":7300000000000000014,"db-version":"14"}
2={"db-id":7714325387226717277,"db-version":"15"}
)";

const LocalDatabase kLocal15{.system_id = 7714325387226717277u, .version = "15"};

ArchiveInfo Parsed(absl::string_view text) {
  auto info = ParseArchiveInfo(text);
  REQUIRE_MESSAGE(info.ok(), info.status().ToString());
  return *info;
}

}  // namespace

TEST_CASE("ParseArchiveInfo reads [db] and [db:history] of pgBackRest 2.45") {
  ArchiveInfo info = Parsed(kArchiveInfo15);
  CHECK(info.current.id == 1);
  CHECK(info.current.system_id == 7714325387226717277u);
  CHECK(info.current.version == "15");
  REQUIRE(info.history.size() == 1);
  CHECK(info.history[0].system_id == 7714325387226717277u);

  ArchiveInfo upgraded = Parsed(kArchiveInfoUpgraded);
  CHECK(upgraded.current.id == 2);
  REQUIRE(upgraded.history.size() == 2);
  CHECK(upgraded.history[0].version == "14");
  CHECK(upgraded.history[0].system_id == 7300000000000000014u);
  CHECK(upgraded.history[1].id == 2);
}

TEST_CASE("ParseArchiveInfo refuses what is not an archive.info") {
  auto empty = ParseArchiveInfo("");
  CHECK_FALSE(empty.ok());
  CHECK(absl::StrContains(empty.status().message(), "db-system-id"));
  CHECK_FALSE(ParseArchiveInfo("[db]\ndb-id=1\ndb-system-id=1\ndb-version=15\n").ok());  // version not a string
  CHECK_FALSE(ParseArchiveInfo("[db]\ndb-id=1\ndb-system-id=1\ndb-version=\"15\"\n[db:history]\nx={}\n").ok());
}

TEST_CASE("CompareMajorVersions orders old and new numbering") {
  CHECK(*CompareMajorVersions("9.6", "10") == -1);
  CHECK(*CompareMajorVersions("16", "15") == 1);
  CHECK(*CompareMajorVersions("15", "15") == 0);
  CHECK_FALSE(CompareMajorVersions("15.2", "15"));
  CHECK_FALSE(CompareMajorVersions("9", "15"));
  CHECK_FALSE(CompareMajorVersions("", "15"));
}

TEST_CASE("DecideStanza: the stanza of this database is used") {
  StanzaDecision d = DecideStanza(Parsed(kArchiveInfo15), kLocal15, 15, "stanza s");
  CHECK(d.action == StanzaAction::kUse);
  // The status is not needed when nothing changed.
  CHECK(DecideStanza(Parsed(kArchiveInfoUpgraded), kLocal15, std::nullopt, "stanza s").action == StanzaAction::kUse);
}

TEST_CASE("DecideStanza refuses another database's stanza, naming both identifiers") {
  LocalDatabase other{.system_id = 7714325401224752239u, .version = "15"};
  StanzaDecision d = DecideStanza(Parsed(kArchiveInfo15), other, 15, "Archive 'a' stanza 's' in repo1");
  CHECK(d.action == StanzaAction::kRefuse);
  CHECK(absl::StrContains(d.reason, "Archive 'a' stanza 's' in repo1"));
  CHECK(absl::StrContains(d.reason, "7714325387226717277"));
  CHECK(absl::StrContains(d.reason, "7714325401224752239"));
  CHECK(absl::StrContains(d.reason, "belongs to another database"));
  CHECK(absl::StrContains(d.reason, "parameters.stanza"));
}

TEST_CASE("DecideStanza upgrades after an in-place major upgrade CNPG recorded") {
  // pg_upgrade from 14 to 15: new system identifier, PGDATA 15, status.pgDataImageInfo.majorVersion 15.
  StanzaDecision d = DecideStanza(Parsed(kArchiveInfo14), kLocal15, 15, "stanza s");
  CHECK(d.action == StanzaAction::kUpgrade);
  CHECK(absl::StrContains(d.reason, "PostgreSQL 14"));
  CHECK(absl::StrContains(d.reason, "7300000000000000014"));
}

TEST_CASE("DecideStanza refuses an upgrade the Cluster's status does not show") {
  StanzaDecision none = DecideStanza(Parsed(kArchiveInfo14), kLocal15, std::nullopt, "stanza s");
  CHECK(none.action == StanzaAction::kRefuse);
  CHECK(absl::StrContains(none.reason, "status.pgDataImageInfo"));
  // The status still shows the old version: CNPG has not finished.
  StanzaDecision old = DecideStanza(Parsed(kArchiveInfo14), kLocal15, 14, "stanza s");
  CHECK(old.action == StanzaAction::kRefuse);
  CHECK(absl::StrContains(old.reason, "majorVersion is 14, not 15"));
}

TEST_CASE("DecideStanza never downgrades: an older data directory stays out of an upgraded stanza") {
  LocalDatabase old14{.system_id = 7300000000000000014u, .version = "14"};
  StanzaDecision d = DecideStanza(Parsed(kArchiveInfoUpgraded), old14, 14, "stanza s");
  CHECK(d.action == StanzaAction::kRefuse);
  CHECK(absl::StrContains(d.reason, "newer PostgreSQL major version"));
  // The same version as an older history entry, but the stanza moved on: refused, saying so.
  ArchiveInfo moved = Parsed(kArchiveInfoUpgraded);
  moved.history[0].version = "15";
  moved.history[0].system_id = 42;
  StanzaDecision back = DecideStanza(moved, {.system_id = 42, .version = "15"}, 15, "stanza s");
  CHECK(back.action == StanzaAction::kRefuse);
  CHECK(absl::StrContains(back.reason, "older db-id 1"));
}

TEST_CASE("PgDataMajorVersion reads CNPG's status.pgDataImageInfo") {
  auto status = nlohmann::json::parse(
      R"({"pgDataImageInfo":{"image":"ghcr.io/cloudnative-pg/postgresql:16.4","majorVersion":16}})");
  CHECK(PgDataMajorVersion(status) == 16);
  CHECK_FALSE(PgDataMajorVersion(nlohmann::json::object()));
  CHECK_FALSE(PgDataMajorVersion(nlohmann::json::parse(R"({"pgDataImageInfo":{"image":"x"}})")));
}

TEST_CASE("ReadLocalDatabase reads PG_VERSION and pg_control's system identifier") {
  char tmpl[] = "/tmp/cnpgi-stanza-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::filesystem::create_directory(dir + "/global");
  REQUIRE(WriteFileAtomically(dir + "/PG_VERSION", "15\n").ok());
  std::uint64_t id = 7714325387226717277u;
  std::string control(8192, '\0');
  std::memcpy(control.data(), &id, sizeof(id));
  REQUIRE(WriteFileAtomically(dir + "/global/pg_control", control).ok());
  auto local = ReadLocalDatabase(dir);
  REQUIRE(local.ok());
  CHECK(local->system_id == id);
  CHECK(local->version == "15");
  REQUIRE(WriteFileAtomically(dir + "/PG_VERSION", "banana\n").ok());
  CHECK_FALSE(ReadLocalDatabase(dir).ok());
  std::filesystem::remove_all(dir);
  CHECK(ReadLocalDatabase(dir).status().code() == absl::StatusCode::kNotFound);
}
