#!/bin/bash
# Installs the Debian 12 packages the build, the demo and the tests need; does nothing when
# they are all present. Usage: tools/install-deps.sh [--tests]
set -euo pipefail

packages=(
  meson ninja-build pkg-config ccache cmake g++
  libgrpc++-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev libabsl-dev libre2-dev
  nlohmann-json3-dev libssl-dev doctest-dev libbenchmark-dev libcurl4-openssl-dev
  zlib1g-dev liblz4-dev libzstd-dev
  postgresql-15 pgbackrest openssl curl ca-certificates
)
if [[ ${1:-} == --tests ]]; then
  # Ceph RGW: the S3 server the tests use (one throwaway node on loopback).
  packages+=(ceph-mon ceph-osd radosgw ceph-common)
  # The sanitized build and the fuzz targets (tools/build-sanitized.sh): clang, its runtimes, lld.
  packages+=(clang-14 libclang-rt-14-dev lld-14)
  # The format check (tools/format.sh --check) with the project's .clang-format.
  packages+=(clang-format)
  # Offline manifest checks: kustomize (kubectl) and the Kubernetes schemas (node + npm packages).
  command -v node >/dev/null || packages+=(nodejs npm)
  command -v kubectl >/dev/null || packages+=(kubernetes-client)
  # Container images built and run without a daemon or a registry (manifests/containers/):
  # debootstrap for the base, buildah to build, podman with runc to run (crun fails here).
  packages+=(debootstrap buildah podman runc)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# promtool, Prometheus' rule checker (tests/manifests/monitoring.sh), is taken out of Debian's
# prometheus package without installing it: the package would also start a Prometheus server.
need_promtool=0
[[ ${1:-} == --tests ]] && ! command -v promtool >/dev/null && need_promtool=1
# Azurite, the Azure Storage emulator the Azure tests use (tests/services/azurite.sh), from npm into
# /opt/azurite. Pinned: 3.35.0 is the last release that runs on Debian 12's node 18 (3.36 wants 21).
azurite_version=3.35.0
azurite_prefix=/opt/azurite
need_azurite=0
[[ ${1:-} == --tests ]] &&
  ! grep -qs "\"version\": \"$azurite_version\"" "$azurite_prefix/node_modules/azurite/package.json" && need_azurite=1
if ((${#missing[@]} == 0 && need_promtool == 0 && need_azurite == 0)); then
  exit 0
fi
if [[ $(id -u) != 0 ]]; then
  echo "missing: ${missing[*]}$( ((need_promtool)) && echo ' promtool')$( ((need_azurite)) && echo " azurite@$azurite_version") (run as root to install them)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
((${#missing[@]} > 0 || need_promtool)) && apt-get update -q
if ((${#missing[@]} > 0)); then
  echo "installing: ${missing[*]}"
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if ((need_promtool)); then
  echo "installing: promtool (from the prometheus package) into /usr/local/bin"
  unpack=$(mktemp -d)
  (cd "$unpack" && apt-get download -q -o APT::Sandbox::User=root prometheus)
  dpkg-deb -x "$unpack"/prometheus_*.deb "$unpack/root"
  install -m 755 "$unpack/root/usr/bin/promtool" /usr/local/bin/promtool
  rm -rf "$unpack"
fi
if ((need_azurite)); then
  echo "installing: azurite@$azurite_version (npm) into $azurite_prefix"
  npm install --prefix "$azurite_prefix" --omit=dev --no-audit --no-fund --loglevel=error "azurite@$azurite_version"
fi
