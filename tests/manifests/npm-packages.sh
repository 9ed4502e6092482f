# Sourced by check.sh and monitoring.sh (with `here` set to tests/manifests):
#   require_tools PURPOSE TOOL...   exits with a FAIL line unless every TOOL (name or path) is there;
#   install_npm_packages            `npm ci` when node_modules is missing or older than the lock file.
require_tools() {
  local purpose=$1 tool
  shift
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null; then
      echo "FAIL  $tool is not there (needed for $purpose)" >&2
      exit 1
    fi
  done
}
install_npm_packages() {
  if [[ ! -f $here/node_modules/.package-lock.json || $here/package-lock.json -nt $here/node_modules/.package-lock.json ]]; then
    echo "installing npm packages (npm ci) in tests/manifests"
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
