#!/bin/bash
# Offline checks of the Kubernetes manifests (no API server needed):
#   1. `kubectl kustomize manifests/base` equals manifests/manifest.yaml byte for byte;
#   2. validate.mjs: every object of manifest.yaml against the Kubernetes schemas, the Archive CRD,
#      the documented examples against the Archive CRD and CloudNativePG's CRDs (cnpg-crds/), and
#      negative cases that must be rejected. See the header of validate.mjs.
#   3. the image references: set once, in manifests/base/kustomization.yaml `images:`, with the
#      project version (meson.build) as the tag, for the operator's image and the sidecar image it
#      injects (SIDECAR_IMAGE);
#   4. manifests/overlays/private-registry renders, moves every namespaced object and name to its
#      namespace and both images to its registry (same tag), and passes validate.mjs too;
#   5. crd-schema.mjs: the Archive CRD's spec schema equals the one the parser checks
#      (libcnpgi_pgbackrest/config/archive_schema.cc, printed by the built tools/archive-crd-schema,
#      $ARCHIVE_CRD_SCHEMA in the meson test; default build/tools/archive-crd-schema); fix with
#      tools/regenerate-crd.sh;
#   6. docs.mjs: README.md shows every example unchanged, its Archive configuration reference has
#      a row for every field of the Archive CRD and no other, and its Troubleshooting quotes the
#      plugin's messages in the code's wording. See the header of docs.mjs.
# Needs kubectl (for its built-in kustomize), node and npm; installs the npm packages from
# package-lock.json with `npm ci` when node_modules is missing or older than the lock file.
# Usage: tests/manifests/check.sh   (from any directory)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
start=$SECONDS

# shellcheck source=tests/manifests/npm-packages.sh
source "$here/npm-packages.sh"
require_tools "the manifests check" kubectl node npm
install_npm_packages

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

own_passed=0
own_failed=0
check() {  # check DESCRIPTION COMMAND...: one of this script's own checks
  local what=$1
  shift
  if "$@"; then
    echo "ok    $what"
    own_passed=$((own_passed + 1))
  else
    echo "FAIL  $what"
    own_failed=$((own_failed + 1))
  fi
}
# exactly_once FILE LINE: LINE (a fixed string, the whole line) occurs once in FILE.
exactly_once() { [[ $(grep -cxF -- "$2" "$1") == 1 ]]; }
# only_tag FILE TAG: every image field of FILE, and SIDECAR_IMAGE, ends with :TAG.
only_tag() { ! grep -E '^ *image: |cnpgi-pgbackrest-?/?sidecar' "$1" | grep -vE ":$2\$" | grep -q .; }

version=$(sed -nE "s/^  version: '([^']+)',\$/\1/p" meson.build | head -n 1)
echo "== image references (project version $version)"
base_operator="        image: ghcr.io/cnpgi-pgbackrest/operator:$version"
base_sidecar="          value: ghcr.io/cnpgi-pgbackrest/sidecar:$version"
check "manifest.yaml: the operator image is ghcr.io/cnpgi-pgbackrest/operator:$version" \
  exactly_once manifests/manifest.yaml "$base_operator"
check "manifest.yaml: SIDECAR_IMAGE is ghcr.io/cnpgi-pgbackrest/sidecar:$version" \
  exactly_once manifests/manifest.yaml "$base_sidecar"
check "manifest.yaml: no image with another tag" only_tag manifests/manifest.yaml "$version"
check "the tag is written once, in manifests/base/kustomization.yaml" \
  test "$(grep -rlF -- "$version" manifests/base manifests/crd)" = manifests/base/kustomization.yaml

overlay=manifests/overlays/private-registry
echo "== kubectl kustomize $overlay"
status=0
if kubectl kustomize "$overlay" >"$tmp/overlay.yaml" 2>"$tmp/overlay.err"; then
  check "$overlay renders ($(wc -l <"$tmp/overlay.yaml") lines)" true
  registry=registry.example.internal/platform
  check "$overlay: the operator image is $registry/cnpgi-pgbackrest-operator:$version" \
    exactly_once "$tmp/overlay.yaml" "        image: $registry/cnpgi-pgbackrest-operator:$version"
  check "$overlay: SIDECAR_IMAGE is $registry/cnpgi-pgbackrest-sidecar:$version" \
    exactly_once "$tmp/overlay.yaml" "          value: $registry/cnpgi-pgbackrest-sidecar:$version"
  check "$overlay: no image with another tag" only_tag "$tmp/overlay.yaml" "$version"
  check "$overlay: nothing left of ghcr.io or cnpg-system" bash -c '! grep -nE "ghcr\.io|cnpg-system" "$0"' "$tmp/overlay.yaml"
  namespaced=$(grep -c '^  namespace: ' manifests/manifest.yaml)
  check "$overlay: the $namespaced namespaced objects are in postgres-operator" \
    test "$(grep -c '^  namespace: postgres-operator$' "$tmp/overlay.yaml")" = "$namespaced"
  check "$overlay: the server certificate names pgbackrest.postgres-operator.svc" \
    grep -qxF -- "  - pgbackrest.postgres-operator.svc" "$tmp/overlay.yaml"
  echo "== validate.mjs on the $overlay rendering"
  VALIDATE_NAMESPACE=postgres-operator VALIDATE_REGISTRY=$registry/cnpgi-pgbackrest- \
    node "$here/validate.mjs" "$root" "$tmp/overlay.yaml" >"$tmp/overlay-report.txt" || status=$?
  grep -E '^(FAIL|validate.mjs:)' "$tmp/overlay-report.txt" || true
else
  check "$overlay renders" false
  sed 's/^/      /' "$tmp/overlay.err"
fi

echo "== validate.mjs on manifests/manifest.yaml"
node "$here/validate.mjs" "$root" manifests/manifest.yaml | tee "$tmp/report.txt" || status=$?

echo "== crd-schema.mjs: the Archive CRD's spec schema is config/archive_schema.cc's"
node "$here/crd-schema.mjs" "$root" "${ARCHIVE_CRD_SCHEMA:-$root/build/tools/archive-crd-schema}" |
  tee "$tmp/schema-report.txt" || status=$?

echo "== docs.mjs: README.md against the examples and the Archive CRD"
node "$here/docs.mjs" "$root" | tee "$tmp/docs-report.txt" || status=$?

# One closing line for the whole check (validate.mjs's and docs.mjs's own counts, the kustomize comparison and
# this script's checks).
read -r passed failed < <(cat "$tmp/report.txt" "$tmp/overlay-report.txt" "$tmp/schema-report.txt" \
  "$tmp/docs-report.txt" 2>/dev/null |
  sed -nE 's/^(validate|docs|crd-schema).mjs: ([0-9]+) checks passed, ([0-9]+) failed$/\2 \3/p' |
  awk '{ p += $1; f += $2; n++ } END { if (n) print p, f }')
passed=${passed:-0}
failed=${failed:-1}
if ((kustomize_ok)); then passed=$((passed + 1)); else failed=$((failed + 1)); fi
passed=$((passed + own_passed))
failed=$((failed + own_failed))
if ((status != 0 && failed == 0)); then failed=1; fi
echo "time: $((SECONDS - start)) s"
echo "manifests: $passed passed, $failed failed"
((failed == 0))
