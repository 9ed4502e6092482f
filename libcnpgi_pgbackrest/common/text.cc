#include "common/text.h"

#include "absl/strings/str_cat.h"

namespace cnpgi_pgbackrest {
namespace {

// Leaves room in gRPC's 8 KiB metadata for the other headers of a status.
constexpr std::size_t kMaxMessageBytes = 4096;

// Cuts s to at most n bytes without splitting a UTF-8 sequence.
absl::string_view Prefix(absl::string_view s, std::size_t n) {
  if (s.size() <= n) return s;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

}  // namespace

std::string Quoted(absl::string_view value, std::size_t max_chars) {
  if (value.size() <= max_chars) return absl::StrCat("'", value, "'");
  return absl::StrCat("'", Prefix(value, max_chars), "…' (", value.size(), " bytes)");
}

std::string CappedMessage(absl::string_view message) {
  if (message.size() <= kMaxMessageBytes) return std::string(message);
  return absl::StrCat(Prefix(message, kMaxMessageBytes), "… (message cut, ", message.size(), " bytes)");
}

}  // namespace cnpgi_pgbackrest
