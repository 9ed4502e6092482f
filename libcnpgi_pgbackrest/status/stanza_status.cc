#include "status/stanza_status.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"

#include "common/json.h"
#include "common/text.h"
#include "pgbackrest/runner.h"

namespace cnpgi_pgbackrest {
namespace {

using json = nlohmann::json;

// Messages go into an API object: printable and bounded (the CRD allows 32 KiB per condition).
std::string Message(const std::string& text) { return CappedMessage(CleanPgbackrestMessage(text)); }

// The fact when the sidecar has one, else the previous entry's value of field.
void Keep(json& entry, const char* field, const std::string& fact, const json& previous) {
  if (!fact.empty())
    entry[field] = fact;
  else if (auto it = previous.find(field); it != previous.end() && it->is_string())
    entry[field] = *it;
}

json PreviousCondition(const json& previous, const std::string& type) {
  if (auto it = previous.find("conditions"); it != previous.end() && it->is_array())
    for (const auto& c : *it)
      if (StringAt(c, "type") == type) return c;
  return json::object();
}

json Condition(const json& previous, const std::string& type, const std::string& status, const std::string& reason,
               const std::string& message, int64_t now) {
  json before = PreviousCondition(previous, type);
  std::string since = StringAt(before, "lastTransitionTime");
  if (StringAt(before, "status") != status || ParseRfc3339(since) == 0) since = Rfc3339(now);
  return {{"type", type},
          {"status", status},
          {"reason", reason},
          {"message", Message(message)},
          {"lastTransitionTime", since}};
}

json PreviousRepository(const json& previous, int key) {
  if (auto it = previous.find("repositories"); it != previous.end() && it->is_array())
    for (const auto& r : *it)
      if (IntAt(r, "repo") == key) return r;
  return json::object();
}

// An unreachable repository keeps the figures last read from it: unreachable is not empty.
json UnreachableRepository(const json& previous, int key, const std::string& message) {
  json r = {{"repo", key}, {"reachable", false}, {"message", Message(message)}};
  json before = PreviousRepository(previous, key);
  for (const char* field : {"backupSets", "backupBytes", "walBytes"})
    if (auto it = before.find(field); it != before.end() && it->is_number_integer()) r[field] = *it;
  return r;
}

}  // namespace

std::string Rfc3339(int64_t unix_seconds) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(unix_seconds), absl::UTCTimeZone());
}

int64_t ParseRfc3339(const std::string& text) {
  absl::Time t;
  std::string err;
  if (text.empty() || !absl::ParseTime(absl::RFC3339_full, text, &t, &err)) return 0;
  return absl::ToUnixSeconds(t);
}

json BuildStanzaStatus(const StanzaFacts& facts, const RepositoryState& state, const json& previous, int64_t now) {
  json entry = json::object();
  if (!facts.cluster.empty()) entry["cluster"] = facts.cluster;

  // Backups: from the repositories when info could run, else as last known.
  const StanzaCatalog* catalog = state.catalog.ok() ? &*state.catalog : nullptr;
  if (catalog) {
    const BackupRecord *oldest = nullptr, *newest = nullptr;
    for (const auto& b : catalog->backups) {
      if (!oldest || b.stop_time < oldest->stop_time) oldest = &b;
      if (!newest || b.stop_time >= newest->stop_time) newest = &b;
    }
    if (oldest) entry["firstRecoverabilityPoint"] = Rfc3339(oldest->stop_time);
    if (newest) {
      entry["lastSuccessfulBackup"] = Rfc3339(newest->stop_time);
      entry["lastSuccessfulBackupId"] = newest->label;
    }
  } else {
    for (const char* field : {"firstRecoverabilityPoint", "lastSuccessfulBackup", "lastSuccessfulBackupId"})
      Keep(entry, field, "", previous);
  }
  Keep(entry, "lastFailedBackup", facts.last_failed_backup_unix ? Rfc3339(facts.last_failed_backup_unix) : "",
       previous);
  Keep(entry, "lastFailedBackupMessage",
       facts.last_failed_backup_unix ? Message(facts.last_backup_failure) : std::string(), previous);

  // WAL: this sidecar's own calls, else what the entry said before it started.
  Keep(entry, "lastArchivedWAL", facts.last_archived_wal, previous);
  Keep(entry, "lastArchivedWALTime", facts.last_archived_unix ? Rfc3339(facts.last_archived_unix) : "", previous);
  Keep(entry, "lastFailedWAL", facts.last_failed_wal, previous);
  Keep(entry, "lastFailedWALTime", facts.last_failed_wal_unix ? Rfc3339(facts.last_failed_wal_unix) : "", previous);

  int64_t last_backup = ParseRfc3339(StringAt(entry, "lastSuccessfulBackup"));
  int64_t last_wal = ParseRfc3339(StringAt(entry, "lastArchivedWALTime"));
  if (std::max(last_backup, last_wal) > 0) entry["lastRecoverabilityPoint"] = Rfc3339(std::max(last_backup, last_wal));

  // Repositories, in the order pgBackRest numbers them.
  json repositories = json::array();
  std::vector<std::string> unreadable;
  if (catalog) {
    auto usage = BackupUsageByRepository(*catalog);
    for (const auto& r : catalog->repositories) {
      if (!r.readable()) {
        repositories.push_back(UnreachableRepository(previous, r.key, r.status_message));
        unreadable.push_back(absl::StrCat("repo", r.key, ": ", r.status_message));
        continue;
      }
      json repo = {
          {"repo", r.key}, {"reachable", true}, {"backupSets", usage[r.key].sets}, {"backupBytes", usage[r.key].bytes}};
      if (auto w = state.wal_bytes.find(r.key); w != state.wal_bytes.end()) repo["walBytes"] = w->second;
      repositories.push_back(std::move(repo));
    }
  } else {
    for (int key = 1; key <= facts.repositories; ++key)
      repositories.push_back(UnreachableRepository(previous, key, std::string(state.catalog.status().message())));
  }
  entry["repositories"] = std::move(repositories);

  json conditions = json::array();
  if (!catalog)
    conditions.push_back(Condition(previous, kRepositoryReachable, "False", "InfoFailed",
                                   std::string(state.catalog.status().message()), now));
  else if (!unreadable.empty())
    conditions.push_back(
        Condition(previous, kRepositoryReachable, "False", "Unreachable", absl::StrJoin(unreadable, "; "), now));
  else
    conditions.push_back(
        Condition(previous, kRepositoryReachable, "True", "Reachable",
                  absl::StrCat("pgbackrest info read every repository (", catalog->repositories.size(), ")"), now));

  int64_t last_failed_backup = ParseRfc3339(StringAt(entry, "lastFailedBackup"));
  if (last_failed_backup > 0 && last_failed_backup >= last_backup)
    conditions.push_back(Condition(previous, kLastBackupSucceeded, "False", "BackupFailed",
                                   StringAt(entry, "lastFailedBackupMessage"), now));
  else if (last_backup > 0)
    conditions.push_back(Condition(previous, kLastBackupSucceeded, "True", "BackupSucceeded",
                                   absl::StrCat("the newest backup is ", StringAt(entry, "lastSuccessfulBackupId")),
                                   now));
  else
    conditions.push_back(
        Condition(previous, kLastBackupSucceeded, "Unknown", "NoBackup", "no backup in the repositories yet", now));

  // The sidecar's own last call decides; before its first one, the times the entry carries.
  bool seen = facts.last_archived_unix > 0 || facts.last_failed_wal_unix > 0;
  int64_t last_failed_wal = ParseRfc3339(StringAt(entry, "lastFailedWALTime"));
  bool failing = seen ? facts.wal_failing : last_failed_wal > 0 && last_failed_wal >= last_wal;
  if (failing)
    conditions.push_back(Condition(previous, kWalArchiving, "False", "ArchiveFailed",
                                   seen ? absl::StrCat(facts.last_failed_wal, ": ", facts.last_wal_failure)
                                        : StringAt(PreviousCondition(previous, kWalArchiving), "message"),
                                   now));
  else if (last_wal > 0)
    conditions.push_back(
        Condition(previous, kWalArchiving, "True", "Archiving", "the last WAL archive request succeeded", now));
  else
    conditions.push_back(Condition(previous, kWalArchiving, "Unknown", "NoWALArchived",
                                   "no WAL archived since the sidecar started", now));
  entry["conditions"] = std::move(conditions);
  return entry;
}

}  // namespace cnpgi_pgbackrest
