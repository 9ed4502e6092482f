// `pgbackrest info --output=json` as pgBackRest prints it: the stanza picked from the output
// (StanzaOfInfoOutput), its records (ParseStanzaInfo), the readability check and the backup a
// restore would pick. Never a crash; accepted records are what the restore and backup code expect.
#include <nlohmann/json.hpp>

#include "fuzz_check.h"
#include "pgbackrest/catalog.h"
#include "restore_job/recovery_target.h"

using namespace cnpgi_pgbackrest;
using json = nlohmann::json;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto stanza = StanzaOfInfoOutput(std::string(FuzzText(data, size)), "main");
  if (!stanza.ok()) {
    FUZZ_CHECK(absl::IsInternal(stanza.status()) || absl::IsNotFound(stanza.status()));
    return 0;
  }
  FUZZ_CHECK(stanza->is_object() && stanza->at("name") == "main");
  auto catalog = ParseStanzaInfo(*stanza);
  if (!catalog.ok()) {
    FUZZ_CHECK(absl::IsInternal(catalog.status()));
    return 0;
  }
  FUZZ_CHECK(catalog->name == "main");
  for (const auto& b : catalog->backups) FUZZ_CHECK(!b.label.empty());
  auto readable = RequireReadable(*catalog, "stanza main");
  FUZZ_CHECK(readable.ok() == (catalog->status_code >= 0 && catalog->status_code <= 2));
  auto latest = SelectBackup(*catalog, RecoveryTarget());
  if (latest.ok()) {
    FUZZ_CHECK(!latest->error);
    FUZZ_CHECK(!catalog->backups.empty());
  }
  for (const auto& b : catalog->backups) {
    if (auto lsn = ParseLsn(b.lsn_stop)) {
      RecoveryTarget target;
      target.lsn = lsn;
      target.lsn_text = b.lsn_stop;
      auto by_lsn = SelectBackup(*catalog, target);
      if (!b.error) FUZZ_CHECK(by_lsn.ok());  // that backup itself reaches the target
    }
  }
  return 0;
}
