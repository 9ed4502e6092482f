#!/bin/bash
# The dashboard and alerts of manifests/monitoring checked against the metrics the real sidecar
# exports (no API server and no Prometheus server needed):
#   1. starts the sidecar (a posix Archive, an empty PGDATA: no PostgreSQL is needed to define and
#      collect metrics) and scrapes it once with the instance-manager stand-in, as CloudNativePG's
#      exporter does, keeping its Define answer and samples as JSON;
#   2. renders manifests/monitoring with kubectl kustomize;
#   3. monitoring.mjs checks both against that answer (see its header);
#   4. promtool (Prometheus' rule tool) loads the rules and the dashboard's queries and runs
#      monitoring-rules.test.yaml.
# Needs kubectl, node and npm (as check.sh), promtool (tools/install-deps.sh --tests), and the
# built sidecar and stand-in:
#   CNPGI_SIDECAR_BIN, CNPGI_STANDIN_BIN (meson sets them; default: build/ of this checkout).
# Usage: tests/manifests/monitoring.sh   (from any directory; as root the sidecar runs as postgres)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
sidecar=${CNPGI_SIDECAR_BIN:-$root/build/hosts/cnpgi-pgbackrest-sidecar}
standin=${CNPGI_STANDIN_BIN:-$root/build/tests/cnpgi-instance-standin}

# shellcheck source=tests/manifests/npm-packages.sh
source "$here/npm-packages.sh"
require_tools "the monitoring check; build with tools/build.sh" kubectl node npm "$sidecar" "$standin"
install_npm_packages

tmp=$(mktemp -d)
sidecar_pid=
cleanup() {
  if [[ -n $sidecar_pid ]]; then kill "$sidecar_pid" 2>/dev/null && wait "$sidecar_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# --- the sidecar, scraped once -------------------------------------------------------------------
as_owner=()
owner=$(id -un)
if ((EUID == 0)); then
  owner=postgres
  as_owner=(runuser -u postgres --)
fi
chmod 755 "$tmp"
install -d -o "$owner" "$tmp/plugins" "$tmp/repo" "$tmp/work" "$tmp/pgdata/pg_wal/archive_status"
chmod 700 "$tmp/pgdata"
cat >"$tmp/archives.json" <<JSON
[{"metadata":{"name":"local","namespace":"default"},
  "spec":{"configuration":{"repositories":[{"type":"posix","destinationPath":"$tmp/repo"}]}}}]
JSON
install -m 644 tests/fixtures/cluster-example.json "$tmp/cluster.json"
chmod 644 "$tmp/archives.json"
"${as_owner[@]}" "$sidecar" --plugin-path="$tmp/plugins" --pgdata="$tmp/pgdata" --pg-socket-dir="$tmp" \
  --archives-file="$tmp/archives.json" --work-dir="$tmp/work" 2>"$tmp/sidecar.log" &
sidecar_pid=$!
socket=$tmp/plugins/pgbackrest.cnpg.opera.com
for _ in $(seq 100); do [[ -S $socket ]] && break; sleep 0.1; done
if [[ ! -S $socket ]]; then
  echo "FAIL  the sidecar did not start:"
  sed 's/^/      /' "$tmp/sidecar.log"
  exit 1
fi
echo "== the sidecar's Metrics answer (cnpgi-instance-standin metrics --format=json)"
if ! "$standin" metrics --cluster-json="$tmp/cluster.json" --plugins-dir="$tmp/plugins" --format=json \
  >"$tmp/scrape.json" 2>"$tmp/scrape.err"; then
  echo "FAIL  the scrape failed:"
  sed 's/^/      /' "$tmp/scrape.err" "$tmp/sidecar.log"
  exit 1
fi

echo "== kubectl kustomize manifests/monitoring"
if ! kubectl kustomize manifests/monitoring >"$tmp/monitoring.yaml" 2>"$tmp/kustomize.err"; then
  echo "FAIL  kubectl kustomize manifests/monitoring failed:"
  sed 's/^/      /' "$tmp/kustomize.err"
  exit 1
fi

echo "== monitoring.mjs"
status=0
node "$here/monitoring.mjs" "$root" "$tmp/scrape.json" "$tmp/monitoring.yaml" "$tmp/dashboard-queries.yaml" |
  tee "$tmp/report.txt" || status=1
read -r passed failed < <(sed -nE 's/^monitoring.mjs: ([0-9]+) checks passed, ([0-9]+) failed$/\1 \2/p' "$tmp/report.txt")
passed=${passed:-0}
failed=${failed:-1}

# Prometheus' own engine: the rule file as the Prometheus Operator hands it over, the dashboard's
# queries (as recording rules), then the unit tests of monitoring-rules.test.yaml (each alert firing, with its labels and rendered annotations,
# and not firing where it must not).
echo "== promtool ($(promtool --version 2>&1 | head -n 1))"
promtool_check() {  # promtool_check DESCRIPTION ARGS...
  local what=$1
  shift
  if (cd "$tmp" && promtool "$@") >"$tmp/promtool.out" 2>&1; then
    echo "ok    $what"
    passed=$((passed + 1))
  else
    echo "FAIL  $what"
    sed 's/^/      /' "$tmp/promtool.out"
    failed=$((failed + 1))
  fi
}
if command -v promtool >/dev/null; then
  node "$here/rule-groups.mjs" "$tmp/monitoring.yaml" >"$tmp/rules.yaml"
  cp "$here/monitoring-rules.test.yaml" "$tmp/"
  promtool_check "promtool check rules: the PrometheusRule's groups load in Prometheus" check rules rules.yaml
  promtool_check "promtool check rules: every dashboard query parses in Prometheus" check rules dashboard-queries.yaml
  promtool_check "promtool test rules: tests/manifests/monitoring-rules.test.yaml" test rules monitoring-rules.test.yaml
else
  echo "FAIL  promtool is not installed (tools/install-deps.sh --tests installs it)"
  failed=$((failed + 1))
fi
echo "monitoring: $passed passed, $failed failed"
((failed == 0 && status == 0))
