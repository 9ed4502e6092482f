#include "restore_job/recovery_target.h"

#include <doctest/doctest.h>

using namespace cnpgi_pgbackrest;
using json = nlohmann::json;

namespace {

StanzaCatalog TwoBackups() {
  StanzaCatalog c;
  c.name = "cluster-example";
  BackupRecord full;
  full.label = "20261121-070000F";
  full.stop_time = 1795244410;  // 2026-11-21 07:00:10 UTC
  full.lsn_stop = "0/3000100";
  BackupRecord incr;
  incr.label = "20261121-070000F_20261121-071000I";
  incr.stop_time = 1795245005;  // 07:10:05
  incr.lsn_stop = "0/7000138";
  c.backups = {full, incr};
  return c;
}

std::string Pick(const json& target) {
  auto t = ParseRecoveryTarget(target);
  REQUIRE(t.ok());
  auto b = SelectBackup(TwoBackups(), *t);
  REQUIRE_MESSAGE(b.ok(), b.status().message());
  return b->label;
}

}  // namespace

TEST_CASE("Timestamps in the forms CNPG accepts") {
  auto utc = absl::FromUnixSeconds(1795244410);
  CHECK(*ParseTargetTime("2026-11-21 07:00:10+00") == utc);
  CHECK(*ParseTargetTime("2026-11-21T07:00:10Z") == utc);
  CHECK(*ParseTargetTime("2026-11-21 09:00:10+02") == utc);
  CHECK(*ParseTargetTime("2026-11-21T07:00:10.000000+00:00") == utc);
  CHECK(*ParseTargetTime("2026-11-21 07:00:10") == utc);
  CHECK(*ParseTargetTime("2026-11-21 12:30:10+0530") == utc);
  auto bad = ParseTargetTime("yesterday");
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.status().message()).find("spec.bootstrap.recovery.recoveryTarget.targetTime: 'yesterday'") ==
        0);
}

TEST_CASE("SelectBackup follows the recovery target") {
  CHECK(Pick(json()) == "20261121-070000F_20261121-071000I");
  CHECK(Pick({{"targetTime", "2026-11-21 07:05:00+00"}}) == "20261121-070000F");
  CHECK(Pick({{"targetTime", "2026-11-21 07:20:00+00"}}) == "20261121-070000F_20261121-071000I");
  CHECK(Pick({{"targetLSN", "0/5000000"}}) == "20261121-070000F");
  CHECK(Pick({{"backupID", "20261121-070000F"}, {"targetImmediate", true}}) == "20261121-070000F");
  CHECK(Pick({{"targetName", "before-drop"}}) == "20261121-070000F_20261121-071000I");
}

TEST_CASE("Unreachable targets fail early with what would be needed") {
  auto before_all = ParseRecoveryTarget({{"targetTime", "2026-11-21 06:00:00+00"}});
  REQUIRE(before_all.ok());
  auto s = SelectBackup(TwoBackups(), *before_all);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(s.status().message()).find("no backup in stanza 'cluster-example' ends before targetTime") !=
        std::string::npos);
  CHECK(std::string(s.status().message()).find("the oldest is 20261121-070000F") != std::string::npos);

  auto missing = ParseRecoveryTarget({{"backupID", "20990101-000000F"}});
  auto m = SelectBackup(TwoBackups(), *missing);
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(m.status().message()).find("available: 20261121-070000F, 20261121-070000F_20261121-071000I") !=
        std::string::npos);

  auto too_late = ParseRecoveryTarget({{"backupID", "20261121-070000F_20261121-071000I"}, {"targetLSN", "0/5000000"}});
  CHECK(SelectBackup(TwoBackups(), *too_late).status().code() == absl::StatusCode::kFailedPrecondition);

  CHECK_FALSE(ParseRecoveryTarget({{"targetLSN", "zz"}}).ok());
  CHECK_FALSE(ParseRecoveryTarget({{"targetTime", "2026-11-21 07:00:00+00"}, {"targetLSN", "0/1"}}).ok());
  CHECK(SelectBackup(StanzaCatalog{.name = "empty"}, RecoveryTarget{}).status().code() ==
        absl::StatusCode::kFailedPrecondition);
}
