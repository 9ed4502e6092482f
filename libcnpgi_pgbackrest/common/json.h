// JSON that comes from outside the process (CNPG's requests, the Kubernetes API, pgBackRest's
// output): one parser with a depth limit, and lenient field readers that never throw.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cnpgi_pgbackrest {

// Kubernetes refuses objects nested deeper than this, so no real Cluster, Pod, Job or Archive is.
// nlohmann::json copies, compares and dumps recursively: a deeper document would exhaust a
// thread's stack, so it is refused before it is parsed.
inline constexpr int kMaxJsonDepth = 10000;

// Parses text; INVALID_ARGUMENT naming `what` when it is not JSON or is nested too deeply.
absl::StatusOr<nlohmann::json> ParseJson(absl::string_view text, absl::string_view what);

// As ParseJson, and the document must be an object.
absl::StatusOr<nlohmann::json> ParseJsonObject(absl::string_view text, absl::string_view what);

// obj[key] when obj is an object and the member has that type; otherwise the fallback.
// Outside input may put any type anywhere: these never throw.
std::string StringAt(const nlohmann::json& obj, absl::string_view key);
const nlohmann::json& ObjectAt(const nlohmann::json& obj, absl::string_view key);
const nlohmann::json& ArrayAt(const nlohmann::json& obj, absl::string_view key);
int64_t IntAt(const nlohmann::json& obj, absl::string_view key, int64_t fallback = 0);
bool BoolAt(const nlohmann::json& obj, absl::string_view key, bool fallback);

}  // namespace cnpgi_pgbackrest
