// spec.bootstrap.recovery.recoveryTarget as JSON (else the bytes as a targetTime and a
// targetLSN), and the backup it selects from a fixed stanza. Never a crash; a selected backup is
// a usable one of the stanza that ends before the target.
#include <nlohmann/json.hpp>

#include "fuzz_check.h"
#include "pgbackrest/catalog.h"
#include "restore_job/recovery_target.h"

using namespace cnpgi_pgbackrest;
using json = nlohmann::json;

namespace {

const StanzaCatalog& Catalog() {
  static const StanzaCatalog* catalog = [] {
    auto c = ParseStanzaInfo(json::parse(R"({"name":"main","status":{"code":0,"message":"ok"},"backup":[
      {"label":"20261121-071500F","type":"full","timestamp":{"start":1763709300,"stop":1763709360},
       "lsn":{"start":"0/2000028","stop":"0/2000138"},"database":{"id":1,"repo-key":1}},
      {"label":"20261121-071500F_20261121-072000I","type":"incr","prior":"20261121-071500F","error":true,
       "timestamp":{"start":1763709600,"stop":1763709660},"lsn":{"start":"0/4000028","stop":"0/4000100"}},
      {"label":"20261121-071500F_20261121-073000D","type":"diff","prior":"20261121-071500F",
       "timestamp":{"start":1763710200,"stop":1763710260},"lsn":{"start":"1/28","stop":"1/6000100"}}]})"));
    FUZZ_CHECK(c.ok());
    return new StanzaCatalog(*c);
  }();
  return *catalog;
}

void CheckSelection(const RecoveryTarget& target) {
  auto backup = SelectBackup(Catalog(), target);
  if (!backup.ok()) {
    FUZZ_CHECK(absl::IsFailedPrecondition(backup.status()) || absl::IsNotFound(backup.status()));
    return;
  }
  FUZZ_CHECK(!backup->error);
  if (!target.backup_id.empty()) FUZZ_CHECK(backup->label == target.backup_id);
  if (target.time) FUZZ_CHECK(absl::FromUnixSeconds(backup->stop_time) <= *target.time);
  if (target.lsn) FUZZ_CHECK(ParseLsn(backup->lsn_stop).value() <= *target.lsn);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(FuzzText(data, size));
  json doc = json::parse(text, nullptr, false);
  if (!doc.is_discarded()) {
    auto target = ParseRecoveryTarget(doc);
    if (target.ok()) {
      FUZZ_CHECK(target->time.has_value() == !target->time_text.empty());
      FUZZ_CHECK(target->lsn.has_value() == !target->lsn_text.empty());
      CheckSelection(*target);
    } else {
      FUZZ_CHECK(absl::IsInvalidArgument(target.status()));
    }
    return 0;
  }
  RecoveryTarget target;
  if (auto time = ParseTargetTime(text); time.ok()) {
    target.time = *time;
    target.time_text = text;
    CheckSelection(target);
  }
  if (auto lsn = ParseLsn(text)) {
    RecoveryTarget by_lsn;
    by_lsn.lsn = lsn;
    by_lsn.lsn_text = text;
    CheckSelection(by_lsn);
  }
  return 0;
}
