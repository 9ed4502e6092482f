// Whole-file reads and atomic writes for small files (configs, status, cgroup values).
#pragma once

#include <string>

#include "absl/status/status.h"

namespace cnpgi_pgbackrest {

// The file's contents; empty when it cannot be read.
std::string ReadFileText(const std::string& path);

// Atomically replaces path with content (mode 0600): readers never see half a file.
absl::Status WriteFileAtomically(const std::string& path, const std::string& content);

}  // namespace cnpgi_pgbackrest
