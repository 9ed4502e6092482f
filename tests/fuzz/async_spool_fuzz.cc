// The .ok file pgBackRest's async archive-push worker leaves for a segment: the input is its
// content. Never a crash; the segment counts as stored; the warning is the text after the first
// line, trimmed, and empty without one.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "fuzz_check.h"
#include "pgbackrest/async_spool.h"

using namespace cnpgi_pgbackrest;

namespace {

const AsyncPushSpool& Spool() {
  static const AsyncPushSpool* spool = [] {
    char dir[] = "/tmp/cnpgi-spool-fuzz-XXXXXX";
    FUZZ_CHECK(mkdtemp(dir) != nullptr);
    auto* s = new AsyncPushSpool(AsyncPushSpoolFor(dir, "main"));
    std::filesystem::create_directories(s->out_dir);
    static std::string root = dir;
    std::atexit([] { std::filesystem::remove_all(root); });
    return s;
  }();
  return *spool;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  absl::string_view body = FuzzText(data, size);
  const std::string segment = "000000010000000000000001";
  std::string path = Spool().out_dir + "/" + segment + ".ok";
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(body.data(), static_cast<std::streamsize>(body.size()));
  std::string warning = "unset";
  FUZZ_CHECK(AsyncPushStored(Spool(), segment, &warning));
  FUZZ_CHECK(AsyncPushStored(Spool(), segment));
  if (body.find('\n') == absl::string_view::npos) FUZZ_CHECK(warning.empty());
  if (!warning.empty()) {
    FUZZ_CHECK(!IsSpace(warning.front()) && !IsSpace(warning.back()));
    FUZZ_CHECK(body.find(warning) != absl::string_view::npos);
  }
  unlink(path.c_str());
  FUZZ_CHECK(!AsyncPushStored(Spool(), segment, &warning));
  return 0;
}
