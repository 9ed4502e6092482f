#!/bin/bash
# Builds the operator and the sidecar images without a Docker daemon and without a registry:
#   1. a Debian 12 rootfs made with `debootstrap --variant=minbase bookworm` from the Debian mirror
#      of this machine's apt sources, imported with `podman import` (cached as a tar file);
#   2. per image a runtime layer (Containerfile.runtime): its user, the Debian packages that
#      provide the shared libraries its binary loads (found with ldd and dpkg -S), and for the
#      sidecar pgBackRest and tini (cached as an image and as an archive, keyed by all of that);
#   3. the image itself (Containerfile.operator / Containerfile.sidecar): the binary and the
#      project's shared libraries from `meson install --destdir`, stripped. Nothing is compiled.
# Run as root on Debian 12 after building the project (tools/build.sh); tools/install-deps.sh
# --tests installs podman, buildah, debootstrap and runc.
#
# Usage: manifests/containers/build-images.sh [options]
#   --build-dir DIR    meson build directory to install from (default: build)
#   --pgbackrest SRC   debian (default): pgBackRest 2.45 from Debian 12, which supports PostgreSQL
#                      up to 15; pgdg: the newest pgBackRest from apt.postgresql.org (PostgreSQL
#                      13 to 18), for published images. The project's machines cannot reach
#                      apt.postgresql.org, so only `debian` is built and tested there.
#   --registry NAME    image name prefix (default: ghcr.io/cnpgi-pgbackrest, as in manifests/):
#                      the images are NAME/operator:TAG and NAME/sidecar:TAG
#   --tag TAG          image tag (default: the project version in meson.build)
#   --refresh          rebuild the cached rootfs and runtime layers (to take Debian's updates)
# Environment: CNPGI_IMAGE_CACHE (default /var/cache/cnpgi-pgbackrest), CNPGI_DEBIAN_MIRROR and
# CNPGI_DEBIAN_SECURITY_MIRROR (default: from /etc/apt/sources.list*).
# The last two lines of its output are "operator REF BYTES" and "sidecar REF BYTES".
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build_dir=build
pgbackrest_source=debian
registry=ghcr.io/cnpgi-pgbackrest
tag=
refresh=0
while (($#)); do
  case $1 in
    --build-dir) build_dir=$2; shift 2 ;;
    --pgbackrest) pgbackrest_source=$2; shift 2 ;;
    --registry) registry=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --refresh) refresh=1; shift ;;
    *) echo "unknown argument '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
done
case $pgbackrest_source in debian | pgdg) ;; *) echo "--pgbackrest must be debian or pgdg" >&2; exit 2 ;; esac
[[ $build_dir == /* ]] || build_dir=$root/$build_dir
if [[ $(id -u) != 0 ]]; then
  echo "build-images.sh needs root (debootstrap, podman and buildah with their system storage)" >&2
  exit 1
fi
for tool in debootstrap podman buildah meson ldd dpkg strip; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed (tools/install-deps.sh --tests)" >&2; exit 1; }
done
for bin in operator sidecar; do
  [[ -x $build_dir/hosts/cnpgi-pgbackrest-$bin ]] ||
    { echo "$build_dir/hosts/cnpgi-pgbackrest-$bin is missing: build first (tools/build.sh)" >&2; exit 1; }
done
if [[ -z $tag ]]; then
  tag=$(meson introspect --projectinfo "$build_dir" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
fi

# The same storage for podman and buildah: vfs works on these machines (no overlay mount needed).
podman() { command podman --storage-driver=vfs "$@"; }
buildah() { command buildah --storage-driver=vfs "$@"; }
# remove_images PATTERN [KEEP]: the images named like PATTERN (a podman reference filter), but KEEP.
remove_images() {
  local name
  podman images --format '{{.Repository}}:{{.Tag}}' --filter "reference=$1" | while read -r name; do
    [[ $name == "${2:-}" ]] || podman rmi -f "$name" >/dev/null 2>&1 || true
  done
}

cache=${CNPGI_IMAGE_CACHE:-/var/cache/cnpgi-pgbackrest}
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9  # one build at a time per cache
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/empty"  # the build context of the runtime layers
start=$SECONDS
step() { echo "[$((SECONDS - start)) s] $*"; }
sha() { sha256sum | cut -c1-16; }

# --- 1. the Debian 12 base rootfs ---------------------------------------------------------------

# The first URI of a "deb" source for suite $1 in this machine's apt sources (both formats).
apt_mirror() {
  local suite=$1 files=() f
  for f in /etc/apt/sources.list.d/*.sources; do [[ -f $f ]] && files+=("$f"); done
  if ((${#files[@]})); then
    awk -v s="$suite" 'BEGIN { RS = ""; FS = "\n" }
      { types = uris = suites = ""
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^Types:/) types = " " substr($i, 7) " "
          if ($i ~ /^URIs:/) uris = substr($i, 6)
          if ($i ~ /^Suites:/) suites = " " substr($i, 8) " " }
        gsub(/[ \t]+/, " ", types); gsub(/[ \t]+/, " ", suites)
        if (index(types, " deb ") && index(suites, " " s " ")) { split(uris, u, " "); print u[1]; exit } }' \
      "${files[@]}" | head -n 1
  fi
  { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } |
    awk -v s="$suite" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                                     if ($(i + 1) == s) { print $i; exit } }'
}
mirror=${CNPGI_DEBIAN_MIRROR:-$(apt_mirror bookworm | head -n 1)}
mirror=${mirror:-http://deb.debian.org/debian}
security=${CNPGI_DEBIAN_SECURITY_MIRROR:-$(apt_mirror bookworm-security | head -n 1)}
security=${security:-http://deb.debian.org/debian-security}

# debootstrap's minbase, made smaller as Debian's slim images are: no documentation, manual pages
# or translations, now or from later installs (copyright files stay); no package lists or caches.
make_rootfs() {
  local out=$1 r=$work/rootfs
  if ! debootstrap --variant=minbase bookworm "$r" "$mirror" >"$work/debootstrap.log" 2>&1; then
    tail -n 20 "$work/debootstrap.log" >&2
    echo "debootstrap from $mirror failed (log above)" >&2
    return 1
  fi
  printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s bookworm-security main\n' \
    "$mirror" "$mirror" "$security" >"$r/etc/apt/sources.list"
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
    'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' 'path-exclude /usr/share/locale/*' \
    'path-include /usr/share/locale/locale.alias' 'path-exclude /usr/share/lintian/*' \
    >"$r/etc/dpkg/dpkg.cfg.d/cnpgi-slim"
  printf '%s\n' 'APT::Install-Recommends "false";' 'APT::Install-Suggests "false";' >"$r/etc/apt/apt.conf.d/90cnpgi"
  find "$r/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$r/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  rm -rf "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/usr/share/lintian/* "$r"/var/lib/apt/lists/* \
    "$r"/var/cache/apt/*.bin "$r"/var/cache/apt/archives/*.deb "$r"/var/log/*.log "$r"/var/log/apt/*
  tar --numeric-owner -C "$r" -cf "$out.tmp" .
  mv "$out.tmp" "$out"
  rm -rf "$r"
}

base_key=$(printf '%s\n' "$mirror" "$security" "$(declare -f make_rootfs)" | sha)
base_ref=localhost/cnpgi-pgbackrest/debian:bookworm-$base_key
base_tar=$cache/debian-bookworm-$base_key.tar
if ((refresh)); then
  rm -f "$cache"/debian-bookworm-*.tar "$cache"/runtime-*.tar
  remove_images 'localhost/cnpgi-pgbackrest/*'
fi
if [[ ! -f $base_tar ]]; then
  step "debootstrap --variant=minbase bookworm from $mirror"
  rm -f "$cache"/debian-bookworm-*.tar  # older recipes or mirrors
  make_rootfs "$base_tar"
fi
if ! podman image exists "$base_ref"; then
  step "podman import $base_ref"
  podman import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' "$base_tar" "$base_ref" >"$work/import.log" 2>&1 ||
    { cat "$work/import.log" >&2; exit 1; }
fi

# --- 2. the project, installed into a staging directory ----------------------------------------
stage=$work/stage
meson install -C "$build_dir" --destdir "$stage" --no-rebuild --quiet >/dev/null
stage_libs=$(find "$stage" -name '*.so*' -printf '%h\n' | sort -u | paste -sd:)  # every installed library

# The shared libraries a staged binary loads: "stage PATH" for the project's, "system PATH" for others.
libraries() {
  local out
  out=$(LD_LIBRARY_PATH=$stage_libs ldd "$1")
  if grep -q 'not found' <<<"$out"; then
    echo "$1: shared libraries not found:" >&2
    grep 'not found' <<<"$out" >&2
    return 1
  fi
  awk -v stage="$stage" '$2 == "=>" && $3 ~ /^\// { print (index($3, stage) == 1 ? "stage " : "system ") $3 }' <<<"$out"
}

# The Debian packages that ship the libraries given (one dpkg -S for all; with merged /usr, dpkg
# may know a library under /usr or only by its target). Fails naming a library no package ships.
packages_of() {
  local lib candidates=() out p
  for lib; do candidates+=("$lib" "/usr$lib" "$(readlink -f "$lib")"); done
  out=$(dpkg -S "${candidates[@]}" 2>/dev/null || true)
  for lib; do
    p=$(awk -F': ' -v a="$lib" -v b="/usr$lib" -v c="$(readlink -f "$lib")" \
      '$2 == a || $2 == b || $2 == c { split($1, names, /[:,]/); print names[1]; exit }' <<<"$out")
    [[ -n $p ]] || { echo "no Debian package ships $lib (dpkg -S)" >&2; return 1; }
    echo "$p"
  done
}

# --- 3. per image: the cached runtime layer, then the image ------------------------------------

# runtime_layer IMAGE USER_ID USER_NAME USER_HOME PGBACKREST PACKAGES... -> prints the runtime image ref
runtime_layer() {
  local image=$1 uid=$2 user=$3 home=$4 pgbr=$5
  shift 5
  local packages="$*"
  local key name=runtime-$image-$pgbr  # one cache entry per image and pgBackRest source
  key=$(printf '%s\n' "$base_ref" "$uid" "$user" "$home" "$pgbr" "$packages" | cat - "$here/Containerfile.runtime" | sha)
  local ref=localhost/cnpgi-pgbackrest/$name:$key archive=$cache/$name-$key.tar
  if ! podman image exists "$ref"; then
    if [[ -f $archive ]]; then
      step "$image: podman load $ref from the cache" >&2
      podman load -q -i "$archive" >/dev/null
    else
      step "$image: runtime layer $ref (apt-get install $packages, pgBackRest: $pgbr)" >&2
      buildah bud --isolation=chroot --pull=never --layers=false -q -f "$here/Containerfile.runtime" \
        --build-arg BASE="$base_ref" --build-arg USER_ID="$uid" --build-arg USER_NAME="$user" \
        --build-arg USER_HOME="$home" --build-arg PGBACKREST="$pgbr" --build-arg PACKAGES="$packages" \
        -t "$ref" "$work/empty" >"$work/runtime-$image.log" 2>&1 || { cat "$work/runtime-$image.log" >&2; return 1; }
      rm -f "$cache/$name-"*.tar
      podman save -q --format oci-archive -o "$archive.tmp" "$ref" && mv "$archive.tmp" "$archive"
    fi
  fi
  # Older runtime layers of this kind take disk space for nothing (vfs copies every layer).
  remove_images "localhost/cnpgi-pgbackrest/$name" "$ref"
  echo "$ref"
}

# build_image IMAGE USER_ID USER_NAME USER_HOME PGBACKREST EXTRA_PACKAGES...
build_image() {
  local image=$1 uid=$2 user=$3 home=$4 pgbr=$5
  shift 5
  local bin=$stage/usr/local/bin/cnpgi-pgbackrest-$image ctx=$work/context-$image
  [[ -x $bin ]] || bin=$(find "$stage" -path "*/bin/cnpgi-pgbackrest-$image" | head -n 1)
  local libs system=() packages kind lib
  libs=$(libraries "$bin")
  # The project's libraries go into the image; the others come from their Debian packages.
  mkdir -p "$ctx/usr/local/bin"
  cp "$bin" "$ctx/usr/local/bin/"
  while read -r kind lib; do
    if [[ $kind == stage ]]; then
      local dest=$ctx${lib#"$stage"}
      mkdir -p "$(dirname "$dest")"
      cp -P "$lib" "$dest"
      cp "$(readlink -f "$lib")" "$(dirname "$dest")/"
    else
      system+=("$lib")
    fi
  done <<<"$libs"
  find "$ctx" -type f -exec strip --strip-unneeded {} +
  # The sidecar's shell wrapper (a script: copied after stripping).
  if [[ $image == sidecar ]]; then cp "$(dirname "$bin")/pgbr" "$ctx/usr/local/bin/"; fi
  packages=$(packages_of "${system[@]}")
  mapfile -t packages < <(printf '%s\n' $packages "$@" | sort -u)
  local runtime
  runtime=$(runtime_layer "$image" "$uid" "$user" "$home" "$pgbr" "${packages[@]}")
  local ref=$registry/$image:$tag old key
  echo "$ref" >"$work/$image.ref"
  # An image built from the same runtime layer (by id: --refresh rebuilds it under the same name),
  # Containerfile and files is kept as it is.
  key=$( (podman image inspect --format '{{.Id}}' "$runtime"; echo "$tag"; cat "$here/Containerfile.$image"; cd "$ctx" && find . -type f -o -type l | sort |
    xargs sha256sum) | sha)
  old=$(podman image inspect --format '{{.Id}} {{index .Labels "io.cnpgi-pgbackrest.build-key"}}' "$ref" 2>/dev/null || true)
  if [[ ${old#* } == "$key" ]]; then
    step "$image: $ref is up to date"
    return 0
  fi
  old=${old%% *}
  step "$image: $ref"
  buildah bud --isolation=chroot --pull=never --layers=false -q -f "$here/Containerfile.$image" \
    --build-arg RUNTIME="$runtime" --build-arg VERSION="$tag" --label "io.cnpgi-pgbackrest.build-key=$key" \
    -t "$ref" "$ctx" >"$work/$image.log" 2>&1 || { cat "$work/$image.log" >&2; return 1; }
  # The image this tag named before is left without a name: remove it (vfs keeps full copies).
  if [[ -n $old && $old != "$(podman image inspect --format '{{.Id}}' "$ref")" ]]; then
    podman rmi "$old" >/dev/null 2>&1 || true
  fi
}

build_image operator 65532 nonroot /nonexistent none
build_image sidecar 26 postgres /var/lib/postgresql "$pgbackrest_source" tini
step "done"
for image in operator sidecar; do
  ref=$(cat "$work/$image.ref")
  echo "$image $ref $(podman image inspect --format '{{.Size}}' "$ref")"
done
