// spec.bootstrap.recovery.recoveryTarget and the backup set it selects.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include "pgbackrest/catalog.h"

namespace cnpgi_pgbackrest {

struct RecoveryTarget {
  std::string backup_id;
  std::optional<absl::Time> time;
  std::string time_text;
  std::optional<uint64_t> lsn;
  std::string lsn_text;
  std::string xid;
  std::string name;
  std::string timeline;
  bool immediate = false;
};

// Parses the recoveryTarget object (absent: recover to the end of the archive).
absl::StatusOr<RecoveryTarget> ParseRecoveryTarget(const nlohmann::json& target);

// PostgreSQL / RFC 3339 timestamps as CNPG accepts them: "2026-11-21 07:15:00.123+02", "...T...Z".
absl::StatusOr<absl::Time> ParseTargetTime(const std::string& text);

// The backup to restore: by backupID, else the latest that ends before targetTime/targetLSN,
// else the latest. FAILED_PRECONDITION or NOT_FOUND when no backup can reach the target.
absl::StatusOr<BackupRecord> SelectBackup(const StanzaCatalog& catalog, const RecoveryTarget& target);

}  // namespace cnpgi_pgbackrest
