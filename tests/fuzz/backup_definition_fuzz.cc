// The Backup object CNPG sends with a Backup request (ParseBackupObject). Never a crash; what it
// accepts parses again, rebuilt from the fields it read, to the same result.
#include <nlohmann/json.hpp>

#include "backup/backup_options.h"
#include "fuzz_check.h"

using namespace cnpgi_pgbackrest;
using json = nlohmann::json;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto backup = ParseBackupObject(std::string(FuzzText(data, size)));
  if (!backup.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(backup.status()));
    return 0;
  }
  FUZZ_CHECK(!backup->name.empty());
  json rebuilt = {
      {"metadata", {{"name", backup->name}, {"uid", backup->uid}}},
      {"spec",
       {{"online", backup->online}, {"onlineConfiguration", {{"immediateCheckpoint", backup->immediate_checkpoint}}}}}};
  auto again = ParseBackupObject(rebuilt.dump());
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->name == backup->name && again->uid == backup->uid);
  FUZZ_CHECK(again->online == backup->online && again->immediate_checkpoint == backup->immediate_checkpoint);
  return 0;
}
