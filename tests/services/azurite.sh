#!/bin/bash
# Throwaway Azurite (the Azure Storage emulator, Blob service only) over HTTPS on loopback for one
# test run.
#
# usage:
#   azurite.sh start  DIR          start azurite-blob with a fresh certificate and an empty store,
#                                  create the container, write DIR/env (source it to get CNPGI_TEST_AZURE_*)
#   azurite.sh stop   DIR [--purge] stop it (by pid file); --purge also removes DIR
#   azurite.sh status DIR          exit 0 if the container answers a signed request, else 1
#   azurite.sh ls     DIR PREFIX   names of the blobs under PREFIX, one a line (signed List Blobs)
#   azurite.sh head   DIR BLOB N   the first N bytes of a blob (signed ranged Get Blob)
#
# Environment (all optional):
#   AZURITE_PORT       HTTPS port of the Blob service        (default 10000)
#   AZURITE_CONTAINER  container to create                   (default pgbr)
#   AZURITE_BIN        the azurite-blob program              (default: on PATH, else the one
#                      tools/install-deps.sh --tests installs under /opt/azurite)
#
# The account is a fixed throwaway one (AZURITE_ACCOUNTS), not Azurite's well-known
# devstoreaccount1, so a test cannot pass by accident against another emulator's defaults.
# `start DIR` first stops what a previous `start DIR` left running and wipes DIR's store.
# Everything listens on 127.0.0.1 only; clients use https://localhost:$AZURITE_PORT with path-style
# URIs (https://localhost:PORT/ACCOUNT/CONTAINER/...): pgBackRest 2.45 does not match IP SANs and
# Azurite takes the account from the first path segment (pgBackRest: repo-azure-uri-style=path).
# Requires: node (>= 18), the azurite npm package, openssl, curl.

set -euo pipefail

PROG=$(basename "$0")
# shellcheck source=tests/services/common.sh
source "$(dirname "$0")/common.sh"
PORT=${AZURITE_PORT:-10000}
CONTAINER=${AZURITE_CONTAINER:-pgbr}
ACCOUNT=cnpgitest
# base64 of a fixed throwaway 32-byte key ("cnpgi-pgbackrest azurite test k1")
KEY=Y25wZ2ktcGdiYWNrcmVzdCBhenVyaXRlIHRlc3QgazE=
# The REST API version our own signed requests use (pgBackRest 2.45 sends 2019-12-12 itself).
API_VERSION=2019-12-12

log() { echo "$PROG: $*" >&2; }

usage() {
    echo "usage: $PROG start|stop|status DIR   (stop DIR --purge also removes DIR)" >&2
    echo "       $PROG ls DIR PREFIX | head DIR BLOB BYTES" >&2
    exit 2
}

STARTING=0
die() {
    log "ERROR: $1"
    if [[ -s $D/log/azurite.out ]]; then
        echo "----- tail -n 30 $D/log/azurite.out -----" >&2
        tail -n 30 "$D/log/azurite.out" | cut -c1-300 >&2 || true
    fi
    if ((STARTING)); then
        STARTING=0
        cmd_stop || true
    fi
    exit 1
}

azurite_bin() {
    if [[ -n ${AZURITE_BIN:-} ]]; then echo "$AZURITE_BIN"; return; fi
    command -v azurite-blob 2>/dev/null && return
    [[ -x /opt/azurite/node_modules/.bin/azurite-blob ]] && { echo /opt/azurite/node_modules/.bin/azurite-blob; return; }
    die "azurite-blob not found (tools/install-deps.sh --tests installs it under /opt/azurite)"
}

# pid of the Azurite of THIS DIR if its pid file names a live process started on DIR's store
server_pid() {
    local pf="$D/run/azurite.pid" pid
    [[ -r $pf ]] || return 1
    pid=$(tr -dc '0-9' <"$pf")
    [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$D/data" || return 1
    echo "$pid"
}

# az_curl METHOD RESOURCE QUERY RANGE [curl args...]: a request signed with the account's shared
# key. RESOURCE is the path after the account (/container or /container/blob), QUERY the query
# string with its parameters sorted by name and values that need no percent-encoding but '/'
# (%2F), RANGE empty or a Range header value (bytes=0-7).
az_curl() {
    local method=$1 resource=$2 query=$3 range=$4; shift 4
    local date canon_query="" param sts keyhex sig url
    date=$(LC_ALL=C TZ=GMT date '+%a, %d %b %Y %H:%M:%S GMT')
    local -a params=()
    [[ -n $query ]] && IFS='&' read -r -a params <<<"$query"
    for param in "${params[@]}"; do canon_query+=$'\n'"${param%%=*}:${param#*=}"; done
    canon_query=${canon_query//%2F//}
    [[ -n $range ]] && set -- "$@" -H "Range: $range"
    # Shared Key string to sign: 12 standard headers (all empty here; an empty body's
    # Content-Length is signed as empty), the x-ms-* headers, then the canonical resource. With
    # path-style URIs the account appears twice: once as the signer, once as the path's first segment.
    sts="$method"$'\n\n\n\n\n\n\n\n\n\n\n'"$range"
    sts+=$'\n'"x-ms-date:$date"$'\n'"x-ms-version:$API_VERSION"$'\n'"/$ACCOUNT/$ACCOUNT$resource$canon_query"
    keyhex=$(base64 -d <<<"$KEY" | od -An -v -tx1 | tr -d ' \n')
    sig=$(printf '%s' "$sts" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$keyhex" -binary | base64)
    url="https://localhost:$PORT/$ACCOUNT$resource${query:+?$query}"
    curl -sS --max-time 10 --cacert "$D/tls/ca.crt" -X "$method" -H "x-ms-date: $date" \
        -H "x-ms-version: $API_VERSION" -H "Authorization: SharedKey $ACCOUNT:$sig" "$@" "$url"
}

healthy() {
    [[ -r $D/tls/ca.crt ]] || return 1
    local code
    code=$(az_curl GET "/$CONTAINER" "restype=container" "" -o /dev/null -w '%{http_code}' 2>/dev/null) || return 1
    [[ $code == 200 ]]
}

cmd_stop() {
    local pid
    if ! pid=$(server_pid); then
        rm -f "$D/run/azurite.pid"
        log "nothing running in $D"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
        log "azurite (pid $pid) did not exit within 10 s of SIGTERM, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
    fi
    rm -f "$D/run/azurite.pid"
    log "stopped azurite:$pid"
}

write_env() {
    cat >"$D/env.tmp" <<EOF
# generated by $PROG start $D  (throwaway test credentials)
export CNPGI_TEST_AZURE_ENDPOINT=localhost
export CNPGI_TEST_AZURE_PORT=$PORT
export CNPGI_TEST_AZURE_ACCOUNT=$ACCOUNT
export CNPGI_TEST_AZURE_KEY=$KEY
export CNPGI_TEST_AZURE_CONTAINER=$CONTAINER
export CNPGI_TEST_AZURE_CA_FILE=$D/tls/ca.crt
export CNPGI_TEST_AZURE_DIR=$D
EOF
    mv -f "$D/env.tmp" "$D/env"
}

cmd_start() {
    local t0=$SECONDS bin pid
    bin=$(azurite_bin)
    mkdir -p "$D"
    cmd_stop
    port_in_use "$PORT" && die "port $PORT on 127.0.0.1 is already in use (set AZURITE_PORT)"
    STARTING=1
    rm -rf "$D/data" "$D/run" "$D/env" "$D/log.prev"
    [[ -d $D/log ]] && mv "$D/log" "$D/log.prev"
    mkdir -p "$D/data" "$D/run" "$D/log"
    make_certs "$D/tls" "cnpgi-pgbackrest throwaway Azurite CA" || die "openssl: cannot create the test certificates"
    # --skipApiVersionCheck: Azurite refuses x-ms-version values newer than the one it was built
    # for; a newer pgBackRest may send one. --loose: it also refuses headers it does not implement.
    # Access log to the log file (-d would log every request body too).
    AZURITE_ACCOUNTS="$ACCOUNT:$KEY" setsid "$bin" --blobHost 127.0.0.1 --blobPort "$PORT" \
        --location "$D/data" --cert "$D/tls/server.crt" --key "$D/tls/server.key" \
        --skipApiVersionCheck --loose --disableTelemetry \
        >"$D/log/azurite.out" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$D/run/azurite.pid"
    # Until the child has exec'd azurite its command line is still this shell's, which server_pid
    # does not recognise: wait for the exec (or the child's end) before judging it.
    for _ in $(seq 1 100); do  # <= 5 s
        server_pid >/dev/null && break
        alive "$pid" || break
        sleep 0.05
    done
    server_pid >/dev/null || die "azurite exited at once"
    local ok=0
    for _ in $(seq 1 120); do  # <= 30 s
        if curl -s -o /dev/null --max-time 2 --cacert "$D/tls/ca.crt" "https://localhost:$PORT/"; then ok=1; break; fi
        server_pid >/dev/null || die "azurite exited during startup"
        sleep 0.25
    done
    ((ok)) || die "azurite does not answer on https://localhost:$PORT after 30 s"
    local code
    code=$(az_curl PUT "/$CONTAINER" "restype=container" "" -o "$D/log/container-create.out" -w '%{http_code}' \
        2>"$D/log/container-create.curl.out") || code=000
    [[ $code == 201 ]] || die "creating container $CONTAINER failed (HTTP $code: $(cat "$D/log/container-create.out" "$D/log/container-create.curl.out"))"
    healthy || die "container $CONTAINER does not answer signed requests"
    write_env
    STARTING=0
    log "Azurite up in $((SECONDS - t0)) s: https://localhost:$PORT/$ACCOUNT container=$CONTAINER env=$D/env"
}

# Settings of the instance `start DIR` made.
read_env() {
    [[ -r $D/env ]] || return 0
    PORT=$(sed -n 's/^export CNPGI_TEST_AZURE_PORT=//p' "$D/env")
    CONTAINER=$(sed -n 's/^export CNPGI_TEST_AZURE_CONTAINER=//p' "$D/env")
}

# ls PREFIX: every page of List Blobs (flat listing, no delimiter).
cmd_ls() {
    local prefix=$1 marker="" out query
    for _ in $(seq 1 100); do
        query="comp=list${marker:+&marker=$marker}&prefix=${prefix//\//%2F}&restype=container"
        out=$(az_curl GET "/$CONTAINER" "$query" "" --fail) || die "List Blobs failed"
        grep -o '<Name>[^<]*</Name>' <<<"$out" | sed 's/<Name>\(.*\)<\/Name>/\1/' || true
        marker=$(sed -n 's/.*<NextMarker>\([^<]*\)<\/NextMarker>.*/\1/p' <<<"$out")
        [[ -n $marker ]] || break
    done
}

cmd_head() {
    local blob=$1 bytes=$2
    az_curl GET "/$CONTAINER/$blob" "" "bytes=0-$((bytes - 1))" --fail || die "Get Blob $blob failed"
}

[[ $# -ge 2 ]] || usage
ACTION=$1
D=$2
[[ -n $D ]] || usage
case $D in /*) ;; *) D=$PWD/$D ;; esac
D=${D%/}

case $ACTION in
start) cmd_start ;;
stop)
    cmd_stop
    if [[ ${3:-} == --purge ]]; then rm -rf "$D"; log "removed $D"; fi
    ;;
status)
    read_env
    if healthy; then echo "Azure: https://localhost:$PORT/$ACCOUNT/$CONTAINER answers"; exit 0; fi
    echo "Azure: https://localhost:$PORT/$ACCOUNT/$CONTAINER does not answer"
    exit 1
    ;;
ls) [[ $# -eq 3 ]] || usage; read_env; cmd_ls "$3" ;;
head) [[ $# -eq 4 ]] || usage; read_env; cmd_head "$3" "$4" ;;
*) usage ;;
esac
