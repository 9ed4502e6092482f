# Sourced by check.sh and monitoring.sh: installs the npm packages of package-lock.json with
# `npm ci` when node_modules is missing or older than the lock file.
here=${here:?set here to tests/manifests before sourcing npm-packages.sh}
if [[ ! -f $here/node_modules/.package-lock.json || $here/package-lock.json -nt $here/node_modules/.package-lock.json ]]; then
  echo "installing npm packages (npm ci) in tests/manifests"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
