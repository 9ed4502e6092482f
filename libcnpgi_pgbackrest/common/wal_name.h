// PostgreSQL WAL file names and the paths the instance manager hands us.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace cnpgi_pgbackrest {

enum class WalFileKind { kSegment, kPartial, kHistory, kBackupHistory };

// What kind of WAL file the name denotes, or nothing for a name PostgreSQL never archives.
std::optional<WalFileKind> ClassifyWalName(absl::string_view name);

// The segment after this one (24 hex digits), for a segment size of 16 MiB.
std::optional<std::string> NextWalSegment(absl::string_view segment);

// OK when path is absolute with no empty, "." or ".." components.
absl::Status CheckCleanAbsolutePath(absl::string_view path, absl::string_view what);

// OK when path is a regular file, not a symbolic link: PostgreSQL never links WAL files, and
// pgBackRest would store whatever a link points to, inside PGDATA or not. Only the last component
// is looked at (pg_wal itself may be a link to the WAL volume). NOT_FOUND when it does not exist.
absl::Status RequireRegularWalFile(const std::string& path);

// True when path lies strictly inside dir (both clean and absolute).
bool IsInsideDirectory(absl::string_view path, absl::string_view dir);

}  // namespace cnpgi_pgbackrest
