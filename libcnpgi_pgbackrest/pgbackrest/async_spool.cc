#include "pgbackrest/async_spool.h"

#include <fstream>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

#include "common/files.h"

namespace cnpgi_pgbackrest {

AsyncPushSpool AsyncPushSpoolFor(const std::string& archive_dir, const std::string& stanza) {
  return {absl::StrCat(archive_dir, "/spool/archive/", stanza, "/out"),
          absl::StrCat(archive_dir, "/lock/", stanza, "-archive.lock")};
}

bool AsyncPushStored(const AsyncPushSpool& spool, const std::string& segment, std::string* warning) {
  std::string path = absl::StrCat(spool.out_dir, "/", segment, ".ok");
  if (!warning) return access(path.c_str(), F_OK) == 0;
  if (access(path.c_str(), F_OK) != 0) return false;
  // "<code>\n<message>" when the push succeeded with a warning; empty otherwise.
  std::string body = ReadFileText(path);
  auto nl = body.find('\n');
  *warning = nl == std::string::npos ? std::string() : std::string(absl::StripAsciiWhitespace(body.substr(nl + 1)));
  return true;
}

bool AsyncPushWorkerRunning(const AsyncPushSpool& spool) {
  struct stat st;
  if (stat(spool.lock_file.c_str(), &st) != 0) return false;
  // Lines read "1: FLOCK  ADVISORY  WRITE 1234 fe:00:10985584 0 EOF"; "->" marks a blocked waiter.
  std::ifstream locks("/proc/locks");
  std::string line;
  while (std::getline(locks, line)) {
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (f.size() < 6 || f[1] == "->" || f[1] != "FLOCK") continue;
    std::vector<absl::string_view> dev = absl::StrSplit(f[5], ':');
    unsigned long major = 0, minor = 0;
    unsigned long long inode = 0;
    if (dev.size() != 3 || !absl::SimpleHexAtoi(dev[0], &major) || !absl::SimpleHexAtoi(dev[1], &minor) ||
        !absl::SimpleAtoi(dev[2], &inode))
      continue;
    if (inode == st.st_ino && major == ::major(st.st_dev) && minor == ::minor(st.st_dev)) return true;
  }
  return false;
}

}  // namespace cnpgi_pgbackrest
