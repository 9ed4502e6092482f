# shellcheck shell=bash
# Shared by the throwaway test services (rgw.sh, azurite.sh); sourced, not run.

# alive PID: the process exists and is not a zombie (orphaned daemons are reaped by PID 1 later)
alive() {
    local st
    st=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
    [[ -n $st && $st != Z && $st != X ]]
}

# port_in_use PORT: 0 if something listens on 127.0.0.1/any:PORT
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# make_certs DIR CA_NAME: a fresh throwaway CA (DIR/ca.crt) and a server certificate for localhost and
# 127.0.0.1 signed by it (DIR/server.crt, DIR/server.key), valid 7 days. DIR and ca.crt are world-
# readable: clients (pgbackrest runs as postgres) must read the CA. Prints openssl's error and
# returns 1 on failure.
make_certs() {
    local t=$1 cn=$2
    rm -rf "$t"; mkdir -p "$t"; chmod 755 "$t"
    openssl req -x509 -newkey rsa:2048 -nodes -days 7 -sha256 \
        -keyout "$t/ca.key" -out "$t/ca.crt" -subj "/CN=$cn" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>"$t/openssl.err" \
        || { cat "$t/openssl.err" >&2; return 1; }
    openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$t/server.key" -out "$t/server.csr" \
        -subj "/CN=localhost" 2>"$t/openssl.err" \
        || { cat "$t/openssl.err" >&2; return 1; }
    cat >"$t/server.ext" <<EOT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
EOT
    openssl x509 -req -in "$t/server.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" -CAcreateserial \
        -days 7 -sha256 -extfile "$t/server.ext" -out "$t/server.crt" 2>"$t/openssl.err" \
        || { cat "$t/openssl.err" >&2; return 1; }
    chmod 600 "$t"/*.key
    chmod 644 "$t/ca.crt" "$t/server.crt"
}
