// One-line JSON logs on stderr, the format Kubernetes log collectors and CNPG's own logs use.
#pragma once

#include "absl/strings/string_view.h"
#include <initializer_list>
#include <string_view>
#include <utility>

namespace cnpgi_pgbackrest {

using LogField = std::pair<absl::string_view, absl::string_view>;

// Writes {"ts":...,"level":...,"msg":...,fields...}; never pass secret values.
void Log(absl::string_view level, absl::string_view msg, std::initializer_list<LogField> fields = {});

}  // namespace cnpgi_pgbackrest
