// Whose database a stanza belongs to, and what to do before writing into it: create it, use it,
// stanza-upgrade it after a PostgreSQL major upgrade, or refuse (it belongs to another database).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cnpgi_pgbackrest {

// What to do about a stanza of another database.
inline constexpr absl::string_view kNewStanzaAdvice =
    "give this Cluster a new stanza (parameters.stanza) or another repository destinationPath";
// Appended to pgBackRest's own refusals (archive-push [ArchiveMismatchError], backup [051],
// stanza-create [028]).
inline constexpr absl::string_view kForeignStanzaHint =
    "this stanza belongs to another database: give this Cluster a new stanza (parameters.stanza) or another "
    "repository destinationPath; after an in-place PostgreSQL major upgrade the plugin runs stanza-upgrade once "
    "the Cluster's status.pgDataImageInfo.majorVersion shows the new version";

// One database a stanza records: archive.info's [db] section or one [db:history] entry.
struct StanzaDatabase {
  int id = 0;  // db-id: pgBackRest's history number (the "15-1" of an archive id)
  std::uint64_t system_id = 0;
  std::string version;  // "15", "9.6"
};

// archive.info of a stanza, as pgBackRest writes it (src/info/infoPg.c: [db] and [db:history]).
struct ArchiveInfo {
  StanzaDatabase current;               // [db]
  std::vector<StanzaDatabase> history;  // [db:history], oldest first
};

// Parses archive.info text; errors say which key is missing or malformed.
absl::StatusOr<ArchiveInfo> ParseArchiveInfo(absl::string_view text);

// The local PostgreSQL data directory's own identity.
struct LocalDatabase {
  std::uint64_t system_id = 0;  // pg_control's system identifier
  std::string version;          // PG_VERSION: the major version
};

// Reads PGDATA/PG_VERSION and the system identifier from PGDATA/global/pg_control (its first
// field, in the machine's byte order: pg_control is never moved between architectures).
absl::StatusOr<LocalDatabase> ReadLocalDatabase(const std::string& pgdata);

// PostgreSQL major versions compared as numbers ("9.6" < "10" < "15"); nullopt when unparsable.
std::optional<int> CompareMajorVersions(absl::string_view a, absl::string_view b);

// The Cluster's status.pgDataImageInfo.majorVersion ({"image": ..., "majorVersion": 16}): the
// major version that last ran on the data directory; nullopt when absent.
std::optional<int> PgDataMajorVersion(const nlohmann::json& cluster_status);

enum class StanzaAction {
  kUse,      // the stanza is this database's
  kUpgrade,  // PostgreSQL was upgraded in place: run stanza-upgrade, then use
  kRefuse,   // never write into it: `reason` says why and what to do
};

struct StanzaDecision {
  StanzaAction action = StanzaAction::kUse;
  std::string reason;  // for kRefuse (an error message) and kUpgrade (the log line)
};

// The decision for one repository's stanza. cluster_major_version is the Cluster's
// status.pgDataImageInfo.majorVersion (CNPG records it once an in-place major upgrade of the data
// directory succeeded); nullopt when the status has none. `what` names the stanza and repository.
StanzaDecision DecideStanza(const ArchiveInfo& stanza, const LocalDatabase& local,
                            std::optional<int> cluster_major_version, absl::string_view what);

}  // namespace cnpgi_pgbackrest
