#include "backup/backup_options.h"

#include <doctest/doctest.h>

using namespace cnpgi_pgbackrest;

TEST_CASE("Backup parameters become pgBackRest flags") {
  auto f = BackupFlags({{"type", "full"}, {"start-fast", "true"}, {"process-max", "4"}, {"delta", "n"}});
  REQUIRE(f.ok());
  CHECK(*f == std::vector<std::string>{"--no-delta", "--process-max=4", "--start-fast", "--type=full"});
}

TEST_CASE("Unknown or invalid Backup parameters are refused before anything runs, naming the key") {
  auto unknown = BackupFlags({{"archive-async", "y"}});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(unknown.status().message())
            .find("Backup parameter 'archive-async' is not a pgBackRest backup option") == 0);
  auto bad_type = BackupFlags({{"type", "fulll"}});
  REQUIRE_FALSE(bad_type.ok());
  CHECK(std::string(bad_type.status().message()) == "Backup parameter type: 'fulll' is not one of full, diff, incr");
  auto bad_int = BackupFlags({{"process-max", "0"}});
  REQUIRE_FALSE(bad_int.ok());
  CHECK(std::string(bad_int.status().message()).find("between 1 and 999") != std::string::npos);
  auto bad_bool = BackupFlags({{"start-fast", "maybe"}});
  CHECK_FALSE(bad_bool.ok());
  // Secrets and repository options can never be set per backup.
  CHECK_FALSE(BackupFlags({{"repo1-cipher-pass", "x"}}).ok());
}

TEST_CASE("The Backup object: name, online and immediateCheckpoint; mistyped fields ignored, never thrown on") {
  auto b = ParseBackupObject(R"({"metadata":{"name":"b1","uid":"u-1"},
    "spec":{"online":true,"onlineConfiguration":{"immediateCheckpoint":true}}})");
  REQUIRE(b.ok());
  CHECK(b->name == "b1");
  CHECK(b->uid == "u-1");
  CHECK(b->online);
  CHECK(b->immediate_checkpoint);
  b = ParseBackupObject(R"({"metadata":{"name":"b2"},"spec":{"online":false}})");
  REQUIRE(b.ok());
  CHECK_FALSE(b->online);
  CHECK_FALSE(b->immediate_checkpoint);
  // Fields of other types than expected are ignored, never thrown on.
  b = ParseBackupObject(R"({"metadata":{"name":"b3","uid":7},"spec":{"online":"no","onlineConfiguration":"x"}})");
  REQUIRE(b.ok());
  CHECK(b->uid.empty());
  CHECK(b->online);
  b = ParseBackupObject(R"({"metadata":{"name":"b4"},"spec":[1]})");
  REQUIRE(b.ok());
  for (const char* bad : {R"({"metadata":"x"})", R"({"metadata":{"name":5}})", R"({})", "[]", "{"}) {
    auto r = ParseBackupObject(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  }
}
