#include "common/wal_name.h"

#include <cstdio>

#include <sys/stat.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

#include "common/text.h"

namespace cnpgi_pgbackrest {
namespace {

bool IsUpperHex(absl::string_view s) {
  for (char c : s)
    if (!absl::ascii_isdigit(c) && !(c >= 'A' && c <= 'F')) return false;
  return true;
}

}  // namespace

std::optional<WalFileKind> ClassifyWalName(absl::string_view name) {
  if (name.size() == 24 && IsUpperHex(name)) return WalFileKind::kSegment;
  if (name.size() == 32 && absl::EndsWith(name, ".partial") && IsUpperHex(name.substr(0, 24)))
    return WalFileKind::kPartial;
  if (name.size() == 16 && absl::EndsWith(name, ".history") && IsUpperHex(name.substr(0, 8)))
    return WalFileKind::kHistory;
  // 000000010000000000000002.00000028.backup
  if (name.size() == 40 && absl::EndsWith(name, ".backup") && name[24] == '.' && IsUpperHex(name.substr(0, 24)) &&
      IsUpperHex(name.substr(25, 8)))
    return WalFileKind::kBackupHistory;
  return std::nullopt;
}

std::optional<std::string> NextWalSegment(absl::string_view segment) {
  if (ClassifyWalName(segment) != WalFileKind::kSegment) return std::nullopt;
  unsigned tli = 0, log = 0, seg = 0;
  std::string s(segment);
  if (std::sscanf(s.c_str(), "%8X%8X%8X", &tli, &log, &seg) != 3) return std::nullopt;
  // 16 MiB segments: 256 per 4 GiB "log" file. A larger segment number is no 16 MiB segment's,
  // and the last log file of a timeline has no successor: no guess then (found by fuzzing:
  // seg FFFFFFFF wrapped to 0 and "next" sorted before the segment).
  if (seg > 0xFF || (seg == 0xFF && log == 0xFFFFFFFF)) return std::nullopt;
  if (++seg > 0xFF) {
    seg = 0;
    ++log;
  }
  char out[25];
  std::snprintf(out, sizeof out, "%08X%08X%08X", tli, log, seg);
  return std::string(out);
}

absl::Status CheckCleanAbsolutePath(absl::string_view path, absl::string_view what) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  if (path.front() != '/')
    return absl::InvalidArgumentError(absl::StrCat(what, " ", Quoted(path), " is not an absolute path"));
  if (path.find('\0') != absl::string_view::npos)
    return absl::InvalidArgumentError(absl::StrCat(what, " contains a NUL byte"));
  for (absl::string_view part : absl::StrSplit(path.substr(1), '/')) {
    if (part.empty() || part == "." || part == "..")
      return absl::InvalidArgumentError(
          absl::StrCat(what, " ", Quoted(path), " must not contain empty, '.' or '..' components"));
  }
  return absl::OkStatus();
}

absl::Status RequireRegularWalFile(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return absl::NotFoundError(absl::StrCat("WAL file ", path, " does not exist"));
  if (S_ISLNK(st.st_mode))
    return absl::InvalidArgumentError(absl::StrCat("WAL file ", path, " is a symbolic link; PostgreSQL never links ",
                                                   "WAL files, so it is not archived (remove the link)"));
  if (!S_ISREG(st.st_mode))
    return absl::InvalidArgumentError(absl::StrCat("WAL file ", path, " is not a regular file"));
  return absl::OkStatus();
}

bool IsInsideDirectory(absl::string_view path, absl::string_view dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
  return path.size() > dir.size() + 1 && absl::StartsWith(path, dir) && path[dir.size()] == '/';
}

}  // namespace cnpgi_pgbackrest
