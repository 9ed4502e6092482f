// One entry of Archive.status.stanzaRecoveryWindow, built from what the sidecar knows: the facts
// it recorded in memory (WAL archiving, backups) and what the repositories hold. Pure: no I/O.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "pgbackrest/repository_state.h"

namespace cnpgi_pgbackrest {

// Condition types of an entry, and their reasons.
inline constexpr const char* kRepositoryReachable = "RepositoryReachable";
inline constexpr const char* kLastBackupSucceeded = "LastBackupSucceeded";
inline constexpr const char* kWalArchiving = "WALArchiving";

// What this sidecar saw since it started: empty strings and zeros mean "nothing yet".
struct StanzaFacts {
  std::string cluster;   // the Cluster archiving into the stanza
  int repositories = 1;  // in the Archive's spec, for when pgbackrest info could not run at all
  std::string last_archived_wal;
  int64_t last_archived_unix = 0;
  std::string last_failed_wal;
  int64_t last_failed_wal_unix = 0;
  std::string last_wal_failure;
  bool wal_failing = false;  // the last Archive call failed
  int64_t last_failed_backup_unix = 0;
  std::string last_backup_failure;
};

// The entry for the stanza. previous is the entry as last written, or as read from the Archive
// when the sidecar started ({} if none): what the facts do not know yet (a failure from before a
// restart, the backups of a repository that cannot be read now) is kept from it, and so is each
// condition's lastTransitionTime while its status stays the same. now (Unix seconds) stamps the
// transitions. Equal inputs give an equal entry, so an unchanged state needs no write.
nlohmann::json BuildStanzaStatus(const StanzaFacts& facts, const RepositoryState& state, const nlohmann::json& previous,
                                 int64_t now);

// Unix seconds as RFC 3339 UTC ("2026-12-01T10:10:10Z"), and back (0 for anything else).
std::string Rfc3339(int64_t unix_seconds);
int64_t ParseRfc3339(const std::string& text);

}  // namespace cnpgi_pgbackrest
