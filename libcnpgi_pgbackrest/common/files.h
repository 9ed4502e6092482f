// Whole-file reads and atomic writes for small files (configs, status, cgroup values).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cnpgi_pgbackrest {

// The whole file; NOT_FOUND, PERMISSION_DENIED or INTERNAL naming the path and the reason.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// The file's contents; empty when it cannot be read (for files whose absence means "nothing").
std::string ReadFileText(const std::string& path);

// The names in a directory (no "." or ".."), unsorted; empty when it cannot be read.
std::vector<std::string> ListDirectory(const std::string& dir);

// fsync of a directory, so that renames and creations in it survive a crash (best effort).
void SyncDirectory(const std::string& dir);

// Atomically replaces path with content (mode 0600): readers never see half a file.
absl::Status WriteFileAtomically(const std::string& path, const std::string& content);

}  // namespace cnpgi_pgbackrest
