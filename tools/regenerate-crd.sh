#!/bin/bash
# Rewrites the Archive CRD's spec schema from config/archive_schema.cc (through the built
# tools/archive-crd-schema) and re-renders manifests/manifest.yaml. Build first (tools/build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
node tests/manifests/crd-schema.mjs . "${ARCHIVE_CRD_SCHEMA:-build/tools/archive-crd-schema}" --write
kubectl kustomize manifests/base >manifests/manifest.yaml
