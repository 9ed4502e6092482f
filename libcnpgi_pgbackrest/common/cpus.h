// How many CPUs this process may really use, for parallelism defaults.
#pragma once

#include "absl/strings/string_view.h"

namespace cnpgi_pgbackrest {

// The affinity mask's CPU count, capped by the container's CPU limit (cgroup quota): on a 64-core
// node a sidecar limited to 2 CPUs must not start 64 pgBackRest processes. At least 1.
int UsableCpus();

// The CPU cap of a cgroup v2 `cpu.max` ("max 100000" or "<quota> <period>"), rounded up; 0 = none.
int CpusFromCgroupV2(absl::string_view cpu_max);

// The CPU cap of cgroup v1 `cpu.cfs_quota_us` and `cpu.cfs_period_us` (quota -1: none), rounded up; 0 = none.
int CpusFromCgroupV1(absl::string_view quota_us, absl::string_view period_us);

}  // namespace cnpgi_pgbackrest
