#include "common/cpus.h"

#include <thread>

#include <doctest/doctest.h>

using namespace cnpgi_pgbackrest;

TEST_CASE("CPU limits from cgroup files, as Kubernetes sets them") {
  CHECK(CpusFromCgroupV2("max 100000\n") == 0);
  CHECK(CpusFromCgroupV2("200000 100000\n") == 2);
  CHECK(CpusFromCgroupV2("150000 100000") == 2);  // 1.5 CPUs: two processes can still use it
  CHECK(CpusFromCgroupV2("50000 100000") == 1);
  CHECK(CpusFromCgroupV2("") == 0);
  CHECK(CpusFromCgroupV2("garbage") == 0);
  CHECK(CpusFromCgroupV1("-1\n", "100000\n") == 0);
  CHECK(CpusFromCgroupV1("400000\n", "100000\n") == 4);
  CHECK(CpusFromCgroupV1("", "") == 0);
  int usable = UsableCpus();
  CHECK(usable >= 1);
  CHECK(usable <= static_cast<int>(std::max(std::thread::hardware_concurrency(), 1u)));
}
