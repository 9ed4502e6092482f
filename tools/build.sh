#!/bin/bash
# Configures (once) and builds the project into build/ with ccache and two jobs.
# Extra arguments go to `meson setup` on the first configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
# Let ccache share objects between checkouts at different paths (CI builds a fresh clone).
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
if [[ ! -f build/build.ninja ]]; then
  CXX="ccache g++" meson setup build "$@"
fi
ninja -C build -j2
