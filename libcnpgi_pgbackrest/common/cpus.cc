#include "common/cpus.h"

#include <algorithm>
#include <sched.h>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

#include "common/files.h"

namespace cnpgi_pgbackrest {
namespace {

int CeilDiv(long long quota, long long period) {
  if (quota <= 0 || period <= 0) return 0;
  return static_cast<int>((quota + period - 1) / period);
}

}  // namespace

int CpusFromCgroupV2(absl::string_view cpu_max) {
  std::vector<absl::string_view> f = absl::StrSplit(absl::StripAsciiWhitespace(cpu_max), ' ', absl::SkipEmpty());
  long long quota = 0, period = 100000;
  if (f.empty() || f[0] == "max" || !absl::SimpleAtoi(f[0], &quota)) return 0;
  if (f.size() > 1 && !absl::SimpleAtoi(f[1], &period)) return 0;
  return CeilDiv(quota, period);
}

int CpusFromCgroupV1(absl::string_view quota_us, absl::string_view period_us) {
  long long quota = 0, period = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(quota_us), &quota) ||
      !absl::SimpleAtoi(absl::StripAsciiWhitespace(period_us), &period))
    return 0;
  return CeilDiv(quota, period);
}

int UsableCpus() {
  int cpus = static_cast<int>(std::thread::hardware_concurrency());
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) cpus = CPU_COUNT(&set);
  int cap = CpusFromCgroupV2(ReadFileText("/sys/fs/cgroup/cpu.max"));
  if (cap == 0)
    cap = CpusFromCgroupV1(ReadFileText("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
                           ReadFileText("/sys/fs/cgroup/cpu/cpu.cfs_period_us"));
  if (cap > 0) cpus = std::min(cpus, cap);
  return std::max(cpus, 1);
}

}  // namespace cnpgi_pgbackrest
