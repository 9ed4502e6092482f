#include "backup/backup_options.h"

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "common/json.h"
#include "common/text.h"

namespace cnpgi_pgbackrest {

const std::vector<BackupOptionSpec>& BackupOptionSpecs() {
  static const std::vector<BackupOptionSpec> specs = {
      {"type", OptionKind::kEnum, {"full", "diff", "incr"}, 0, 0, "backup type (default incr, full when none exists)"},
      {"start-fast", OptionKind::kBool, {}, 0, 0, "force an immediate checkpoint"},
      {"compress-type", OptionKind::kEnum, {"none", "bz2", "gz", "lz4", "zst"}, 0, 0, "compression of this backup"},
      {"compress-level", OptionKind::kInt, {}, 0, 22, "compression level"},
      {"process-max", OptionKind::kInt, {}, 1, 999, "parallel processes"},
      {"repo", OptionKind::kInt, {}, 1, 4, "repository to back up to"},
      {"delta", OptionKind::kBool, {}, 0, 0, "use checksums instead of timestamps to find changed files"},
      {"resume", OptionKind::kBool, {}, 0, 0, "resume an aborted backup"},
      {"checksum-page", OptionKind::kBool, {}, 0, 0, "validate data page checksums"},
      {"expire-auto", OptionKind::kBool, {}, 0, 0, "expire old backups after this one"},
  };
  return specs;
}

absl::StatusOr<BackupObject> ParseBackupObject(const std::string& text) {
  auto doc = ParseJsonObject(text, "backup definition");
  if (!doc.ok()) return doc.status();
  BackupObject b;
  const nlohmann::json& meta = ObjectAt(*doc, "metadata");
  b.name = StringAt(meta, "name");
  b.uid = StringAt(meta, "uid");
  if (b.name.empty()) return absl::InvalidArgumentError("backup definition has no metadata.name");
  const nlohmann::json& spec = ObjectAt(*doc, "spec");
  b.online = BoolAt(spec, "online", true);
  b.immediate_checkpoint = BoolAt(ObjectAt(spec, "onlineConfiguration"), "immediateCheckpoint", false);
  return b;
}

absl::StatusOr<std::vector<std::string>> BackupFlags(const std::map<std::string, std::string>& parameters) {
  std::vector<std::string> flags;
  for (const auto& [key, value] : parameters) {
    const BackupOptionSpec* spec = nullptr;
    for (const auto& s : BackupOptionSpecs())
      if (key == s.name) spec = &s;
    if (!spec) {
      std::vector<std::string> known;
      for (const auto& s : BackupOptionSpecs()) known.push_back(s.name);
      return absl::InvalidArgumentError(absl::StrCat("Backup parameter ", Quoted(key),
                                                     " is not a pgBackRest backup option this ",
                                                     "plugin accepts (accepted: ", absl::StrJoin(known, ", "), ")"));
    }
    switch (spec->kind) {
      case OptionKind::kEnum: {
        bool ok = false;
        for (const char* v : spec->values) ok |= value == v;
        if (!ok)
          return absl::InvalidArgumentError(absl::StrCat("Backup parameter ", key, ": ", Quoted(value),
                                                         " is not one of ", absl::StrJoin(spec->values, ", ")));
        flags.push_back(absl::StrCat("--", key, "=", value));
        break;
      }
      case OptionKind::kBool:
        if (value == "y" || value == "true" || value == "yes") {
          flags.push_back(absl::StrCat("--", key));
        } else if (value == "n" || value == "false" || value == "no") {
          flags.push_back(absl::StrCat("--no-", key));
        } else {
          return absl::InvalidArgumentError(
              absl::StrCat("Backup parameter ", key, ": ", Quoted(value), " is not a boolean (true or false)"));
        }
        break;
      case OptionKind::kInt: {
        int n = 0;
        if (!absl::SimpleAtoi(value, &n) || n < spec->min || n > spec->max)
          return absl::InvalidArgumentError(absl::StrCat("Backup parameter ", key, ": ", Quoted(value),
                                                         " is not an integer between ", spec->min, " and ", spec->max));
        flags.push_back(absl::StrCat("--", key, "=", n));
        break;
      }
    }
  }
  return flags;
}

}  // namespace cnpgi_pgbackrest
