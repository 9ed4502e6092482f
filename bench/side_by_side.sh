#!/bin/bash
# Archives the same 64 real WAL segments four ways, in one run, and prints per-segment latency
# (p50/p99 of each archive_command), backlog throughput and the ratios:
#   bare   pgbackrest archive-push, synchronous (what archive_command would run without CNPG)
#   async  pgbackrest archive-push with archive-async=y, a spool and process-max=P
#   plugin CNPG's wal-archive (stand-in) → sidecar over the Unix socket → pgbackrest async, process-max P
#   plugin1 the same with synchronous pushes (--wal-push-parallel=-1): the plugin's overhead over bare
# Each archive_command runs like PostgreSQL's archiver: one at a time, oldest first, and the
# segment's .ready becomes .done only after success. Run as root on Debian 12: bench/side_by_side.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
N=${BENCH_SEGMENTS:-64}
P=${BENCH_PARALLEL:-$(nproc)}
COMPRESS=${BENCH_COMPRESS:-lz4}
D=${BENCH_DIR:-/tmp/cnpgi-bench}
PGBIN=/usr/lib/postgresql/15/bin
SIDECAR=$root/build/hosts/cnpgi-pgbackrest-sidecar
STANDIN=$root/build/tests/cnpgi-instance-standin
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }

tools/install-deps.sh
tools/build.sh >/dev/null
[[ -f $D/pgdata/postmaster.pid ]] && as_pg "$PGBIN/pg_ctl" -D "$D/pgdata" -m immediate stop >/dev/null 2>&1 || true
rm -rf "$D"
install -d -o postgres -g postgres "$D" "$D/sock"

# 1. N real, full segments from PostgreSQL (kept: no archiving, no recycling).
as_pg "$PGBIN/initdb" -D "$D/pgdata" -U postgres --auth=trust >/dev/null
cat >> "$D/pgdata/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$D/sock'
port = 55499
max_wal_size = 8GB
checkpoint_timeout = 1h
wal_keep_size = 4GB
fsync = off
CONF
as_pg "$PGBIN/pg_ctl" -D "$D/pgdata" -l "$D/pg.log" -w start >/dev/null
psql_() { as_pg psql -X -A -t -q -h "$D/sock" -p 55499 -U postgres -d postgres -c "$1"; }
psql_ "CREATE TABLE filler(id bigint, payload text)"
for _ in $(seq 1 "$N"); do
  psql_ "INSERT INTO filler SELECT g, md5(g::text) || repeat('x', 80) FROM generate_series(1, 90000) g" >/dev/null
  psql_ "SELECT pg_switch_wal()" >/dev/null
done
as_pg "$PGBIN/pg_ctl" -D "$D/pgdata" -m fast -w stop >/dev/null
mapfile -t segs < <(ls "$D/pgdata/pg_wal" | grep -E '^[0-9A-F]{24}$' | sort | head -n "$N")
echo "segments: ${#segs[@]} x 16 MiB (${segs[0]} .. ${segs[-1]}), compression $COMPRESS, parallelism $P, $(nproc) cores"

# A pristine copy of the data directory per mode, with every segment .ready as after a backlog.
fresh_pgdata() {
  rm -rf "$D/run"
  cp -a "$D/pgdata" "$D/run"
  rm -f "$D/run/pg_wal/archive_status/"*
  for s in "${segs[@]}"; do as_pg touch "$D/run/pg_wal/archive_status/$s.ready"; done
  rm -rf "$D/repo" "$D/spool" "$D/work"
  install -d -o postgres -g postgres "$D/repo" "$D/spool" "$D/work" "$D/plugins"
}
conf() {  # $1 = extra [global] lines
  cat > "$D/pgbackrest.conf" <<CONF
[global]
repo1-path=$D/repo
compress-type=$COMPRESS
log-level-console=off
log-level-file=off
lock-path=$D/spool/lock
spool-path=$D/spool
$1
CONF
  chown postgres:postgres "$D/pgbackrest.conf"
  as_pg pgbackrest --config="$D/pgbackrest.conf" --stanza=bench --pg1-path="$D/run" stanza-create --no-online >/dev/null
}
# Runs archive_command for every segment like PostgreSQL's archiver; prints per-call ms, then the total.
archiver() {  # $@ = command, %p replaced by pg_wal/<segment>
  local start end t0 t1
  start=$(date +%s%N)
  for s in "${segs[@]}"; do
    t0=$(date +%s%N)
    (cd "$D/run" && as_pg "${@//%p/pg_wal/$s}") || { echo "archive of $s failed" >&2; exit 1; }
    t1=$(date +%s%N)
    mv "$D/run/pg_wal/archive_status/$s.ready" "$D/run/pg_wal/archive_status/$s.done"
    echo $(( (t1 - t0) / 1000 ))
  done
  end=$(date +%s%N)
  echo "total $(( (end - start) / 1000 ))"
}
declare -A P50 P99 TOTAL STORED
summarize() {  # $1 = mode, $2 = file with the archiver's output
  local lines; lines=$(cat "$2")
  # Every segment must be in the repository, once.
  STORED[$1]=$(find "$D/repo/archive" -type f -regextype egrep -regex '.*/[0-9A-F]{24}-[0-9a-f]{40}.*' | wc -l)
  TOTAL[$1]=$(grep '^total' <<<"$lines" | cut -d' ' -f2)
  local sorted; sorted=$(grep -v '^total' <<<"$lines" | sort -n)
  local n; n=$(wc -l <<<"$sorted")
  P50[$1]=$(sed -n "$(( (n + 1) / 2 ))p" <<<"$sorted")
  P99[$1]=$(sed -n "$(( (n * 99 + 99) / 100 ))p" <<<"$sorted")
}

fresh_pgdata; conf ""
archiver pgbackrest --config="$D/pgbackrest.conf" --stanza=bench --pg1-path="$D/run" archive-push %p >"$D/bare.txt"
summarize bare "$D/bare.txt"

fresh_pgdata; conf "archive-async=y
process-max=$P"
archiver pgbackrest --config="$D/pgbackrest.conf" --stanza=bench --pg1-path="$D/run" archive-push %p >"$D/async.txt"
summarize async "$D/async.txt"

plugin_run() {  # $1 = mode, $2 = push parallelism
  fresh_pgdata
  cat > "$D/archives.json" <<JSON
[{"metadata": {"name": "bench"}, "spec": {"configuration": {"repositories": [{"type": "posix", "destinationPath": "$D/repo"}], "compression": "$COMPRESS"}}}]
JSON
  echo '{"metadata":{"name":"bench"},"spec":{"plugins":[{"name":"pgbackrest.cnpg.opera.com","parameters":{"pgbackrestObjectName":"bench"}}]},"status":{"currentPrimary":"bench-1","targetPrimary":"bench-1"}}' > "$D/cluster.json"
  chown postgres:postgres "$D/archives.json" "$D/cluster.json"
  setpriv --reuid=postgres --regid=postgres --init-groups -- env POD_NAME=bench-1 "$SIDECAR" serve \
    --plugin-path="$D/plugins" --work-dir="$D/work" --pgdata="$D/run" --archives-file="$D/archives.json" \
    --wal-push-parallel="$2" 2>"$D/sidecar-$1.log" &
  local pid=$!
  for _ in $(seq 1 100); do as_pg "$SIDECAR" probe --plugin-path="$D/plugins" 2>/dev/null && break; sleep 0.05; done
  archiver env POD_NAME=bench-1 "$STANDIN" wal-archive --cluster-json="$D/cluster.json" --plugins-dir="$D/plugins" \
    --pgdata="$D/run" %p >"$D/$1.txt"
  summarize "$1" "$D/$1.txt"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
plugin_run plugin1 -1
plugin_run plugin "$P"

ms() { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'; }
printf '\n%-8s %10s %10s %12s %12s %8s\n' mode p50_ms p99_ms backlog_s seg_per_s stored
for m in bare async plugin1 plugin; do
  printf '%-8s %10s %10s %12s %12s %8s\n' "$m" "$(ms "${P50[$m]}")" "$(ms "${P99[$m]}")" \
    "$(awk -v us="${TOTAL[$m]}" 'BEGIN { printf "%.2f", us / 1e6 }')" \
    "$(awk -v us="${TOTAL[$m]}" -v n="${#segs[@]}" 'BEGIN { printf "%.1f", n / (us / 1e6) }')" "${STORED[$m]}"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "per segment, plugin1/bare p50: $(ratio "${P50[plugin1]}" "${P50[bare]}")"
echo "backlog time, plugin/bare: $(ratio "${TOTAL[plugin]}" "${TOTAL[bare]}"), plugin/async: $(ratio "${TOTAL[plugin]}" "${TOTAL[async]}")"
for m in bare async plugin1 plugin; do
  [[ ${STORED[$m]} == "${#segs[@]}" ]] || { echo "$m stored ${STORED[$m]} of ${#segs[@]} segments" >&2; exit 1; }
done

# Per compression type, a real segment through the plugin's archive path in-process (posix; S3 too when
# the CNPGI_TEST_S3_* env of tests/services/rgw.sh is set).
install -d -o postgres -g postgres "$D/bw"
s3_env=()
for v in $(env | grep -o '^CNPGI_TEST_S3_[A-Z_]*'); do s3_env+=("$v=${!v}"); done
echo
as_pg env BENCH_PGDATA="$D/pgdata" BENCH_WORK="$D/bw" "${s3_env[@]}" "$root/build/bench/wal_archive_bench" 2>&1 \
  | grep -E '^ArchiveSegment|^Benchmark|^---'
