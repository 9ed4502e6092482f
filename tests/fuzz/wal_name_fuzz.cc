// WAL file names and the paths the instance manager sends: the input is a name, or
// "path\ndirectory". Never a crash; a next segment is a segment of the same timeline that sorts
// after its predecessor; a clean path lies inside a directory only below it.
#include <string>

#include "common/wal_name.h"
#include "fuzz_check.h"

using namespace cnpgi_pgbackrest;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  absl::string_view text = FuzzText(data, size);
  auto kind = ClassifyWalName(text);
  auto next = NextWalSegment(text);
  if (next) {
    FUZZ_CHECK(kind == WalFileKind::kSegment);
    FUZZ_CHECK(ClassifyWalName(*next) == WalFileKind::kSegment);
    FUZZ_CHECK(next->substr(0, 8) == text.substr(0, 8));
    FUZZ_CHECK(*next > text);
  }
  if (kind) FUZZ_CHECK(text.find('/') == absl::string_view::npos);

  auto nl = text.find('\n');
  absl::string_view path = text.substr(0, nl);
  absl::string_view dir = nl == absl::string_view::npos ? absl::string_view("/") : text.substr(nl + 1);
  bool clean = CheckCleanAbsolutePath(path, "path").ok();
  if (clean) {
    FUZZ_CHECK(path.front() == '/' && path.find("/../") == absl::string_view::npos);
    FUZZ_CHECK(!IsInsideDirectory(path, path));
    FUZZ_CHECK(IsInsideDirectory(std::string(path) + "/x", path));
  }
  if (IsInsideDirectory(path, dir)) {
    absl::string_view d = dir;
    while (d.size() > 1 && d.back() == '/') d.remove_suffix(1);
    FUZZ_CHECK(path.substr(0, d.size()) == d && path[d.size()] == '/');
  }
  return 0;
}
