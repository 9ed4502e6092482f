#include "pgbackrest/catalog.h"

#include <doctest/doctest.h>

using namespace cnpgi_pgbackrest;

TEST_CASE("ParseStanzaInfo reads pgBackRest 2.45 info JSON") {
  auto j = nlohmann::json::parse(R"({"name":"cluster-example","cipher":"aes-256-cbc",
    "status":{"code":0,"message":"ok","lock":{"backup":{"held":false}}},
    "db":[{"id":1,"repo-key":1,"system-id":7310000000000000001,"version":"15"}],
    "archive":[{"database":{"id":1,"repo-key":1},"id":"15-1","min":"000000010000000000000001","max":"000000010000000000000009"}],
    "backup":[
      {"label":"20261121-070000F","type":"full","prior":null,"timestamp":{"start":1795244400,"stop":1795244410},
       "archive":{"start":"000000010000000000000003","stop":"000000010000000000000003"},
       "lsn":{"start":"0/3000028","stop":"0/3000100"},"database":{"id":1,"repo-key":1},"error":false,
       "annotation":{"cnpg-backup-name":"backup-1"},"info":{"size":1}},
      {"label":"20261121-070000F_20261121-071000I","type":"incr","prior":"20261121-070000F",
       "timestamp":{"start":1795245000,"stop":1795245005},
       "archive":{"start":"000000010000000000000007","stop":"000000010000000000000007"},
       "lsn":{"start":"0/7000028","stop":"0/7000138"},"database":{"id":1,"repo-key":1},"error":false}]})");
  auto c = ParseStanzaInfo(j);
  REQUIRE(c.ok());
  CHECK(c->name == "cluster-example");
  CHECK(c->cipher == "aes-256-cbc");
  REQUIRE(c->backups.size() == 2);
  CHECK(c->backups[0].annotations.at("cnpg-backup-name") == "backup-1");
  CHECK(c->backups[0].prior.empty());
  CHECK(c->backups[1].prior == "20261121-070000F");
  CHECK(c->backups[1].stop_time == 1795245005);
  CHECK(c->backups[1].lsn_stop == "0/7000138");
  REQUIRE(c->archives.size() == 1);
  CHECK(c->archives[0].id == "15-1");
  CHECK(c->archives[0].max == "000000010000000000000009");
}

TEST_CASE("ParseLsn") {
  CHECK(ParseLsn("0/3000060") == 0x3000060u);
  CHECK(ParseLsn("16/B374D848") == ((uint64_t{0x16} << 32) | 0xB374D848u));
  CHECK_FALSE(ParseLsn("3000060"));
  CHECK_FALSE(ParseLsn("0/3000060x"));
}

TEST_CASE("An unreadable stanza reports the repository's own error") {
  auto j = nlohmann::json::parse(R"({"name":"s","status":{"code":99,"message":"other"},"backup":[],"archive":[],
    "repo":[{"key":1,"cipher":"aes-256-cbc","status":{"code":99,"message":"[CryptoError] unable to flush\nHINT: is or was the repo encrypted?"}}]})");
  auto c = ParseStanzaInfo(j);
  REQUIRE(c.ok());
  auto s = RequireReadable(*c, "Archive 'a' stanza 's'");
  CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(s.message())
            .find("Archive 'a' stanza 's' cannot be read (pgbackrest info status 99): repo1: "
                  "[CryptoError] unable to flush HINT: is or was the repo encrypted?") == 0);
  CHECK(std::string(s.message()).find("check the Archive's encryption and encryptionKey") != std::string::npos);
  c->status_code = 2;
  CHECK(RequireReadable(*c, "x").ok());
}

TEST_CASE("StanzaOfInfoOutput picks the stanza from any info output without throwing") {
  auto found = StanzaOfInfoOutput(R"([{"name":"other"},{"name":"main","status":{"code":0}}])", "main");
  REQUIRE(found.ok());
  CHECK((*found)["status"]["code"] == 0);
  // Elements that are not objects, or whose name is not a string, are skipped, never thrown on.
  found = StanzaOfInfoOutput(R"([1,"main",null,{"name":7},{"name":"main"}])", "main");
  REQUIRE(found.ok());
  CHECK(*found == nlohmann::json({{"name", "main"}}));
  CHECK(StanzaOfInfoOutput(R"([{"name":7}])", "main").status().code() == absl::StatusCode::kNotFound);
  auto not_array = StanzaOfInfoOutput("{\"name\":\"main\"}", "main");
  CHECK(not_array.status().code() == absl::StatusCode::kInternal);
  CHECK(std::string(not_array.status().message()).find("did not return a JSON array") != std::string::npos);
  // Bytes a wrong cipher key decrypts into messages are not UTF-8: read as '?', not refused.
  found = StanzaOfInfoOutput("[{\"name\":\"main\",\"status\":{\"message\":\"bad \xff\x01 key\"}}]", "main");
  REQUIRE(found.ok());
  CHECK((*found)["status"]["message"] == "bad ?? key");
}
