#!/bin/bash
# What one archive_command costs in gRPC alone, measured with a Go client like CNPG's instance
# manager (grpc-go, a new connection per call, GetPluginMetadata, GetPluginCapabilities, WAL
# GetCapabilities, Probe, Archive) against, interleaved in one run:
#   null-go     a null Go plugin answering constants (the reference: any plugin's floor in Go)
#   sidecar     the real sidecar host, on a segment it has already stored (so Archive answers at once)
#   plugin-grpc the sidecar's gRPC stack (same server, adapters and Identity) over a no-op archiver
#   floor-cpp   a null C++ server on one completion-queue thread
# with the Cluster JSON CNPG sends (bench/go/cluster.json: a 3-instance Cluster with its status),
# and prints p50/p90/p99, the server's CPU per call and each p50 over null-go's.
# Run as root on Debian 12: bench/go_overhead.sh (side_by_side.sh runs it last).
# BENCH_GO_CALLS (4000) measured calls per server, BENCH_GO_ROUNDS (20) rounds they are spread over.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
D=${BENCH_GO_DIR:-/tmp/cnpgi-bench-go}
G=$root/build/bench-go
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }

# Go 1.19 and grpc-go 1.33 from Debian, built in GOPATH mode (no module downloads).
pkgs=(golang-go golang-google-grpc-dev golang-google-protobuf-dev protoc-gen-go protoc-gen-go-grpc protobuf-compiler)
dpkg -s "${pkgs[@]}" >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${pkgs[@]}" >/dev/null
[[ -x build/hosts/cnpgi-pgbackrest-sidecar && -x build/bench/plugin_overhead_bench ]] || tools/build.sh >/dev/null
install -d "$G/src/cnpgi-bench"
protoc -I protos --go_out="$G/src" --go-grpc_out="$G/src" protos/identity.proto protos/wal.proto
for p in codec cnpgclient nullplugin; do ln -sfn "$root/bench/go/$p" "$G/src/cnpgi-bench/$p"; done
for p in cnpgclient nullplugin; do
  GO111MODULE=off GOPATH="$G:/usr/share/gocode" GOCACHE="$G/cache" go build -o "$G/$p" "cnpgi-bench/$p"
done

rm -rf "$D"
install -d -o postgres -g postgres "$D" "$D/repo" "$D/work" "$D/plugins"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

# The sidecar's inputs: a data directory whose first segment waits to be archived, a posix repository.
as_pg /usr/lib/postgresql/15/bin/initdb -D "$D/pgdata" -U postgres --auth=trust >/dev/null
segment=$D/pgdata/pg_wal/000000010000000000000001
as_pg touch "$D/pgdata/postmaster.pid" "$D/pgdata/pg_wal/archive_status/000000010000000000000001.ready"
cat > "$D/archives.json" <<JSON
[{"metadata": {"name": "store"}, "spec": {"configuration": {"repositories": [{"type": "posix", "destinationPath": "$D/repo"}], "compression": "lz4"}}}]
JSON
printf '[global]\nrepo1-path=%s\nlog-level-console=off\nlog-level-file=off\n' "$D/repo" > "$D/pgbackrest.conf"
chown postgres:postgres "$D/archives.json" "$D/pgbackrest.conf"
as_pg pgbackrest --config="$D/pgbackrest.conf" --stanza=cluster-example --pg1-path="$D/pgdata" stanza-create --no-online >/dev/null

start() {  # $1 = label, the rest = command (it execs, so $! is the server's pid)
  local label=$1
  shift
  setpriv --reuid=postgres --regid=postgres --init-groups -- "$@" 2>"$D/$label.log" &
  pids+=($!)
  servers+="${servers:+,}$label=$D/$label.sock@$!"
}
servers=
start null-go "$G/nullplugin" --socket="$D/null-go.sock"
setpriv --reuid=postgres --regid=postgres --init-groups -- env POD_NAME=cluster-example-1 \
  "$root/build/hosts/cnpgi-pgbackrest-sidecar" serve --plugin-path="$D/plugins" --work-dir="$D/work" \
  --pgdata="$D/pgdata" --archives-file="$D/archives.json" 2>"$D/sidecar.log" &
pids+=($!)
servers+=",sidecar=$D/plugins/pgbackrest.cnpg.opera.com@$!"
start plugin-grpc "$root/build/bench/plugin_overhead_bench" --serve="$D/plugin-grpc.sock"
start floor-cpp "$root/build/bench/plugin_overhead_bench" --serve-floor="$D/floor-cpp.sock"
for _ in $(seq 1 100); do
  [[ -S $D/null-go.sock && -S $D/plugins/pgbackrest.cnpg.opera.com && -S $D/plugin-grpc.sock && -S $D/floor-cpp.sock ]] && break
  sleep 0.05
done
# The warm-up's first Archive stores the segment in the repository; later calls find it stored.
as_pg "$G/cnpgclient" --servers="$servers" --segment="$segment" --cluster-json="$root/bench/go/cluster.json" --calls="${BENCH_GO_CALLS:-4000}" \
  --rounds="${BENCH_GO_ROUNDS:-20}"
ls "$D/repo/archive/cluster-example/"*/0000000100000000/000000010000000000000001-* >/dev/null
