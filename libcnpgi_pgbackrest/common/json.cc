#include "common/json.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include "common/status_macros.h"

namespace cnpgi_pgbackrest {
namespace {

using json = nlohmann::json;

// The deepest nesting of arrays and objects in text, counted without parsing (strings skipped),
// stopping as soon as the limit is passed.
int NestingDepth(absl::string_view text, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > deepest && (deepest = depth) > limit) return deepest;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

const json* MemberAt(const json& obj, absl::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(std::string(key));
  return it == obj.end() ? nullptr : &*it;
}

}  // namespace

absl::StatusOr<json> ParseJson(absl::string_view text, absl::string_view what) {
  if (NestingDepth(text, kMaxJsonDepth) > kMaxJsonDepth)
    return absl::InvalidArgumentError(absl::StrCat(what, " is nested more than ", kMaxJsonDepth,
                                                   " levels deep (Kubernetes refuses such objects too)"));
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(what, " is not valid JSON"));
  return doc;
}

absl::StatusOr<json> ParseJsonObject(absl::string_view text, absl::string_view what) {
  ASSIGN_OR_RETURN(auto doc, ParseJson(text, what));
  if (!doc.is_object()) return absl::InvalidArgumentError(absl::StrCat(what, " is not a JSON object"));
  return doc;
}

std::string StringAt(const json& obj, absl::string_view key) {
  const json* v = MemberAt(obj, key);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

const json& ObjectAt(const json& obj, absl::string_view key) {
  static const json empty = json::object();
  const json* v = MemberAt(obj, key);
  return v && v->is_object() ? *v : empty;
}

const json& ArrayAt(const json& obj, absl::string_view key) {
  static const json empty = json::array();
  const json* v = MemberAt(obj, key);
  return v && v->is_array() ? *v : empty;
}

int64_t IntAt(const json& obj, absl::string_view key, int64_t fallback) {
  const json* v = MemberAt(obj, key);
  return v && v->is_number_integer() ? v->get<int64_t>() : fallback;
}

bool BoolAt(const json& obj, absl::string_view key, bool fallback) {
  const json* v = MemberAt(obj, key);
  return v && v->is_boolean() ? v->get<bool>() : fallback;
}

}  // namespace cnpgi_pgbackrest
