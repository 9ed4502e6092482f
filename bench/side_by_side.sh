#!/bin/bash
# Archives the same real WAL segments several ways, in one run, and prints per-segment latency
# (p50/p99 of each archive_command), backlog throughput and the ratios:
#   bare    pgbackrest archive-push, synchronous (what archive_command would run without CNPG)
#   async   pgbackrest archive-push with archive-async=y, a spool and process-max=P
#   plugin  CNPG's wal-archive (stand-in) → sidecar over the Unix socket, defaults: push-ahead on the
#           .ready mark, pgBackRest async (process-max P) for a backlog
#   plugin1 the same with synchronous pgBackRest pushes only (--wal-push-parallel=-1)
#   nahead  the default without push-ahead (--wal-push-ahead=false): what the Archive call alone costs
#   nomark  the default without marking stored segments .done during a call (--wal-mark-done=false):
#           PostgreSQL then runs archive_command (CNPG's process) for every segment
# Two scenarios per mode, each on a fresh repository:
#   backlog  all N segments .ready at once (a burst, or archiving that was down): time for all of them
#   single   one segment at a time, its .ready made just before archive_command runs, as PostgreSQL does
#            after each WAL switch: the latency a steadily writing cluster sees
# Each archive_command runs like PostgreSQL's archiver: one at a time, oldest first, skipped when the
# segment's .ready mark is gone (PostgreSQL checks it before each call), and .ready becomes .done
# after success. Then bench/go_overhead.sh (the per-call gRPC cost, unless BENCH_SKIP_GO=1) and the
# per-compression table. Run as root on Debian 12: bench/side_by_side.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
N=${BENCH_SEGMENTS:-64}
SINGLE=${BENCH_SINGLE:-16}
P=${BENCH_PARALLEL:-$(nproc)}
COMPRESS=${BENCH_COMPRESS:-lz4}
D=${BENCH_DIR:-/tmp/cnpgi-bench}
PGBIN=/usr/lib/postgresql/15/bin
SIDECAR=$root/build/hosts/cnpgi-pgbackrest-sidecar
STANDIN=$root/build/tests/cnpgi-instance-standin
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }

tools/install-deps.sh
tools/build.sh >/dev/null
# BENCH_REUSE=1 keeps the segments of an earlier run with the same N (they take a while to make).
if [[ -z ${BENCH_REUSE:-} || $(cat "$D/segments-made" 2>/dev/null) != "$N" ]]; then
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
  echo "$N" > "$D/segments-made"
fi
mapfile -t segs < <(ls "$D/pgdata/pg_wal" | grep -E '^[0-9A-F]{24}$' | sort | head -n "$N")
echo "segments: ${#segs[@]} x 16 MiB (${segs[0]} .. ${segs[-1]}), compression $COMPRESS, parallelism $P, $(nproc) cores"

# A pristine copy of the data directory per run; $1 = backlog (every segment .ready) or single (none).
fresh_pgdata() {
  rm -rf "$D/run"
  cp -a "$D/pgdata" "$D/run"
  rm -f "$D/run/pg_wal/archive_status/"*
  # The archiver runs in a running server, whose postmaster.pid the sidecar looks for.
  as_pg touch "$D/run/postmaster.pid"
  if [[ $1 == backlog ]]; then
    for s in "${segs[@]}"; do as_pg touch "$D/run/pg_wal/archive_status/$s.ready"; done
  fi
  rm -rf "$D/repo" "$D/spool" "$D/work"
  install -d -o postgres -g postgres "$D/repo" "$D/spool" "$D/work" "$D/plugins"
  # The copy's gigabyte must reach the disk now, not while the next run is being timed.
  sync
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
# Runs archive_command for segments like PostgreSQL's archiver; prints per-call µs, then the total.
# $1 = backlog (every segment, back to back) or single (the first SINGLE, each marked .ready just
# before its call, with a pause between so nothing carries over); the rest = command, %p → pg_wal/<segment>.
archiver() {
  local scenario=$1 start end t0 t1 list=("${segs[@]}")
  shift
  [[ $scenario == single ]] && list=("${segs[@]:0:$SINGLE}")
  start=$(date +%s%N)
  for s in "${list[@]}"; do
    if [[ $scenario == single ]]; then
      sleep 0.3
      as_pg touch "$D/run/pg_wal/archive_status/$s.ready"
    fi
    [[ -e $D/run/pg_wal/archive_status/$s.ready ]] || continue
    t0=$(date +%s%N)
    (cd "$D/run" && as_pg "${@//%p/pg_wal/$s}") || { echo "archive of $s failed" >&2; exit 1; }
    t1=$(date +%s%N)
    mv "$D/run/pg_wal/archive_status/$s.ready" "$D/run/pg_wal/archive_status/$s.done"
    echo $(( (t1 - t0) / 1000 ))
  done
  end=$(date +%s%N)
  echo "total $(( (end - start) / 1000 ))"
}
declare -A P50 P99 TOTAL CALLS SIDECAR_CPU
# After each run: every segment must be in the repository, once, and marked .done. $1 = run name,
# $2 = segments expected.
check_stored() {
  local stored; stored=$(find "$D/repo/archive" -type f -regextype egrep -regex '.*/[0-9A-F]{24}-[0-9a-f]{40}.*' | wc -l)
  [[ $stored == "$2" ]] || { echo "$1 stored $stored of $2 segments" >&2; exit 1; }
  local ready; ready=$(find "$D/run/pg_wal/archive_status" -name '*.ready' | wc -l)
  [[ $ready == 0 ]] || { echo "$1 left $ready segments .ready" >&2; exit 1; }
}
# Over the repeats of a run ($1 = mode/scenario, files $D/<mode>-<scenario>-<rep>.txt): p50/p99 of all
# calls pooled, and the median of the totals.
summarize() {
  local files=("$D/${1/\//-}"-*.txt)
  local sorted; sorted=$(cat "${files[@]}" | grep -v '^total' | sort -n)
  local n; n=$(wc -l <<<"$sorted")
  P50[$1]=$(sed -n "$(( (n + 1) / 2 ))p" <<<"$sorted")
  P99[$1]=$(sed -n "$(( (n * 99 + 99) / 100 ))p" <<<"$sorted")
  local totals; totals=$(cat "${files[@]}" | grep '^total' | cut -d' ' -f2 | sort -n)
  TOTAL[$1]=$(sed -n "$(( ($(wc -l <<<"$totals") + 1) / 2 ))p" <<<"$totals")
  local calls; calls=$(for f in "${files[@]}"; do grep -vc '^total' "$f"; done | sort -n)
  CALLS[$1]=$(sed -n "$(( ($(wc -l <<<"$calls") + 1) / 2 ))p" <<<"$calls")
}
expected() { [[ $1 == backlog ]] && echo "${#segs[@]}" || echo "$SINGLE"; }

bare_run() {  # $1 = scenario
  fresh_pgdata "$1"; conf ""
  archiver "$1" pgbackrest --config="$D/pgbackrest.conf" --stanza=bench --pg1-path="$D/run" archive-push %p \
    >"$D/bare-$1-$REP.txt"
  check_stored "bare/$1" "$(expected "$1")"
}
async_run() {
  fresh_pgdata "$1"; conf "archive-async=y
process-max=$P"
  archiver "$1" pgbackrest --config="$D/pgbackrest.conf" --stanza=bench --pg1-path="$D/run" archive-push %p \
    >"$D/async-$1-$REP.txt"
  check_stored "async/$1" "$(expected "$1")"
}
plugin_run() {  # $1 = mode, $2 = scenario, the rest = sidecar flags
  local mode=$1 scenario=$2
  shift 2
  fresh_pgdata "$scenario"
  cat > "$D/archives.json" <<JSON
[{"metadata": {"name": "bench"}, "spec": {"configuration": {"repositories": [{"type": "posix", "destinationPath": "$D/repo"}], "compression": "$COMPRESS"}}}]
JSON
  echo '{"metadata":{"name":"bench"},"spec":{"plugins":[{"name":"pgbackrest.cnpg.opera.com","parameters":{"pgbackrestObjectName":"bench"}}]},"status":{"currentPrimary":"bench-1","targetPrimary":"bench-1"}}' > "$D/cluster.json"
  chown postgres:postgres "$D/archives.json" "$D/cluster.json"
  conf ""  # the stanza exists before timing starts, as for bare and async
  setpriv --reuid=postgres --regid=postgres --init-groups -- env POD_NAME=bench-1 "$SIDECAR" serve \
    --plugin-path="$D/plugins" --work-dir="$D/work" --pgdata="$D/run" --archives-file="$D/archives.json" \
    "$@" ${BENCH_SIDECAR_FLAGS:-} 2>"$D/sidecar-$mode-$scenario.log" &
  local pid=$!
  for _ in $(seq 1 100); do as_pg "$SIDECAR" probe --plugin-path="$D/plugins" 2>/dev/null && break; sleep 0.05; done
  archiver "$scenario" env POD_NAME=bench-1 "$STANDIN" wal-archive --cluster-json="$D/cluster.json" \
    --plugins-dir="$D/plugins" --pgdata="$D/run" %p >"$D/$mode-$scenario-$REP.txt"
  # The sidecar's own CPU (user + system ticks) for the run: what the plugin adds beside pgBackRest.
  SIDECAR_CPU[$mode/$scenario]=${SIDECAR_CPU[$mode/$scenario]:-}$(awk -v hz="$(getconf CLK_TCK)" '{ printf " %.2f", ($14 + $15) / hz }' "/proc/$pid/stat")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  check_stored "$mode/$scenario" "$(expected "$scenario")"
}
MODES=(${BENCH_MODES:-bare async plugin plugin1 nahead nomark})
SCENARIOS=(${BENCH_SCENARIOS:-backlog single})
# Runs are interleaved (every mode once, then again) so that background noise hits all modes alike,
# and the order rotates with each repeat, so that no mode always follows the same one.
rm -f "$D"/*-backlog-*.txt "$D"/*-single-*.txt
for REP in $(seq 1 "${BENCH_REPEAT:-3}"); do
  order=("${MODES[@]:$(( (REP - 1) % ${#MODES[@]} ))}" "${MODES[@]:0:$(( (REP - 1) % ${#MODES[@]} ))}")
  for scenario in "${SCENARIOS[@]}"; do
    for m in "${order[@]}"; do
      case $m in
        bare) bare_run "$scenario" ;;
        async) async_run "$scenario" ;;
        plugin) plugin_run plugin "$scenario" --wal-push-parallel="$P" ;;
        plugin1) plugin_run plugin1 "$scenario" --wal-push-parallel=-1 ;;
        nahead) plugin_run nahead "$scenario" --wal-push-parallel="$P" --wal-push-ahead=false ;;
        nomark) plugin_run nomark "$scenario" --wal-push-parallel="$P" --wal-mark-done=false ;;
      esac
    done
  done
done
for scenario in "${SCENARIOS[@]}"; do for m in "${MODES[@]}"; do summarize "$m/$scenario"; done; done

ms() { awk -v us="$1" 'BEGIN { if (us == "") print "-"; else printf "%.1f", us / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "n/a"; else printf "%.2f", a / b }'; }
printf '\n%-8s | %-42s | %-22s\n' "" "backlog of ${#segs[@]}, ${BENCH_REPEAT:-3} runs" "single segments ($SINGLE)"
printf '%-8s | %5s %8s %8s %9s %8s | %10s %10s\n' mode calls p50_ms p99_ms total_s seg/s p50_ms p99_ms
for m in "${MODES[@]}"; do
  printf '%-8s | %5s %8s %8s %9s %8s | %10s %10s\n' "$m" "${CALLS[$m/backlog]:--}" "$(ms "${P50[$m/backlog]:-}")" "$(ms "${P99[$m/backlog]:-}")" \
    "$(awk -v us="${TOTAL[$m/backlog]:-}" 'BEGIN { if (us == "") print "-"; else printf "%.2f", us / 1e6 }')" \
    "$(awk -v us="${TOTAL[$m/backlog]:-}" -v n="${#segs[@]}" 'BEGIN { if (us == "") print "-"; else printf "%.1f", n / (us / 1e6) }')" \
    "$(ms "${P50[$m/single]:-}")" "$(ms "${P99[$m/single]:-}")"
done
echo
echo "per segment (single, p50): plugin/bare $(ratio "${P50[plugin/single]:-}" "${P50[bare/single]:-}"), plugin1/bare $(ratio "${P50[plugin1/single]:-}" "${P50[bare/single]:-}"), nahead/bare $(ratio "${P50[nahead/single]:-}" "${P50[bare/single]:-}")"
echo "per segment (backlog, p50): plugin/bare $(ratio "${P50[plugin/backlog]:-}" "${P50[bare/backlog]:-}")"
echo "backlog time: plugin/bare $(ratio "${TOTAL[plugin/backlog]:-}" "${TOTAL[bare/backlog]:-}"), plugin/async $(ratio "${TOTAL[plugin/backlog]:-}" "${TOTAL[async/backlog]:-}"), nahead/async $(ratio "${TOTAL[nahead/backlog]:-}" "${TOTAL[async/backlog]:-}"), nomark/async $(ratio "${TOTAL[nomark/backlog]:-}" "${TOTAL[async/backlog]:-}")"
for m in plugin plugin1 nahead nomark; do
  [[ -n ${SIDECAR_CPU[$m/backlog]:-}${SIDECAR_CPU[$m/single]:-} ]] &&
    echo "sidecar CPU seconds per run, $m: backlog${SIDECAR_CPU[$m/backlog]:-} single${SIDECAR_CPU[$m/single]:-}"
done
# The per-call gRPC overhead with a Go client like CNPG's (bench/go_overhead.sh).
if [[ -z ${BENCH_SKIP_GO:-} ]]; then
  echo
  bench/go_overhead.sh
fi
[[ -n ${BENCH_SKIP_SEGMENT_BENCH:-} ]] && exit 0

# Per compression type, a real segment through the plugin's archive path in-process (posix; S3 too when
# the CNPGI_TEST_S3_* env of tests/services/rgw.sh is set).
install -d -o postgres -g postgres "$D/bw"
s3_env=()
for v in $(env | grep -o '^CNPGI_TEST_S3_[A-Z_]*'); do s3_env+=("$v=${!v}"); done
echo
as_pg env BENCH_PGDATA="$D/pgdata" BENCH_WORK="$D/bw" "${s3_env[@]}" "$root/build/bench/wal_archive_bench" 2>&1 \
  | grep -E '^ArchiveSegment|^Benchmark|^---'
