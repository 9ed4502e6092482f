#include "config/names.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "common/text.h"

namespace cnpgi_pgbackrest {
namespace {

constexpr std::size_t kMaxStanzaLength = 100;

bool IsNameChar(char c) { return absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.'; }

}  // namespace

bool IsResourceName(absl::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s)
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' || c == '.')) return false;
  return absl::ascii_isalnum(s.front()) && absl::ascii_isalnum(s.back());
}

bool IsSecretKey(absl::string_view s) {
  if (s.empty() || s.size() > 253 || s == "." || absl::StartsWith(s, "..")) return false;
  for (char c : s)
    if (!IsNameChar(c)) return false;
  return true;
}

absl::Status CheckStanzaName(absl::string_view stanza, absl::string_view field) {
  if (stanza.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": must not be empty"));
  bool ok = stanza.size() <= kMaxStanzaLength && absl::ascii_isalnum(stanza.front());
  for (char c : stanza) ok = ok && IsNameChar(c);
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      field, ": ", Quoted(stanza), " is not a valid stanza name (letters, digits, '-', '_' and '.', starting with a ",
      "letter or digit, at most ", kMaxStanzaLength, " characters): it names directories in the repository"));
}

absl::Status CheckResourceName(absl::string_view name, absl::string_view field, absl::string_view kind) {
  if (IsResourceName(name)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", Quoted(name), " is not a valid ", kind,
                                                 " name (lowercase letters, digits, '-' and '.')"));
}

}  // namespace cnpgi_pgbackrest
