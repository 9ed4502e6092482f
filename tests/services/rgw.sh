#!/bin/bash
# Throwaway Ceph RGW (S3 over HTTPS on loopback) for one test run.
#
# usage:
#   rgw.sh start  DIR          start mon + memstore OSD + radosgw, create user and bucket,
#                              write DIR/env (source it to get CNPGI_TEST_S3_*)
#   rgw.sh stop   DIR [--purge] stop the three daemons (by pid file); --purge also removes DIR
#   rgw.sh status DIR          exit 0 if S3 answers (signed HEAD of the bucket), else 1
#   rgw.sh stop-gateway DIR    stop radosgw only: mon and OSD keep running, and with the memstore
#                              OSD the objects (fault tests: the object store down, then back)
#   rgw.sh start-gateway DIR   start radosgw again after stop-gateway; waits until S3 answers
#
# Environment (all optional):
#   RGW_PORT        HTTPS port of radosgw                (default 7480)
#   RGW_BUCKET      bucket to create                     (default pgbr)
#   RGW_MON_PORT    mon msgr2 port                       (default 3300)
#   RGW_MON_V1_PORT mon legacy msgr1 port                (default 6789)
#                   (two instances at once need different RGW_PORT and mon ports; the OSD
#                   picks free ports in 6800-7300 itself)
#   RGW_ACCESS_KEY / RGW_SECRET_KEY   S3 credentials     (fixed throwaway test keys)
#   RGW_REUSE=1     on `start`: if the RGW of a previous `start DIR` is still running and
#                   answers with the same port/bucket, keep it (saves ~3 s; the bucket may
#                   contain objects from earlier runs).
#
# Idempotence: by default `start DIR` first stops whatever a previous `start DIR` left running
# (pid files in DIR/run), wipes the cluster state in DIR (mon store, OSD, certificates;
# old logs are moved to DIR/log.prev) and starts a fresh cluster. The OSD uses memstore
# (data in RAM, capped at 4 GiB), so a stopped cluster can never be restarted with data.
# Timing on the 2-core dev VM: start ~3 s (fresh), stop ~1 s.
# Teardown order for users: stop PostgreSQL (archiver) before `rgw.sh stop`, otherwise
# `pg_ctl -m fast stop` hangs while archive_command retries against the dead S3.
#
# Everything listens on 127.0.0.1 only. S3 endpoint is https://localhost:$RGW_PORT
# (pgBackRest 2.45 does not match IP SANs, so clients must use the DNS name localhost).
# Requires: ceph-mon ceph-osd radosgw ceph-common openssl curl (>= 7.75 for --aws-sigv4).

set -euo pipefail

PROG=$(basename "$0")
# shellcheck source=tests/services/common.sh
source "$(dirname "$0")/common.sh"
PORT=${RGW_PORT:-7480}
BUCKET=${RGW_BUCKET:-pgbr}
MON_PORT=${RGW_MON_PORT:-3300}
MON_V1_PORT=${RGW_MON_V1_PORT:-6789}
ACCESS_KEY=${RGW_ACCESS_KEY:-PGBRACCESSKEY0000001}
SECRET_KEY=${RGW_SECRET_KEY:-pgbrSecretKey0000000000000000000000000001}
REGION=us-east-1
# sha256 of the empty string: RGW rejects curl's sigv4 without this header
EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
DAEMONS=(client.rgw.a osd.0 mon.a)   # stop order

log() { echo "$PROG: $*" >&2; }

# die MESSAGE [LOGNAME...]: print message and the tail of the named ceph logs (the first
# one longer), stop what `start` already launched, exit 1
STARTING=0
die() {
    local msg=$1; shift
    log "ERROR: $msg"
    local name f n=30
    for name in "$@"; do
        for f in "$D/log/$name.log" "$D/log/$name.out"; do
            if [[ -s $f ]]; then
                echo "----- tail -n $n $f -----" >&2
                tail -n "$n" "$f" | cut -c1-300 >&2 || true
            fi
        done
        n=10
    done
    if ((STARTING)); then
        STARTING=0
        log "stopping the daemons started so far (logs kept in $D/log)"
        cmd_stop || true
    fi
    exit 1
}

usage() {
    echo "usage: $PROG start|stop|status|stop-gateway|start-gateway DIR   (stop DIR --purge also removes DIR)" >&2
    exit 2
}

# pid of daemon NAME if its pid file exists and the process is a ceph daemon of THIS DIR
daemon_pid() {
    local pf="$D/run/$1.pid" pid
    [[ -r $pf ]] || return 1
    pid=$(tr -dc '0-9' <"$pf")
    [[ -n $pid ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    # guard against pid reuse: the process must have been started with our ceph.conf
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$D/ceph.conf" || return 1
    echo "$pid"
}

ceph_cli() { timeout 20 ceph -c "$D/ceph.conf" --connect-timeout 15 "$@"; }

s3_curl() {  # s3_curl [curl args...] URL  -- signed request with the test keys
    curl -sS --max-time 10 --cacert "$D/tls/ca.crt" \
        --aws-sigv4 "aws:amz:$REGION:s3" --user "$ACCESS_KEY:$SECRET_KEY" \
        -H "x-amz-content-sha256: $EMPTY_SHA256" "$@"
}

# 0 if a signed HEAD of the bucket returns 200
s3_healthy() {
    [[ -r $D/tls/ca.crt ]] || return 1
    local code
    code=$(s3_curl -o /dev/null -w '%{http_code}' -I "https://localhost:$PORT/$BUCKET" 2>/dev/null) || return 1
    [[ $code == 200 ]]
}

# stop_one NAME: SIGTERM, wait up to 15 s, then SIGKILL (bounded)
stop_one() {
    local name=$1 pid
    pid=$(daemon_pid "$name") || { rm -f "$D/run/$name.pid"; return 1; }
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
        log "$name (pid $pid) did not exit within 15 s of SIGTERM, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
        alive "$pid" && die "$name (pid $pid) survived SIGKILL"
    fi
    rm -f "$D/run/$name.pid"
    STOPPED+=("$name:$pid")
}

# Stop in order rgw, osd, mon: the OSD tells the mon it is going down and would wait
# (osd mon shutdown timeout) if the mon were already gone.
cmd_stop() {
    local name
    STOPPED=()
    for name in "${DAEMONS[@]}"; do stop_one "$name" || true; done
    if ((${#STOPPED[@]})); then log "stopped ${STOPPED[*]}"; else log "nothing running in $D"; fi
    return 0
}

write_conf() {
    local fsid=$1
    cat >"$D/ceph.conf" <<EOF
# generated by $PROG - throwaway single-node test cluster, loopback only
[global]
fsid = $fsid
mon initial members = a
mon host = [v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$MON_V1_PORT]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
ms mon client mode = crc
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
run dir = $D/run
admin socket = $D/run/\$name.asok
log file = $D/log/\$name.log
pid file = $D/run/\$name.pid
mon data = $D/mon.\$id
osd data = $D/osd.\$id
osd objectstore = memstore
memstore device bytes = 4294967296
osd mon shutdown timeout = 2
# faster map updates: pool creation by radosgw drops from ~11 s to ~1 s
paxos propose interval = 0.1
paxos min wait = 0.01
[client.rgw.a]
rgw data = $D/rgw.a
rgw frontends = beast tcp_nodelay=1 ssl_endpoint=127.0.0.1:$PORT ssl_certificate=$D/tls/server.crt ssl_private_key=$D/tls/server.key
rgw dns name = localhost
EOF
}

write_env() {
    local tmp=$D/env.tmp
    cat >"$tmp" <<EOF
# generated by $PROG start $D  (throwaway test credentials)
export CNPGI_TEST_S3_ENDPOINT=localhost
export CNPGI_TEST_S3_PORT=$PORT
export CNPGI_TEST_S3_BUCKET=$BUCKET
export CNPGI_TEST_S3_REGION=$REGION
export CNPGI_TEST_S3_KEY=$ACCESS_KEY
export CNPGI_TEST_S3_SECRET=$SECRET_KEY
export CNPGI_TEST_S3_CA_FILE=$D/tls/ca.crt
EOF
    mv -f "$tmp" "$D/env"
}

cmd_start() {
    local t0=$SECONDS name pid all=1
    mkdir -p "$D"

    # ---- previous instance in the same DIR ----
    for name in "${DAEMONS[@]}"; do daemon_pid "$name" >/dev/null || all=0; done
    if [[ ${RGW_REUSE:-0} == 1 && $all == 1 && -r $D/env ]] &&
        grep -qx "export CNPGI_TEST_S3_PORT=$PORT" "$D/env" &&
        grep -qx "export CNPGI_TEST_S3_BUCKET=$BUCKET" "$D/env" && s3_healthy; then
        log "RGW_REUSE=1: reusing running RGW on https://localhost:$PORT (bucket $BUCKET)"
        return 0
    fi
    cmd_stop

    # ---- ports must be free (something else may be using them) ----
    local p
    for p in "$PORT" "$MON_PORT" "$MON_V1_PORT"; do
        port_in_use "$p" && die "port $p on 127.0.0.1 is already in use (set RGW_PORT / RGW_MON_PORT / RGW_MON_V1_PORT)"
    done

    # ---- fresh state ----
    STARTING=1
    rm -rf "$D/mon.a" "$D/osd.0" "$D/rgw.a" "$D/run" "$D/monmap" "$D/env" "$D/log.prev"
    [[ -d $D/log ]] && mv "$D/log" "$D/log.prev"
    mkdir -p "$D/run" "$D/log" "$D/mon.a" "$D/osd.0" "$D/rgw.a"
    make_certs "$D/tls" "cnpgi-pgbackrest throwaway test CA" || die "openssl: cannot create the test certificates"
    local fsid osd_uuid id
    fsid=$(cat /proc/sys/kernel/random/uuid)
    write_conf "$fsid"
    local C=(-c "$D/ceph.conf")

    # ---- mon ----
    monmaptool --create --fsid "$fsid" \
        --addv a "[v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$MON_V1_PORT]" "$D/monmap" \
        >"$D/log/monmaptool.out" 2>&1 || die "monmaptool failed" monmaptool
    timeout 30 ceph-mon "${C[@]}" --mkfs -i a --monmap "$D/monmap" >"$D/log/mon.a.out" 2>&1 \
        || die "ceph-mon --mkfs failed" mon.a
    timeout 30 ceph-mon "${C[@]}" -i a >>"$D/log/mon.a.out" 2>&1 || die "ceph-mon failed to start" mon.a
    # ---- osd ----
    osd_uuid=$(cat /proc/sys/kernel/random/uuid)
    id=$(ceph_cli osd new "$osd_uuid" 2>>"$D/log/ceph-cli.out") \
        || die "mon does not answer ('ceph osd new' failed or timed out after 20 s)" mon.a ceph-cli
    [[ $id == 0 ]] || die "unexpected OSD id '$id' (expected 0)" mon.a
    timeout 60 ceph-osd "${C[@]}" -i 0 --mkfs --osd-uuid "$osd_uuid" >"$D/log/osd.0.out" 2>&1 \
        || die "ceph-osd --mkfs failed" osd.0
    timeout 60 ceph-osd "${C[@]}" -i 0 >>"$D/log/osd.0.out" 2>&1 || die "ceph-osd failed to start" osd.0
    local up=0
    for _ in $(seq 1 60); do   # <= 30 s
        if ceph_cli osd dump 2>/dev/null | grep -q '^osd\.0 up'; then up=1; break; fi
        daemon_pid osd.0 >/dev/null || die "ceph-osd exited" osd.0 mon.a
        sleep 0.5
    done
    ((up)) || die "osd.0 not up after 30 s" osd.0 mon.a
    local t_osd=$SECONDS
    # ---- rgw ----
    timeout 30 radosgw "${C[@]}" -n client.rgw.a >"$D/log/client.rgw.a.out" 2>&1 \
        || die "radosgw failed to start" client.rgw.a
    local ok=0
    for _ in $(seq 1 240); do  # <= 60 s (pool creation happens on first start)
        if curl -s -o /dev/null --max-time 2 --cacert "$D/tls/ca.crt" "https://localhost:$PORT/"; then
            ok=1; break
        fi
        daemon_pid client.rgw.a >/dev/null || die "radosgw exited during startup" client.rgw.a osd.0
        sleep 0.25
    done
    ((ok)) || die "radosgw does not answer on https://localhost:$PORT after 60 s" client.rgw.a osd.0 mon.a
    local t_rgw=$SECONDS
    # ---- user + bucket ----
    timeout 60 radosgw-admin "${C[@]}" user create --uid=cnpgi-test --display-name=cnpgi-test \
        --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >"$D/log/radosgw-admin.out" 2>&1 \
        || die "radosgw-admin user create failed" radosgw-admin client.admin
    local code=
    for _ in $(seq 1 20); do   # <= ~20 s; the new user may take a moment to be visible
        code=$(s3_curl -o "$D/log/bucket-create.out" -w '%{http_code}' -X PUT \
            "https://localhost:$PORT/$BUCKET" 2>"$D/log/bucket-create.curl.out") || code=000
        [[ $code == 200 ]] && break
        # retry only what can be transient (no answer, user not visible yet, 5xx)
        [[ $code == 000 || $code == 403 || $code == 5* ]] || break
        sleep 1
    done
    [[ $code == 200 ]] || die "creating bucket $BUCKET failed (last HTTP $code)" bucket-create bucket-create.curl client.rgw.a
    ok=0
    for _ in $(seq 1 20); do s3_healthy && { ok=1; break; }; sleep 0.5; done
    ((ok)) || die "bucket $BUCKET not reachable with signed requests" client.rgw.a
    write_env
    STARTING=0
    log "RGW up in $((SECONDS - t0)) s (mon+osd $((t_osd - t0)) s, rgw $((t_rgw - t_osd)) s," \
        "user+bucket $((SECONDS - t_rgw)) s): https://localhost:$PORT bucket=$BUCKET env=$D/env"
}

# radosgw alone, on the cluster `start` made (mon + OSD still up): the objects survive.
cmd_stop_gateway() {
    STOPPED=()
    stop_one client.rgw.a || { log "radosgw is not running in $D"; return 0; }
    log "stopped ${STOPPED[*]} (mon and OSD keep the objects)"
}

cmd_start_gateway() {
    daemon_pid osd.0 >/dev/null && daemon_pid mon.a >/dev/null \
        || die "mon or OSD of $D is not running: the objects are gone, use start instead" mon.a osd.0
    if ! daemon_pid client.rgw.a >/dev/null; then
        timeout 30 radosgw -c "$D/ceph.conf" -n client.rgw.a >>"$D/log/client.rgw.a.out" 2>&1 \
            || die "radosgw failed to start" client.rgw.a
    fi
    local ok=0
    for _ in $(seq 1 240); do  # <= 60 s
        s3_healthy && { ok=1; break; }
        daemon_pid client.rgw.a >/dev/null || die "radosgw exited during startup" client.rgw.a
        sleep 0.25
    done
    ((ok)) || die "radosgw does not answer on https://localhost:$PORT after 60 s" client.rgw.a
    log "radosgw answers again on https://localhost:$PORT"
}

# Port, bucket and keys of the instance `start DIR` made.
read_env() {
    [[ -r $D/env ]] || return 0
    PORT=$(sed -n 's/^export CNPGI_TEST_S3_PORT=//p' "$D/env")
    BUCKET=$(sed -n 's/^export CNPGI_TEST_S3_BUCKET=//p' "$D/env")
    ACCESS_KEY=$(sed -n 's/^export CNPGI_TEST_S3_KEY=//p' "$D/env")
    SECRET_KEY=$(sed -n 's/^export CNPGI_TEST_S3_SECRET=//p' "$D/env")
}

cmd_status() {
    local name pid
    for name in "${DAEMONS[@]}"; do
        if pid=$(daemon_pid "$name"); then echo "$name: running (pid $pid)"; else echo "$name: not running"; fi
    done
    if s3_healthy; then
        echo "S3: https://localhost:$PORT/$BUCKET answers"
        return 0
    fi
    echo "S3: https://localhost:$PORT/$BUCKET does not answer"
    return 1
}

[[ $# -ge 2 ]] || usage
ACTION=$1
D=$2
[[ -n $D ]] || usage
# absolute path (ceph.conf, pid checks and env use it)
case $D in /*) ;; *) D=$PWD/$D ;; esac
D=${D%/}

case $ACTION in
start) cmd_start ;;
stop)
    cmd_stop
    if [[ ${3:-} == --purge ]]; then rm -rf "$D"; log "removed $D"; fi
    ;;
status)
    read_env  # the port/bucket of the running instance if known
    cmd_status
    ;;
stop-gateway) cmd_stop_gateway ;;
start-gateway)
    read_env
    cmd_start_gateway
    ;;
*) usage ;;
esac
