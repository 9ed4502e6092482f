#!/bin/bash
# Builds both container images (manifests/containers/build-images.sh, with its cache) and runs
# them with podman, as root, never with a container network (no CNI bridge is ever created):
#   1. the sidecar started in its image (read-only root, as in the Pod), on a socket in a mounted directory, next to a real
#      PostgreSQL 15 on the host: PostgreSQL's archive_command (CNPG's wal-archive, played by
#      cnpgi-instance-standin) does the CNPG-I handshake and archives real WAL segments; each is
#      in the posix repository, and one restored through the container equals the original;
#      the sidecar's --version, pgBackRest's version and the image's user (26:26), tini as PID 1;
#   2. a backlog pushed by pgBackRest's detached async worker after a sidecar restart leaves no
#      zombie in the container (tini reaps it); without tini, the same backlog does leave one,
#      which shows the check can see a zombie;
#   3. the operator started in its image (read-only root, /tmp writable) answers the mutual-TLS handshake of CNPG's operator
#      (cnpgi-operator-handshake) and refuses clients without the trusted certificate; its
#      --version and the image's user (65532:65532).
# The images it builds (localhost/cnpgi-pgbackrest-test/operator and .../sidecar, tagged with the
# project version) stay in podman's storage next to the cached runtime layers: the next run
# rebuilds them only when the binaries change. Containers and scratch files are removed.
# Prints each image's size and the time taken. Run by `meson test images` (tests/meson.build),
# which sets CNPGI_BUILD_DIR, CNPGI_SIDECAR_BIN, CNPGI_STANDIN_BIN, CNPGI_OPERATOR_HANDSHAKE_BIN.
#
# Ownership: in a Pod the sidecar runs as postgres = 26, the owner of PGDATA. Here PostgreSQL runs
# as the host's postgres user, whose uid is whatever Debian gave it (often not 26), and the
# kernel compares numbers: the sidecar container runs with --user set to the host postgres
# uid:gid so it can read pg_wal and mark segments .done, exactly as 26 does in the Pod. The image's
# own user (26:26) is checked separately.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build_dir=${CNPGI_BUILD_DIR:-$root/build}
standin=${CNPGI_STANDIN_BIN:-$build_dir/tests/cnpgi-instance-standin}
handshake=${CNPGI_OPERATOR_HANDSHAKE_BIN:-$build_dir/tests/cnpgi-operator-handshake}
host_sidecar=${CNPGI_SIDECAR_BIN:-$build_dir/hosts/cnpgi-pgbackrest-sidecar}
pg_bin=/usr/lib/postgresql/15/bin
plugin=pgbackrest.cnpg.opera.com
start=$SECONDS

passed=0
failed=0
ok() { echo "ok    $*"; passed=$((passed + 1)); }
fail() { echo "FAIL  $*"; failed=$((failed + 1)); }
check() {  # check DESCRIPTION COMMAND...: ok when the command succeeds
  local what=$1
  shift
  if "$@"; then ok "$what"; else fail "$what"; fi
}
finish() {
  echo "time: $((SECONDS - start)) s"
  echo "images: $passed passed, $failed failed"
  ((failed == 0))
  exit
}

if [[ $(id -u) != 0 ]]; then
  fail "the images test needs root (podman, buildah and debootstrap with the system storage)"
  finish
fi
for tool in podman buildah debootstrap runc; do
  command -v "$tool" >/dev/null || { fail "$tool is not installed (tools/install-deps.sh --tests)"; finish; }
done

podman() { command podman --storage-driver=vfs "$@"; }
# The flags that work on the project's machines (../shared/reference/environment.md section 5):
# runc (crun fails on the hybrid cgroups), ulimits below the hard limits (no CAP_SYS_RESOURCE).
run_flags=(--runtime=runc --ulimit nofile=1024:1024 --ulimit nproc=4096:4096)

scratch=$(mktemp -d /tmp/cnpgi-images-XXXXXX)
chmod 755 "$scratch"
chown postgres:postgres "$scratch"  # initdb runs as postgres
containers=()
pg_started=0
cleanup() {
  ((${#containers[@]})) && command podman --storage-driver=vfs rm -f "${containers[@]}" >/dev/null 2>&1
  ((pg_started)) && runuser -u postgres -- "$pg_bin/pg_ctl" -D "$scratch/pg-data" -m immediate -w stop >/dev/null 2>&1
  rm -rf "$scratch"
}
trap cleanup EXIT
interfaces_before=$(ls /sys/class/net)

# --- build -------------------------------------------------------------------------------------
echo "== [$((SECONDS - start)) s] manifests/containers/build-images.sh"
registry=localhost/cnpgi-pgbackrest-test
build_start=$SECONDS
if ! "$root/manifests/containers/build-images.sh" --build-dir "$build_dir" --registry "$registry" \
  >"$scratch/build.log" 2>&1; then
  sed 's/^/      /' "$scratch/build.log"
  fail "the images were not built (log above)"
  finish
fi
sed 's/^/      /' "$scratch/build.log" | grep -v -e '^      Copying ' -e '^      Getting ' -e '^      Writing ' -e '^      Storing '
read -r _ operator_image operator_size < <(grep '^operator ' "$scratch/build.log" | tail -n 1)
read -r _ sidecar_image sidecar_size < <(grep '^sidecar ' "$scratch/build.log" | tail -n 1)
ok "both images built in $((SECONDS - build_start)) s: operator $((operator_size / 1000000)) MB, sidecar $((sidecar_size / 1000000)) MB"
version=$(meson introspect --projectinfo "$build_dir" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')

# --- 1. the sidecar in its image, real PostgreSQL on the host ----------------------------------
echo "== [$((SECONDS - start)) s] sidecar container: CNPG-I handshake and WAL archive for PostgreSQL 15 on the host"
pg_uid=$(id -u postgres)
pg_gid=$(id -g postgres)
as_pg() { runuser -u postgres -- "$@"; }
for sub in plugins work repo pg-sock; do install -d -m 700 -o postgres -g postgres "$scratch/$sub"; done
cat >"$scratch/archives.json" <<EOF
[{"apiVersion": "pgbackrest.cnpg.opera.com/v1", "kind": "Archive",
  "metadata": {"name": "local", "namespace": "default"},
  "spec": {"configuration": {"repositories": [{"type": "posix", "destinationPath": "$scratch/repo"}],
                             "compression": "lz4"}}}]
EOF
cat >"$scratch/cluster.json" <<EOF
{"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
 "metadata": {"name": "cluster-example", "namespace": "default", "annotations": {}},
 "spec": {"instances": 1, "postgresUID": 26, "postgresGID": 26,
          "plugins": [{"name": "$plugin", "enabled": true, "isWALArchiver": true,
                       "parameters": {"pgbackrestObjectName": "local"}}]},
 "status": {"currentPrimary": "cluster-example-1", "targetPrimary": "cluster-example-1", "timelineID": 1}}
EOF
chown postgres:postgres "$scratch/archives.json" "$scratch/cluster.json"
archive_command="POD_NAME=cluster-example-1 $standin wal-archive --cluster-json=$scratch/cluster.json --plugins-dir=$scratch/plugins %p"
as_pg "$pg_bin/initdb" -D "$scratch/pg-data" -U postgres --auth=trust -E UTF8 --data-checksums --no-sync >/dev/null
cat >>"$scratch/pg-data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$scratch/pg-sock'
wal_level = replica
fsync = off
shared_buffers = 32MB
archive_mode = on
archive_command = '$archive_command'
EOF

sidecar_n=0
# start_sidecar [--entrypoint X]: the sidecar image serving on $scratch/plugins, like the Pod's sidecar.
start_sidecar() {
  sidecar_n=$((sidecar_n + 1))
  sidecar=cnpgi-images-sidecar-$$-$sidecar_n
  containers+=("$sidecar")
  # Read-only root and no tmpfs, as the injected sidecar's securityContext has it.
  podman run -d --name "$sidecar" --network=none "${run_flags[@]}" --user "$pg_uid:$pg_gid" \
    --read-only --read-only-tmpfs=false \
    -e POD_NAME=cluster-example-1 -v "$scratch:$scratch" "$@" "$sidecar_image" \
    serve --plugin-path="$scratch/plugins" --work-dir="$scratch/work" --pgdata="$scratch/pg-data" \
    --pg-socket-dir="$scratch/pg-sock" --pg-port=5432 --archives-file="$scratch/archives.json" \
    --wal-push-parallel=2 >/dev/null
  for _ in $(seq 1 100); do
    if as_pg "$host_sidecar" probe --plugin-path="$scratch/plugins" --probe-timeout=1s >/dev/null 2>&1; then
      return 0
    fi
    [[ $(podman inspect --format '{{.State.Running}}' "$sidecar") == true ]] || break
    sleep 0.2
  done
  podman logs "$sidecar" 2>&1 | sed 's/^/      /'
  return 1
}
sql() { as_pg env PGOPTIONS='-c client_min_messages=warning' psql -X -A -t -q -v ON_ERROR_STOP=1 -h "$scratch/pg-sock" -U postgres -d postgres -c "$1"; }
switch_wal() { sql "CREATE TABLE IF NOT EXISTS filler(x int); INSERT INTO filler SELECT generate_series(1, 100); SELECT pg_walfile_name(pg_switch_wal())"; }
ready_count() { find "$scratch/pg-data/pg_wal/archive_status" -name '*.ready' | wc -l; }
wait_archived() {  # until PostgreSQL has no .ready segment left (bounded)
  for _ in $(seq 1 600); do (($(ready_count) == 0)) && return 0; sleep 0.1; done
  return 1
}
in_repo() { [[ -n $(find "$scratch/repo/archive/cluster-example" -name "$1-*" 2>/dev/null) ]]; }
diagnostics() {
  echo "      --- sidecar log ---"; podman logs "$sidecar" 2>&1 | tail -n 30 | sed 's/^/      /'
  echo "      --- postgres log ---"; tail -n 30 "$scratch/pg.log" | sed 's/^/      /'
}

if ! start_sidecar; then
  fail "the sidecar container did not serve on $scratch/plugins/$plugin"
  finish
fi
ok "the sidecar container serves on $scratch/plugins/$plugin (a mounted directory, --network=none)"
# Every podman run copies the image with vfs (seconds each): versions and users are read in
# the running container instead.
v=$(podman exec "$sidecar" readlink /proc/1/exe)
check "its PID 1 is $v" test "$v" = /usr/bin/tini
v=$(podman exec "$sidecar" cnpgi-pgbackrest-sidecar --version)
check "sidecar --version: $v" test "$v" = "cnpgi-pgbackrest-sidecar $version"
check "the startupProbe command in the container: cnpgi-pgbackrest-sidecar probe" \
  podman exec "$sidecar" cnpgi-pgbackrest-sidecar probe --plugin-path="$scratch/plugins"
v=$(podman exec "$sidecar" pgbackrest version)
check "sidecar image: $v" test "$v" = "pgBackRest 2.45"
v="$(podman image inspect --format '{{.Config.User}}' "$sidecar_image") $(podman exec "$sidecar" getent passwd 26)"
check "sidecar image user: $v" test "$v" = "26:26 postgres:x:26:26::/var/lib/postgresql:/usr/sbin/nologin"
# The handshake as CNPG's instance manager makes it: services 2 WAL, 3 Backup, 6 RestoreJob,
# 10 Metrics (identity.proto), WAL RPCs 1 archive and 2 restore (wal.proto).
v=$(as_pg env POD_NAME=cluster-example-1 "$standin" handshake --cluster-json="$scratch/cluster.json" \
  --plugins-dir="$scratch/plugins" 2>&1 | python3 -c 'import json, sys
p = json.load(sys.stdin)["'"$plugin"'"]
print("services", sorted(p["services"]), "wal", sorted(p["wal"]))' 2>&1)
check "CNPG-I handshake with the sidecar container: $v" test "$v" = "services [2, 3, 6, 10] wal [1, 2]"
as_pg "$pg_bin/pg_ctl" -D "$scratch/pg-data" -l "$scratch/pg.log" -w -t 60 start >/dev/null
pg_started=1
segments=()
for _ in 1 2 3; do segments+=("$(switch_wal)"); done
if wait_archived; then
  ok "PostgreSQL archived ${segments[*]} through CNPG's wal-archive and the sidecar container"
else
  fail "PostgreSQL's archive_command did not archive through the sidecar container"
  diagnostics
fi
# An operator's shell: pgbackrest configured as the sidecar runs it (the Pod's paths as flags here).
v=$(podman exec "$sidecar" cnpgi-pgbackrest-sidecar --work-dir="$scratch/work" --archives-file="$scratch/archives.json" \
  --pgdata="$scratch/pg-data" --pg-socket-dir="$scratch/pg-sock" pgbackrest info --output=json 2>&1 |
  python3 -c 'import json, sys; s = json.load(sys.stdin); print(s[0]["name"], s[0]["status"]["message"])' 2>&1)
check "pgbackrest info through the sidecar's shell mode in its container: $v" test "${v%% *}" = cluster-example
v=$(podman exec -e PGDATA="$scratch/pg-data" "$sidecar" pgbr info 2>&1 || true)
check "the pgbr wrapper reaches the shell mode: $v" grep -q 'which Archive' <<<"$v"
v=$(sql 'SELECT archived_count, failed_count FROM pg_stat_archiver')
# archived_count counts archive_command calls that succeeded (CNPG's wal-archive through the
# handshake); segments the sidecar pushed ahead and marked .done are not among them.
check "pg_stat_archiver: archived|failed = $v (at least one call, none failed)" \
  test "${v%|*}" -ge 1 -a "${v#*|}" = 0
missing=()
for s in "${segments[@]}"; do in_repo "$s" || missing+=("$s"); done
check "each segment is in the posix repository${missing:+ (missing: ${missing[*]})}" test ${#missing[@]} -eq 0
seg=${segments[0]}
if as_pg env POD_NAME=cluster-example-1 "$standin" wal-restore \
  --cluster-json="$scratch/cluster.json" --plugins-dir="$scratch/plugins" --pgdata="$scratch/pg-data" \
  "$seg" pg_wal/RECOVERYXLOG 2>"$scratch/restore.err" &&
  cmp -s "$scratch/pg-data/pg_wal/RECOVERYXLOG" "$scratch/pg-data/pg_wal/$seg"; then
  ok "$seg restored through the sidecar container equals the original"
else
  fail "$seg was not restored byte for byte: $(cat "$scratch/restore.err")"
fi
rm -f "$scratch/pg-data/pg_wal/RECOVERYXLOG"

# --- 2. async backlog: no zombie ---------------------------------------------------------------
echo "== [$((SECONDS - start)) s] sidecar container: pgBackRest's async worker after a backlog leaves no zombie"
# The state letters of the container's processes whose command is pgbackrest, and its zombies.
proc_states() {
  podman exec "$sidecar" sh -c 'for f in /proc/[0-9]*/stat; do cat "$f" 2>/dev/null; echo; done' |
    sed -nE 's/^([0-9]+) \((.*)\) ([A-Z]) .*/\1 \2 \3/p'
}
pgbackrest_running() { proc_states | awk '$2 == "pgbackrest" && $3 != "Z"' | grep -q .; }
zombies() { proc_states | awk '$3 == "Z"'; }
async_pushes() {
  as_pg env POD_NAME=cluster-example-1 "$standin" metrics --cluster-json="$scratch/cluster.json" \
    --plugins-dir="$scratch/plugins" | sed -nE 's/^pgbackrest_cnpg_opera_com_wal_pushes_total\{mode="async"\} ([0-9.]+)$/\1/p'
}
# backlog ENTRYPOINT...: archiving down and the sidecar killed while segments fill up; a new sidecar
# container (with the given podman flags) pushes them through pgBackRest's async worker, which
# outlives its archive-push and is re-parented to the container's PID 1. Writes the zombies
# seen once the worker has exited to $scratch/zombies. Not in a subshell: it replaces $sidecar.
backlog() {
  sql "ALTER SYSTEM SET archive_command = '/bin/false'" && sql "SELECT pg_reload_conf()" >/dev/null
  sleep 0.3
  podman rm -f "$sidecar" >/dev/null
  local backlog=() s
  for _ in 1 2 3 4 5 6; do backlog+=("$(switch_wal)"); done
  start_sidecar "$@" || { echo "sidecar did not restart" >&2; return 1; }
  for _ in $(seq 1 600); do
    local all=1
    for s in "${backlog[@]}"; do in_repo "$s" && [[ -f $scratch/work/local/spool/archive/cluster-example/out/$s.ok ]] || all=0; done
    ((all)) && break
    sleep 0.1
  done
  ((all)) || { echo "backlog ${backlog[*]} not pushed by the restarted sidecar" >&2; return 1; }
  local n
  n=$(async_pushes)
  [[ ${n:-0} != 0 ]] || { echo "the backlog was not pushed by pgBackRest's async worker (async pushes: ${n:-none})" >&2; return 1; }
  for _ in $(seq 1 300); do pgbackrest_running || break; sleep 0.1; done
  pgbackrest_running && { echo "pgBackRest's async worker still runs after 30 s" >&2; return 1; }
  sleep 0.5  # a reaper that is slow to wait still counts as one
  zombies >"$scratch/zombies"
  sql "ALTER SYSTEM SET archive_command = '$archive_command'" && sql "SELECT pg_reload_conf()" >/dev/null
  switch_wal >/dev/null
  wait_archived || { echo "PostgreSQL did not archive again after the backlog" >&2; return 1; }
}
if backlog 2>"$scratch/backlog.err"; then
  z=$(cat "$scratch/zombies")
  check "a backlog of 6 pushed by the async worker, archived again; zombies under tini: ${z:-none}" test -z "$z"
else
  fail "the async backlog did not go through: $(cat "$scratch/backlog.err")"
  diagnostics
fi
# The control: the sidecar as PID 1 does not reap what it did not start.
if backlog --entrypoint /usr/local/bin/cnpgi-pgbackrest-sidecar 2>"$scratch/backlog.err"; then
  z=$(cat "$scratch/zombies")
  check "control without tini: the same backlog leaves a zombie the check sees (${z:-none})" test -n "$z"
else
  fail "the async backlog without tini did not go through: $(cat "$scratch/backlog.err")"
  diagnostics
fi
podman rm -f "$sidecar" >/dev/null
as_pg "$pg_bin/pg_ctl" -D "$scratch/pg-data" -m fast -w stop >/dev/null
pg_started=0

# --- 3. the operator in its image: mutual TLS ---------------------------------------------------
echo "== [$((SECONDS - start)) s] operator container: CNPG's mutual-TLS handshake"
tls=$scratch/tls
mkdir "$tls"
(
  cd "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=ca \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=pgbackrest 2>/dev/null
  printf 'subjectAltName=DNS:pgbackrest,DNS:pgbackrest.cnpg-system.svc\nextendedKeyUsage=serverAuth\n' >ext
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 \
    -extfile ext 2>/dev/null
  for c in client intruder; do
    openssl req -x509 -newkey rsa:2048 -nodes -keyout $c.key -out $c.crt -days 2 -subj /CN=$c \
      -addext basicConstraints=CA:FALSE -addext keyUsage=digitalSignature,keyEncipherment \
      -addext extendedKeyUsage=clientAuth 2>/dev/null
  done
)
# The image's user reads the server Secret, as the Deployment's mounted Secret lets it.
chown -R 65532:65532 "$tls"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
operator=cnpgi-images-operator-$$
containers+=("$operator")
# --network=host: CNPG's operator reaches the plugin over TCP, and host networking shares the
# host's loopback without creating any bridge (a container network would create cni-podman0).
# Read-only root with /tmp writable, as the Deployment has it (readOnlyRootFilesystem, /tmp emptyDir).
podman run -d --name "$operator" --network=host "${run_flags[@]}" -v "$tls:$tls:ro" \
  --read-only --read-only-tmpfs=false --tmpfs /tmp \
  -v "$scratch/archives.json:$scratch/archives.json:ro" "$operator_image" operator \
  --server-cert="$tls/server.crt" --server-key="$tls/server.key" --client-cert="$tls/client.crt" \
  --server-address="127.0.0.1:$port" --sidecar-image="$sidecar_image" \
  --archives-file="$scratch/archives.json" >/dev/null
for _ in $(seq 1 100); do
  podman logs "$operator" 2>&1 | grep -q listening && break
  sleep 0.1
done
v=$(podman exec "$operator" cnpgi-pgbackrest-operator --version)
check "operator --version: $v" test "$v" = "cnpgi-pgbackrest-operator $version"
v="$(podman image inspect --format '{{.Config.User}}' "$operator_image") $(podman exec "$operator" id)"
check "operator image user: $v" test "$v" = "65532:65532 uid=65532(nonroot) gid=65532(nonroot) groups=65532(nonroot)"
shake() { "$handshake" --address="127.0.0.1:$port" --ca="$tls/ca.crt" --server-name=pgbackrest "$@"; }
if answer=$(shake --cert="$tls/client.crt" --key="$tls/client.key" 2>"$scratch/shake.err"); then
  check "the operator container answers the handshake: $(echo "$answer" | paste -sd' ')" \
    test "$(head -n 1 <<<"$answer")" = "$plugin $version"
  check "it advertises the sidecar injection" grep -qx TYPE_INSTANCE_SIDECAR_INJECTION <<<"$answer"
else
  fail "the operator container did not answer the handshake: $(cat "$scratch/shake.err")"
  podman logs "$operator" 2>&1 | tail -n 20 | sed 's/^/      /'
fi
check "a client with an untrusted certificate is refused" \
  bash -c '! "$0" "$@" >/dev/null 2>&1' "$handshake" --address="127.0.0.1:$port" --ca="$tls/ca.crt" \
  --server-name=pgbackrest --cert="$tls/intruder.crt" --key="$tls/intruder.key"
check "a client without a certificate is refused" \
  bash -c '! "$0" "$@" >/dev/null 2>&1' "$handshake" --address="127.0.0.1:$port" --ca="$tls/ca.crt" --server-name=pgbackrest
podman rm -f "$operator" >/dev/null

interfaces_after=$(ls /sys/class/net)
check "no network interface was created (before and after: $(echo $interfaces_after))" \
  test "$interfaces_before" = "$interfaces_after"
echo "image sizes: operator $operator_image $((operator_size / 1000000)) MB, sidecar $sidecar_image $((sidecar_size / 1000000)) MB"
finish
