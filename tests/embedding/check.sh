#!/bin/bash
# The library as a user gets it: `meson install` into a DESTDIR, what is installed (headers only,
# sonames, pkg-config, exported symbols), then hosts/example built against that install alone
# (pkg-config) and driven as CNPG's instance manager drives a plugin, down to one real WAL
# segment archived by pgBackRest into a posix repository and read back.
# Usage (meson test 'embedding'): check.sh BUILD_DIR SOURCE_DIR STANDIN
set -euo pipefail
# Nothing of the build tree may leak into what the installed copy is tested with.
unset LD_LIBRARY_PATH
build=$(realpath "$1") src=$(realpath "$2") standin=$(realpath "$3")
T=$(mktemp -d /tmp/cnpgi-embedding-XXXXXX)
host_pid=
cleanup() {
  # A killed host's wait status is not the test's.
  if [[ -n $host_pid ]]; then kill "$host_pid" 2>/dev/null; wait "$host_pid" 2>/dev/null || true; fi
  rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

option() { meson introspect "$build" --buildoptions | python3 -c "import json,sys; print(next(o['value'] for o in json.load(sys.stdin) if o['name']=='$1'))"; }
prefix=$(option prefix) libdir=$(option libdir) includedir=$(option includedir)
[[ $libdir == /* ]] || libdir=$prefix/$libdir
[[ $includedir == /* ]] || includedir=$prefix/$includedir
dest=$T/dest
meson install -C "$build" --no-rebuild --quiet --destdir "$dest" >/dev/null

# --- what is installed -----------------------------------------------------------------------
inc=$dest$includedir lib=$dest$libdir
others=$(find "$inc/cnpgi_pgbackrest" "$inc/cnpgi_protos" -type f ! -name '*.h')
[[ -z $others ]] || fail "installed include dirs hold more than headers: $others"
headers=$(cd "$inc" && find cnpgi_pgbackrest -name '*.h' | sort)
echo "installed $(wc -l <<<"$headers") public headers, $(find "$inc/cnpgi_protos" -name '*.h' | wc -l) protocol headers"
grep -q '_test' <<<"$headers" && fail "test headers installed"
for l in cnpgi_pgbackrest cnpgi_pgbackrest_grpc cnpgi_protos; do
  [[ -f $lib/pkgconfig/$l.pc ]] || fail "no pkg-config file $l.pc"
  soname=$(readelf -d "$lib/lib$l.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
  [[ $soname == lib$l.so.0 ]] || fail "lib$l.so has soname '$soname'"
done
# Only the API: every symbol the two plugin libraries define is ours (no generated protocol code,
# no internals, no standard-library instantiations).
for l in cnpgi_pgbackrest cnpgi_pgbackrest_grpc; do
  foreign=$(nm -D --defined-only "$lib/lib$l.so" | c++filt | cut -d' ' -f3- |
    grep -Ev '^((typeinfo|typeinfo name|vtable) for )?cnpgi_pgbackrest::' || true)
  [[ -z $foreign ]] || fail "lib$l.so exports more than its API: $(head -5 <<<"$foreign")"
  echo "lib$l.so exports $(nm -D --defined-only "$lib/lib$l.so" | wc -l) symbols, all cnpgi_pgbackrest::"
done
internals=$(nm -D --defined-only "$lib/libcnpgi_pgbackrest.so" | c++filt | grep -E 'ParseCluster|Engine::|RunProcess' || true)
[[ -z $internals ]] || fail "internals exported: $internals"
nm -D --defined-only "$lib/libcnpgi_protos.so" | c++filt | grep 'cnpgi::wal::v1::WALArchiveRequest' >/dev/null ||
  fail "libcnpgi_protos.so does not export the generated classes"

export PKG_CONFIG_PATH=$lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest
# Each core header on its own (no gRPC needed), then every header together.
for h in $(grep -v -e _grpc -e transport/ -e plugin_services -e sidecar_plugin -e operator_plugin <<<"$headers"); do
  echo "#include <$h>" | g++ -std=c++20 -fsyntax-only -x c++ - $(pkg-config --cflags cnpgi_pgbackrest) ||
    fail "$h does not compile on its own with pkg-config cnpgi_pgbackrest"
done
sed 's|.*|#include <&>|' <<<"$headers" | g++ -std=c++20 -fsyntax-only -x c++ - $(pkg-config --cflags cnpgi_pgbackrest_grpc) ||
  fail "the public headers do not compile with pkg-config cnpgi_pgbackrest_grpc"

# --- the example host, against the install only ----------------------------------------------
CXX="${CXX:-$(command -v ccache >/dev/null && echo 'ccache g++' || echo g++)}" \
  meson setup "$T/example-build" "$src/hosts/example" >"$T/example.log" 2>&1 ||
  fail "the example host does not configure: $(tail -20 "$T/example.log")"
ninja -C "$T/example-build" >>"$T/example.log" 2>&1 || fail "the example host does not build: $(tail -30 "$T/example.log")"
ldd "$T/example-build/example-host" >/dev/null

# --- driven as CNPG drives a sidecar -----------------------------------------------------------
chmod 755 "$T"
install -d -o postgres -g postgres "$T/pg" "$T/plugins" "$T/repo" "$T/work"
runuser -u postgres -- /usr/lib/postgresql/15/bin/initdb -D "$T/pg/data" -U postgres --auth=trust >/dev/null
cat >"$T/archives.json" <<JSON
[{"metadata":{"name":"local","namespace":"default"},
  "spec":{"configuration":{"repositories":[{"type":"posix","destinationPath":"$T/repo"}],"compression":"lz4"}}}]
JSON
install -m 644 "$src/tests/fixtures/cluster-example.json" "$T/cluster.json"
chmod 644 "$T/archives.json"
runuser -u postgres -- env LD_LIBRARY_PATH="$lib" PGHOST="$T/pg" PGPORT=5432 \
  "$T/example-build/example-host" --socket-dir="$T/plugins" --pgdata="$T/pg/data" \
  --archives-file="$T/archives.json" --work-dir="$T/work" 2>"$T/host.log" &
host_pid=$!
for _ in $(seq 100); do [[ -S $T/plugins/pgbackrest.cnpg.opera.com ]] && break; sleep 0.1; done
[[ -S $T/plugins/pgbackrest.cnpg.opera.com ]] || fail "the example host did not start: $(cat "$T/host.log")"

handshake=$("$standin" handshake --cluster-json="$T/cluster.json" --plugins-dir="$T/plugins")
echo "handshake: $handshake"
# Identity advertises exactly what was mounted: WAL (2) and Backup (3) from the library, Metrics (10) from the host.
python3 - "$handshake" <<'PY'
import json, sys
p = json.loads(sys.argv[1])["pgbackrest.cnpg.opera.com"]
assert sorted(p["services"]) == [2, 3, 10], p
assert sorted(p["wal"]) == [1, 2], p            # archive and restore
assert p["backup"] == [1], p
PY
"$standin" metrics --cluster-json="$T/cluster.json" --plugins-dir="$T/plugins" | grep '^example_host_uptime_seconds ' >/dev/null ||
  fail "the host's own Metrics capability did not answer"

seg=000000010000000000000001
POD_NAME=cluster-example-1 "$standin" wal-archive --cluster-json="$T/cluster.json" --plugins-dir="$T/plugins" \
  --pgdata="$T/pg/data" "$T/pg/data/pg_wal/$seg" || fail "WAL archive through the example host failed: $(tail -5 "$T/host.log")"
stored=$(find "$T/repo/archive/cluster-example" -name "$seg-*.lz4" | head -1)
[[ -n $stored ]] || fail "segment $seg is not in the repository"
runuser -u postgres -- pgbackrest --config="$T/work/local/pgbackrest.conf" --stanza=cluster-example \
  --pg1-path="$T/pg/data" archive-get "$seg" "$T/pg/restored-$seg" || fail "pgbackrest archive-get failed"
cmp "$T/pg/data/pg_wal/$seg" "$T/pg/restored-$seg" || fail "the segment read back differs"
echo "archived $seg through the embedded library: $(basename "$stored"), read back byte for byte"
echo "embedding: OK"
