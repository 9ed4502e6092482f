#!/bin/bash
# Formats the project's C++ sources with .clang-format, or with --check lists those that differ
# (the `format` test runs it so; exit 1 then). Generated protocol code and fetched trees are not ours.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cc' '*.h' | grep -v -e '^subprojects/')
if [[ ${1:-} == --check ]]; then
  bad=()
  for f in "${files[@]}"; do clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f"); done
  if ((${#bad[@]})); then
    printf 'not formatted (run tools/format.sh): %s\n' "${bad[@]}" >&2
    exit 1
  fi
  echo "format: ${#files[@]} files follow .clang-format"
else
  clang-format -i "${files[@]}"
fi
