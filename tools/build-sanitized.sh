#!/bin/bash
# Configures (once) and builds the sanitized build into build-san/: Debian's clang-14 with
# AddressSanitizer and UndefinedBehaviorSanitizer, plus the libFuzzer targets of tests/fuzz/.
# Every test of that build (unit, integration, fuzz) then runs its own sanitized programs.
# Extra arguments go to `meson setup` on the first configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
# Let ccache share objects between checkouts at different paths (CI builds a fresh clone).
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
if [[ ! -f build-san/build.ninja ]]; then
  # b_lundef=false: with clang the sanitizer runtimes link into executables only, so the shared
  # libraries keep undefined references to them. lld-14 links the large sanitized programs faster.
  CXX="ccache clang++-14" CXX_LD=lld-14 meson setup build-san \
    -Db_sanitize=address,undefined -Db_lundef=false -Dfuzzing=true -Dbenchmarks=false "$@"
fi
ninja -C build-san -j2
