#!/bin/bash
# Offline checks of the Kubernetes manifests (no API server needed):
#   1. `kubectl kustomize manifests/base` equals manifests/manifest.yaml byte for byte;
#   2. validate.mjs: every object of manifest.yaml against the Kubernetes schemas, the Archive CRD,
#      the documented examples against the Archive CRD and CloudNativePG's CRDs (cnpg-crds/), and
#      negative cases that must be rejected. See the header of validate.mjs.
# Needs kubectl (for its built-in kustomize), node and npm; installs the npm packages from
# package-lock.json with `npm ci` when node_modules is missing or older than the lock file.
# Usage: tests/manifests/check.sh   (from any directory)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
start=$SECONDS

for tool in kubectl node npm; do
  if ! command -v "$tool" >/dev/null; then
    echo "FAIL  $tool is not installed (needed for the manifests check)" >&2
    exit 1
  fi
done

if [[ ! -f $here/node_modules/.package-lock.json || $here/package-lock.json -nt $here/node_modules/.package-lock.json ]]; then
  echo "installing npm packages (npm ci) in tests/manifests"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== kubectl kustomize manifests/base vs. manifests/manifest.yaml"
kustomize_ok=1
if ! kubectl kustomize manifests/base >"$tmp/rendered.yaml" 2>"$tmp/kustomize.err"; then
  echo "FAIL  kubectl kustomize manifests/base failed:"
  sed 's/^/      /' "$tmp/kustomize.err"
  kustomize_ok=0
elif ! cmp -s "$tmp/rendered.yaml" manifests/manifest.yaml; then
  echo "FAIL  manifests/manifest.yaml is not the rendered base; regenerate it with"
  echo "      kubectl kustomize manifests/base > manifests/manifest.yaml"
  diff -u manifests/manifest.yaml "$tmp/rendered.yaml" | head -n 40 | sed 's/^/      /' || true
  kustomize_ok=0
else
  echo "ok    manifests/manifest.yaml equals the rendered kustomization ($(wc -l <manifests/manifest.yaml) lines)"
fi

status=0
node "$here/validate.mjs" "$root" manifests/manifest.yaml | tee "$tmp/report.txt" || status=$?

# One closing line for the whole check (validate.mjs's own count plus the kustomize comparison).
read -r passed failed < <(sed -nE 's/^validate.mjs: ([0-9]+) checks passed, ([0-9]+) failed$/\1 \2/p' "$tmp/report.txt" | tail -n 1)
passed=${passed:-0}
failed=${failed:-1}
if ((kustomize_ok)); then passed=$((passed + 1)); else failed=$((failed + 1)); fi
if ((status != 0 && failed == 0)); then failed=1; fi
echo "time: $((SECONDS - start)) s"
echo "manifests: $passed passed, $failed failed"
((failed == 0))
