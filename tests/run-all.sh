#!/bin/bash
# Runs every test: unit tests and integration tests against real PostgreSQL 15,
# pgBackRest and one Ceph RGW started for the whole run; then the same tests and the fuzz
# targets again in the sanitized build (build-san/: clang, ASan + LSan + UBSan, libFuzzer).
# Installs what is missing. Ends with the line "N passed, N failed, N skipped" of both runs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

tools/install-deps.sh --tests
tools/build.sh -Dintegration=required
tools/build-sanitized.sh -Dintegration=required

# One S3 service and one Azure service (Azurite) for the whole run; the tests read
# CNPGI_TEST_S3_* and CNPGI_TEST_AZURE_* from their env files.
rgw_dir=${CNPGI_RGW_DIR:-/tmp/cnpgi-rgw}
azurite_dir=${CNPGI_AZURITE_DIR:-/tmp/cnpgi-azurite}
stop_services() {
  tests/services/azurite.sh stop "$azurite_dir" >/dev/null 2>&1 || true
  tests/services/rgw.sh stop "$rgw_dir" >/dev/null 2>&1 || true
}
trap stop_services EXIT
if tests/services/rgw.sh start "$rgw_dir"; then
  # shellcheck disable=SC1091
  source "$rgw_dir/env"
else
  echo "*** the S3 test service did not start; the S3 tests will fail ***" >&2
fi
if tests/services/azurite.sh start "$azurite_dir"; then
  # shellcheck disable=SC1091
  source "$azurite_dir/env"
else
  echo "*** the Azure test service (Azurite) did not start; the Azure tests will fail ***" >&2
fi

set +e
meson test -C build --print-errorlogs --num-processes 2 "$@"
status=$?
# Sanitizer reports of every process (the sidecars, operators and stand-ins the integration tests
# start write into logs the tests delete) land in one directory; any report fails the run.
# Only the suites that run our programs in-process or directly: the manifests, the container
# images and the embedding check gain nothing from a sanitized build.
san_reports=$root/build-san/meson-logs/sanitizer-reports
rm -rf "$san_reports" && mkdir -p "$san_reports" && chmod 1777 "$san_reports"
for v in ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS; do
  export "$v=log_path=$san_reports/${v%%_*}"
done
meson test -C build-san --print-errorlogs --num-processes 2 --suite unit --suite integration --suite fuzz "$@"
san_status=$?
unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS
set -e
stop_services
trap - EXIT
reports=("$san_reports"/*)
[[ -e ${reports[0]} ]] || reports=()
for r in "${reports[@]}"; do
  echo "*** sanitizer report $(basename "$r") ***" >&2
  head -c 20000 "$r" >&2
done
((status == 0)) && status=$san_status
((status == 0 && ${#reports[@]} > 0)) && status=1

# One summary line from meson's logs of both runs (a sanitizer report counts as a failure), for CI.
python3 - "$root/build/meson-logs/testlog.json" "$root/build-san/meson-logs/testlog.json" "${#reports[@]}" <<'PY'
import json, sys
counts = {"passed": 0, "failed": int(sys.argv[3]), "skipped": 0}
for log in sys.argv[1:3]:
    for line in open(log):
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
