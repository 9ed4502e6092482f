#include "restore_job/recovery_target.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "common/status_macros.h"
#include "common/text.h"

namespace cnpgi_pgbackrest {
namespace {

constexpr const char* kPath = "spec.bootstrap.recovery.recoveryTarget";

std::string Describe(const BackupRecord& b) {
  return absl::StrCat(
      b.label, " (ended ",
      absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixSeconds(b.stop_time), absl::UTCTimeZone()), ", LSN ",
      b.lsn_stop, ")");
}

}  // namespace

absl::StatusOr<absl::Time> ParseTargetTime(const std::string& text) {
  std::string t = std::string(absl::StripAsciiWhitespace(text));
  if (t.size() > 10 && t[10] == ' ') t[10] = 'T';
  // "+02" / "-0530" offsets as PostgreSQL prints them → "+02:00" / "-05:30".
  auto sign = t.find_last_of("+-");
  if (sign != std::string::npos && sign > 10) {
    std::string off = t.substr(sign + 1);
    if (off.size() == 2) t += ":00";
    if (off.size() == 4 && off.find(':') == std::string::npos) t = t.substr(0, sign + 3) + ":" + off.substr(2);
  } else if (!t.empty() && t.back() != 'Z' && t.back() != 'z') {
    t += "Z";  // CNPG's images run PostgreSQL in UTC
  }
  absl::Time out;
  std::string err;
  if (absl::ParseTime("%Y-%m-%d%ET%H:%M:%E*S%Ez", t, &out, &err)) return out;
  if (absl::ParseTime("%Y-%m-%d%ET%H:%M%Ez", t, &out, &err)) return out;
  return absl::InvalidArgumentError(absl::StrCat(kPath, ".targetTime: ", Quoted(text),
                                                 " is not a timestamp like 2026-11-21 07:15:00+00 or "
                                                 "2026-11-21T07:15:00Z"));
}

absl::StatusOr<RecoveryTarget> ParseRecoveryTarget(const nlohmann::json& target) {
  RecoveryTarget t;
  if (target.is_null()) return t;
  if (!target.is_object()) return absl::InvalidArgumentError(absl::StrCat(kPath, ": must be an object"));
  auto str = [&](const char* key) -> absl::StatusOr<std::string> {
    auto it = target.find(key);
    if (it == target.end() || it->is_null()) return std::string();
    if (it->is_string()) return it->get<std::string>();
    if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
    return absl::InvalidArgumentError(absl::StrCat(kPath, ".", key, ": must be a string"));
  };
  for (auto [key, field] :
       {std::pair{"backupID", &t.backup_id}, std::pair{"targetTime", &t.time_text}, std::pair{"targetLSN", &t.lsn_text},
        std::pair{"targetXID", &t.xid}, std::pair{"targetName", &t.name}, std::pair{"targetTLI", &t.timeline}}) {
    ASSIGN_OR_RETURN(auto v, str(key));
    *field = v;
  }
  if (auto it = target.find("targetImmediate"); it != target.end() && it->is_boolean()) t.immediate = it->get<bool>();
  if (!t.time_text.empty()) {
    ASSIGN_OR_RETURN(auto time, ParseTargetTime(t.time_text));
    t.time = time;
  }
  if (!t.lsn_text.empty()) {
    t.lsn = ParseLsn(t.lsn_text);
    if (!t.lsn)
      return absl::InvalidArgumentError(
          absl::StrCat(kPath, ".targetLSN: ", Quoted(t.lsn_text), " is not an LSN like 0/3000060"));
  }
  int exclusive_targets = (t.time ? 1 : 0) + (t.lsn ? 1 : 0) + !t.xid.empty() + !t.name.empty() + t.immediate;
  if (exclusive_targets > 1)
    return absl::InvalidArgumentError(
        absl::StrCat(kPath, ": set only one of targetTime, targetLSN, targetXID, targetName and targetImmediate"));
  return t;
}

absl::StatusOr<BackupRecord> SelectBackup(const StanzaCatalog& catalog, const RecoveryTarget& target) {
  std::vector<const BackupRecord*> usable;
  for (const auto& b : catalog.backups)
    if (!b.error) usable.push_back(&b);
  if (usable.empty())
    return absl::FailedPreconditionError(absl::StrCat("stanza '", catalog.name, "' has no usable backup to restore"));
  auto ends_before_target = [&](const BackupRecord& b) {
    if (target.time && absl::FromUnixSeconds(b.stop_time) > *target.time) return false;
    if (target.lsn) {
      auto stop = ParseLsn(b.lsn_stop);
      if (!stop || *stop > *target.lsn) return false;
    }
    return true;
  };
  if (!target.backup_id.empty()) {
    for (const BackupRecord* b : usable) {
      if (b->label != target.backup_id) continue;
      if (!ends_before_target(*b))
        return absl::FailedPreconditionError(absl::StrCat(
            kPath, ": backup ", Describe(*b), " ends after the recovery target, which it therefore cannot reach"));
      return *b;
    }
    std::vector<std::string> labels;
    for (const BackupRecord* b : usable) labels.push_back(b->label);
    return absl::NotFoundError(absl::StrCat(kPath, ".backupID: backup ", Quoted(target.backup_id),
                                            " is not in stanza '", catalog.name,
                                            "' (available: ", absl::StrJoin(labels, ", "), ")"));
  }
  for (auto it = usable.rbegin(); it != usable.rend(); ++it)
    if (ends_before_target(**it)) return **it;
  std::string what =
      target.time ? absl::StrCat("targetTime ", target.time_text) : absl::StrCat("targetLSN ", target.lsn_text);
  return absl::FailedPreconditionError(absl::StrCat(kPath, ": no backup in stanza '", catalog.name, "' ends before ",
                                                    what, "; the oldest is ", Describe(*usable.front())));
}

}  // namespace cnpgi_pgbackrest
