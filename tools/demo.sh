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
# The replica's earlier prefetch found the archive's end, so this miss is CNPG's end-of-stream signal.
echo "6. a segment that was never archived is not restored: $(grep -o 'code [0-9]*: .*' "$D/missing.err" | head -1)"
[[ $a == "$b" && $ready == 0 ]] || { echo "== demo FAILED (WAL path) =="; exit 1; }

# Backup through CNPG's Backup flow (method: plugin), then writes, then a point-in-time recovery.
cat > "$D/backup.json" <<JSON
{"apiVersion": "postgresql.cnpg.io/v1", "kind": "Backup",
 "metadata": {"name": "backup-example", "namespace": "default", "uid": "5d0c7a52-demo"},
 "spec": {"method": "plugin", "cluster": {"name": "cluster-example"}, "target": "primary",
          "pluginConfiguration": {"name": "pgbackrest.cnpg.opera.com", "parameters": {"type": "full"}}}}
JSON
chown postgres:postgres "$D/backup.json"
status=$(as_pg env POD_NAME=cluster-example-1 "$STANDIN" backup --cluster-json="$D/cluster.json" \
  --plugins-dir="$D/plugins" --backup-json="$D/backup.json")
echo "7. Backup backup-example completed: $(python3 -c 'import json,sys; s=json.loads(sys.argv[1]); print("backupId", s["backupId"], "WAL", s["beginWal"], "to", s["endWal"], "type", s["pluginMetadata"]["type"])' "$status")"

psql_ "INSERT INTO orders SELECT g, 'after backup' FROM generate_series(1, 500) g"
sleep 1.2
target=$(psql_ "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'")
sleep 1.2
psql_ "INSERT INTO orders SELECT g, 'too late' FROM generate_series(1, 200) g"
psql_ "SELECT pg_switch_wal()" >/dev/null
for _ in $(seq 1 300); do
  [[ -z $(ls "$D/pgdata/pg_wal/archive_status/" | grep '\.ready$' || true) ]] && break; sleep 0.1
done
echo "8. wrote 500 rows, noted $target, then 200 rows 'too late' ($(psql_ "SELECT count(*) FROM orders") rows now)"

# A new Cluster bootstrapped from the Archive with recoveryTarget.targetTime, as CNPG runs it.
install -d -o postgres -g postgres -m 0755 "$D/restore-plugins" "$D/restore-work" "$D/restore-sock"
cat > "$D/restore-cluster.json" <<JSON
{"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
 "metadata": {"name": "cluster-restore", "namespace": "default"},
 "spec": {"instances": 1,
          "bootstrap": {"recovery": {"source": "source", "recoveryTarget": {"targetTime": "$target"}}},
          "externalClusters": [{"name": "source", "plugin": {"name": "pgbackrest.cnpg.opera.com",
            "parameters": {"pgbackrestObjectName": "local-store", "stanza": "cluster-example"}}}]},
 "status": {"currentPrimary": "", "targetPrimary": "cluster-restore-1"}}
JSON
chown postgres:postgres "$D/restore-cluster.json"
setpriv --reuid=postgres --regid=postgres --init-groups -- env POD_NAME=cluster-restore-1 "$SIDECAR" serve \
  --plugin-path="$D/restore-plugins" --work-dir="$D/restore-work" --pgdata="$D/restored" \
  --archives-file="$D/archives.json" --instance-manager="$STANDIN" 2>"$D/restore-sidecar.log" &
restore_pid=$!
for _ in $(seq 1 100); do as_pg "$SIDECAR" probe --plugin-path="$D/restore-plugins" 2>/dev/null && break; sleep 0.1; done
hook=$(as_pg env POD_NAME=cluster-restore-1 "$STANDIN" restore --cluster-json="$D/restore-cluster.json" \
  --plugins-dir="$D/restore-plugins")
restore_config=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["restore_config"])' "$hook")
echo "9. the restore hook filled $D/restored from$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    try: j=json.loads(l)
    except Exception: continue
    if j.get("msg")=="restore done": print(" backup", j["backup"])' "$D/restore-sidecar.log")"
RPORT=$((PORT + 1))
cat >> "$D/restored/postgresql.conf" <<CONF
port = $RPORT
unix_socket_directories = '$D/restore-sock'
archive_mode = off
$restore_config
recovery_target_time = '$target'
CONF
as_pg touch "$D/restored/recovery.signal"
as_pg env PGDATA="$D/restored" POD_NAME=cluster-restore-1 CNPGI_STANDIN_CLUSTER_JSON="$D/restore-cluster.json" \
  CNPGI_STANDIN_PLUGINS_DIR="$D/restore-plugins" "$PGBIN/pg_ctl" -D "$D/restored" -l "$D/restored.log" -w start >/dev/null
rpsql() { as_pg psql -X -A -t -q -h "$D/restore-sock" -p "$RPORT" -U postgres -d postgres -c "$1"; }
for _ in $(seq 1 300); do [[ $(rpsql "SELECT pg_is_in_recovery()" 2>/dev/null) == f ]] && break; sleep 0.2; done
rows=$(rpsql "SELECT count(*) FROM orders"); late=$(rpsql "SELECT count(*) FROM orders WHERE item = 'too late'")
echo "10. cluster-restore recovered to $target and promoted: $rows rows, $late of them 'too late'"
as_pg "$PGBIN/pg_ctl" -D "$D/restored" -m fast -w stop >/dev/null
kill "$restore_pid" 2>/dev/null; wait "$restore_pid" 2>/dev/null || true
[[ $rows == 1800 && $late == 0 ]] && echo "== demo OK ==" || { echo "== demo FAILED =="; exit 1; }
