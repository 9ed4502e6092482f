// One-line JSON logs on stderr, the format Kubernetes log collectors and CNPG's own logs use.
#pragma once

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace cnpgi_pgbackrest {

using LogField = std::pair<absl::string_view, absl::string_view>;

// Writes {"ts":...,"level":...,"msg":...,fields...}; never pass secret values.
void Log(absl::string_view level, absl::string_view msg, std::initializer_list<LogField> fields = {});
// The same with fields computed at run time.
void LogFields(absl::string_view level, absl::string_view msg,
               const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace cnpgi_pgbackrest
