#!/bin/bash
# Local demo of the plugin's path on a posix repository, with real PostgreSQL 15 and pgBackRest:
# PostgreSQL's archive_command → CNPG's wal-archive (stand-in) → sidecar over /plugins → pgBackRest,
# then restore_command → wal-restore → sidecar → pgBackRest. Run as root on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

tools/install-deps.sh
tools/build.sh >/dev/null

D=${CNPGI_DEMO_DIR:-/tmp/cnpgi-demo}
PGBIN=/usr/lib/postgresql/15/bin
SIDECAR=$root/build/hosts/cnpgi-pgbackrest-sidecar
STANDIN=$root/build/tests/cnpgi-instance-standin
PORT=${CNPGI_DEMO_PORT:-55432}
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }

cleanup() {
  [[ -f $D/pgdata/postmaster.pid ]] && as_pg "$PGBIN/pg_ctl" -D "$D/pgdata" -m fast -w stop >/dev/null 2>&1 || true
  for pid in ${sidecar_pid:-} ${replica_pid:-}; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done || true
}
trap cleanup EXIT

# A fresh demo directory owned by postgres, the user PostgreSQL and the sidecar share in a Pod.
if [[ -f $D/pgdata/postmaster.pid ]]; then as_pg "$PGBIN/pg_ctl" -D "$D/pgdata" -m immediate stop >/dev/null 2>&1 || true; fi
pkill -f "$SIDECAR serve --plugin-path=$D/plugins" 2>/dev/null || true
rm -rf "$D"
install -d -o postgres -g postgres -m 0755 "$D" "$D/plugins" "$D/work" "$D/repo" "$D/sock" \
  "$D/replica-plugins" "$D/replica" "$D/replica/pg_wal"

cat > "$D/archives.json" <<JSON
[{"apiVersion": "pgbackrest.cnpg.opera.com/v1", "kind": "Archive",
  "metadata": {"name": "local-store", "namespace": "default"},
  "spec": {"configuration": {"repositories": [{"type": "posix", "destinationPath": "$D/repo"}],
                             "compression": "lz4"}}}]
JSON
cat > "$D/cluster.json" <<JSON
{"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
 "metadata": {"name": "cluster-example", "namespace": "default"},
 "spec": {"instances": 2, "plugins": [{"name": "pgbackrest.cnpg.opera.com", "isWALArchiver": true,
          "parameters": {"pgbackrestObjectName": "local-store"}}]},
 "status": {"currentPrimary": "cluster-example-1", "targetPrimary": "cluster-example-1", "timelineID": 1}}
JSON
chown postgres:postgres "$D"/*.json

as_pg "$PGBIN/initdb" -D "$D/pgdata" -U postgres --auth=trust --data-checksums >/dev/null
cat >> "$D/pgdata/postgresql.conf" <<CONF
listen_addresses = ''
port = $PORT
unix_socket_directories = '$D/sock'
archive_mode = on
archive_command = 'POD_NAME=cluster-example-1 $STANDIN wal-archive --cluster-json=$D/cluster.json --plugins-dir=$D/plugins %p'
CONF

echo "== cnpgi-pgbackrest demo (posix repository at $D/repo) =="
# setpriv directly (not the as_pg function) so that $! is the sidecar itself.
setpriv --reuid=postgres --regid=postgres --init-groups -- env POD_NAME=cluster-example-1 "$SIDECAR" serve --plugin-path="$D/plugins" --work-dir="$D/work" \
  --pgdata="$D/pgdata" --pg-socket-dir="$D/sock" --pg-port="$PORT" --archives-file="$D/archives.json" \
  2>"$D/sidecar.log" &
sidecar_pid=$!
for _ in $(seq 1 100); do as_pg "$SIDECAR" probe --plugin-path="$D/plugins" 2>/dev/null && break; sleep 0.1; done
as_pg "$SIDECAR" probe --plugin-path="$D/plugins"
echo "1. sidecar answers on $D/plugins/pgbackrest.cnpg.opera.com"

as_pg "$PGBIN/pg_ctl" -D "$D/pgdata" -l "$D/postgres.log" -w start >/dev/null
psql_() { as_pg psql -X -A -t -q -h "$D/sock" -p "$PORT" -U postgres -d postgres -c "$1"; }
psql_ "CREATE TABLE orders(id int, item text); INSERT INTO orders SELECT g, 'item ' || g FROM generate_series(1, 1000) g"
segments=()
for _ in 1 2 3; do
  psql_ "INSERT INTO orders SELECT g, 'more' FROM generate_series(1, 100) g"
  segments+=("$(psql_ "SELECT pg_walfile_name(pg_switch_wal())")")
done
echo "2. PostgreSQL wrote 1300 rows and finished WAL segments ${segments[*]}"

for _ in $(seq 1 300); do
  [[ -z $(ls "$D/pgdata/pg_wal/archive_status/" | grep '\.ready$' || true) ]] && break; sleep 0.1
done
ready=$(ls "$D/pgdata/pg_wal/archive_status/" | grep -c '\.ready$' || true)
archived=$(psql_ "SELECT archived_count || ' archived, ' || failed_count || ' failed, last ' || coalesce(last_archived_wal, '-') FROM pg_stat_archiver")
echo "3. archive_command went through the plugin: $archived; $ready segment(s) still waiting"

conf=$D/work/local-store/pgbackrest.conf
info=$(as_pg pgbackrest --config="$conf" --stanza=cluster-example info --output=json)
range=$(python3 -c 'import json,sys; a=json.loads(sys.argv[1])[0]["archive"][0]; print(a["min"], "to", a["max"], "in", a["id"])' "$info")
echo "4. pgBackRest stanza 'cluster-example' (created on the first archive, no backup needed) holds WAL $range"

seg=${segments[1]}
# A replica's data directory comes from the primary; pgBackRest matches WAL against its pg_control.
install -d -o postgres -g postgres -m 0700 "$D/replica/global"
install -o postgres -g postgres -m 0600 "$D/pgdata/global/pg_control" "$D/replica/global/pg_control"
setpriv --reuid=postgres --regid=postgres --init-groups -- env POD_NAME=cluster-example-2 "$SIDECAR" serve --plugin-path="$D/replica-plugins" --work-dir="$D/work-replica" \
  --pgdata="$D/replica" --archives-file="$D/archives.json" 2>"$D/replica-sidecar.log" &
replica_pid=$!
for _ in $(seq 1 100); do as_pg "$SIDECAR" probe --plugin-path="$D/replica-plugins" 2>/dev/null && break; sleep 0.1; done
as_pg env POD_NAME=cluster-example-2 "$STANDIN" wal-restore --cluster-json="$D/cluster.json" \
  --plugins-dir="$D/replica-plugins" --pgdata="$D/replica" "$seg" "pg_wal/$seg"
a=$(sha1sum < "$D/pgdata/pg_wal/$seg" | cut -c1-12); b=$(sha1sum < "$D/replica/pg_wal/$seg" | cut -c1-12)
echo "5. a replica's restore_command fetched $seg through its own sidecar: sha1 $b (primary $a) $([[ $a == "$b" ]] && echo identical || echo DIFFERENT)"
if POD_NAME=cluster-example-2 as_pg "$STANDIN" wal-restore --cluster-json="$D/cluster.json" \
  --plugins-dir="$D/replica-plugins" --pgdata="$D/replica" 0000000100000000000000FE pg_wal/RECOVERYXLOG 2>"$D/missing.err"; then
  echo "6. unexpected: a missing segment was reported as restored"; exit 1
fi
echo "6. a segment that was never archived is reported missing: $(grep -o "WAL file [^']*is not in Archive '[^']*' stanza '[^']*'" "$D/missing.err")"
[[ $a == "$b" && $ready == 0 ]] && echo "== demo OK ==" || { echo "== demo FAILED =="; exit 1; }
