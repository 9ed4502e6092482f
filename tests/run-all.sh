#!/bin/bash
# Runs every test: unit tests and integration tests against real PostgreSQL 15,
# pgBackRest and one Ceph RGW started for the whole run. Installs what is missing.
# Ends with the line "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

tools/install-deps.sh --tests
tools/build.sh -Dintegration=required

# One S3 service for the whole run; the tests read CNPGI_TEST_S3_* from its env file.
rgw_dir=${CNPGI_RGW_DIR:-/tmp/cnpgi-rgw}
stop_rgw() { tests/services/rgw.sh stop "$rgw_dir" >/dev/null 2>&1 || true; }
trap stop_rgw EXIT
if tests/services/rgw.sh start "$rgw_dir"; then
  # shellcheck disable=SC1091
  source "$rgw_dir/env"
else
  echo "*** the S3 test service did not start; the S3 tests will fail ***" >&2
fi

set +e
meson test -C build --print-errorlogs --num-processes 2 "$@"
status=$?
set -e
stop_rgw
trap - EXIT

# One summary line from meson's log, for CI.
python3 - "$root/build/meson-logs/testlog.json" <<'PY'
import json, sys
counts = {"passed": 0, "failed": 0, "skipped": 0}
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"):
        counts["passed"] += 1
    elif r == "SKIP":
        counts["skipped"] += 1
    else:
        counts["failed"] += 1
print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
PY
exit $status
