#!/bin/bash
# Configures (once) and builds the project into build/ with ccache and two jobs.
# Extra arguments go to `meson setup` on the first configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f build/build.ninja ]]; then
  CXX="ccache g++" meson setup build "$@"
fi
ninja -C build -j2
