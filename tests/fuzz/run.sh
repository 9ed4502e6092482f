#!/bin/bash
# One short libFuzzer run of a target (a test of the suite `fuzz`): the committed corpus first,
# then mutations for CNPGI_FUZZ_SECONDS (5) seconds from a fixed seed. New inputs go to a scratch
# directory, never into the committed corpus; a crash leaves its input in ARTIFACT_DIR.
# Usage: run.sh TARGET CORPUS_DIR ARTIFACT_DIR [libFuzzer flags...]
set -euo pipefail
target=$1 corpus=$2 artifacts=$3
shift 3
mkdir -p "$artifacts"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# -error_exitcode=1: libFuzzer's default, 77, is what meson counts as a skipped test.
"$target" -seed=1 -max_total_time="${CNPGI_FUZZ_SECONDS:-5}" -timeout=10 -print_final_stats=1 -error_exitcode=1 \
  -artifact_prefix="$artifacts/" "$@" "$scratch" "$corpus"
