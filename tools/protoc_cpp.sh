#!/usr/bin/env bash
# Generate C++ protobuf + gRPC code for one or more .proto files.
#
# Usage:
#   protoc_cpp.sh [--protoc PATH] [--grpc-plugin PATH] [-I DIR]... OUT_DIR PROTO...
#
#   --protoc PATH       protoc binary (default: $PROTOC, else `protoc` from PATH)
#   --grpc-plugin PATH  grpc_cpp_plugin binary (default: $GRPC_CPP_PLUGIN,
#                       else `grpc_cpp_plugin` from PATH)
#   -I DIR              proto import path; may be repeated. Default: the
#                       directory of each PROTO. Every PROTO must live directly
#                       in one of the import dirs, so that the outputs land in
#                       OUT_DIR/<name>.{pb.h,pb.cc,grpc.pb.h,grpc.pb.cc}.
#
# For every PROTO this writes <name>.pb.h, <name>.pb.cc, <name>.grpc.pb.h and
# <name>.grpc.pb.cc into OUT_DIR.
#
# Post-processing for operator.proto: its package is cnpgi.operator.v1 and
# protobuf 3.21 / grpc 1.51 emit the C++ keyword `operator` as a namespace,
# which no compiler accepts. The four generated operator.* files are rewritten
# to use the namespace `operator_` instead (`namespace operator {` ->
# `namespace operator_ {`, `::operator::` -> `::operator_::`). Only C++
# identifiers change; the package name in the embedded descriptor and the gRPC
# method paths ("/cnpgi.operator.v1.Operator/...") stay as they are, so the
# wire format is untouched. If a newer protoc already escapes the keyword, the
# rewrite is a no-op.
set -euo pipefail

prog=$(basename "$0")

die() {
  printf '%s: error: %s\n' "$prog" "$*" >&2
  exit 1
}

usage() {
  local code=${1:-2}
  if [[ $code -eq 0 ]]; then
    sed -n '4,13p' "$0" | sed 's/^# \{0,1\}//'
  else
    sed -n '4,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  fi
  exit "$code"
}

protoc_bin=${PROTOC:-}
grpc_plugin=${GRPC_CPP_PLUGIN:-}
include_dirs=()

while [[ $# -gt 0 ]]; do
  case $1 in
    --protoc)
      [[ $# -ge 2 ]] || die "--protoc needs an argument"
      protoc_bin=$2; shift 2 ;;
    --protoc=*)
      protoc_bin=${1#--protoc=}; shift ;;
    --grpc-plugin)
      [[ $# -ge 2 ]] || die "--grpc-plugin needs an argument"
      grpc_plugin=$2; shift 2 ;;
    --grpc-plugin=*)
      grpc_plugin=${1#--grpc-plugin=}; shift ;;
    -I)
      [[ $# -ge 2 ]] || die "-I needs an argument"
      include_dirs+=("$2"); shift 2 ;;
    -I*)
      include_dirs+=("${1#-I}"); shift ;;
    -h|--help)
      usage 0 ;;
    --)
      shift; break ;;
    -*)
      die "unknown option: $1 (see --help)" ;;
    *)
      break ;;
  esac
done

[[ $# -ge 2 ]] || { printf '%s: error: need OUT_DIR and at least one PROTO\n' "$prog" >&2; usage; }

out_dir=$1
shift
protos=("$@")

# Resolve the tools.
if [[ -z $protoc_bin ]]; then
  protoc_bin=$(command -v protoc) || die "protoc not found in PATH (install protobuf-compiler or pass --protoc)"
fi
[[ -x $protoc_bin ]] || die "protoc is not an executable file: $protoc_bin"
if [[ -z $grpc_plugin ]]; then
  grpc_plugin=$(command -v grpc_cpp_plugin) || die "grpc_cpp_plugin not found in PATH (install protobuf-compiler-grpc or pass --grpc-plugin)"
fi
[[ -x $grpc_plugin ]] || die "grpc_cpp_plugin is not an executable file: $grpc_plugin"

command -v realpath >/dev/null || die "realpath (coreutils) is required"

# Check the inputs and derive the default import paths.
default_includes=()
for p in "${protos[@]}"; do
  [[ $p == *.proto ]] || die "not a .proto file: $p"
  [[ -f $p ]] || die "no such file: $p"
  d=$(dirname "$p")
  if [[ ${#include_dirs[@]} -eq 0 ]]; then
    seen=0
    for i in "${default_includes[@]+"${default_includes[@]}"}"; do
      [[ $i == "$d" ]] && seen=1
    done
    [[ $seen -eq 1 ]] || default_includes+=("$d")
  fi
done
if [[ ${#include_dirs[@]} -eq 0 ]]; then
  include_dirs=("${default_includes[@]}")
fi

# protoc wants every input to be spelled with an import dir as its literal
# prefix. Canonicalize both sides and hand protoc the name relative to the
# first import dir that holds the file. That relative name is also the file
# name recorded in the descriptor (e.g. "wal.proto"), whatever the caller's
# working directory and path spelling.
abs_includes=()
for i in "${include_dirs[@]}"; do
  [[ -d $i ]] || die "import directory does not exist: $i"
  abs_includes+=("$(realpath -e "$i")") || die "cannot resolve import directory: $i"
done

rel_protos=()
for p in "${protos[@]}"; do
  abs=$(realpath -e "$p") || die "cannot resolve: $p"
  rel=
  for i in "${abs_includes[@]}"; do
    if [[ $i == / ]]; then
      rel=${abs#/}; break
    elif [[ $abs == "$i"/* ]]; then
      rel=${abs#"$i"/}; break
    fi
  done
  [[ -n $rel ]] || die "$p is not inside any import directory (${include_dirs[*]})"
  rel_protos+=("$rel")
done

mkdir -p "$out_dir" || die "cannot create output directory: $out_dir"

# Remove stale outputs first, so the existence check below proves that this
# run (and not an earlier one) produced them.
for rel in "${rel_protos[@]}"; do
  for ext in pb.h pb.cc grpc.pb.h grpc.pb.cc; do
    rm -f "$out_dir/${rel%.proto}.$ext"
  done
done

protoc_args=()
for i in "${abs_includes[@]}"; do
  protoc_args+=("-I$i")
done
protoc_args+=(
  "--cpp_out=$out_dir"
  "--grpc_out=$out_dir"
  "--plugin=protoc-gen-grpc=$grpc_plugin"
)

if ! "$protoc_bin" "${protoc_args[@]}" "${rel_protos[@]}"; then
  die "protoc failed (command: $protoc_bin ${protoc_args[*]} ${rel_protos[*]})"
fi

# Every input must have produced its four files.
for rel in "${rel_protos[@]}"; do
  for ext in pb.h pb.cc grpc.pb.h grpc.pb.cc; do
    [[ -f $out_dir/${rel%.proto}.$ext ]] ||
      die "expected output missing: $out_dir/${rel%.proto}.$ext"
  done
done

# Rename the C++ namespace `operator` (a keyword) to `operator_`.
for rel in "${rel_protos[@]}"; do
  [[ $(basename "$rel") == operator.proto ]] || continue
  for ext in pb.h pb.cc grpc.pb.h grpc.pb.cc; do
    f=$out_dir/${rel%.proto}.$ext
    tmp=$f.tmp.$$
    sed -e 's/namespace operator {/namespace operator_ {/g' \
        -e 's/::operator::/::operator_::/g' \
        -e 's|// namespace operator$|// namespace operator_|' \
        "$f" >"$tmp" || { rm -f "$tmp"; die "rewriting $f failed"; }
    mv -f "$tmp" "$f" || die "cannot replace $f"
    if grep -nE 'namespace operator \{|::operator::' "$f" >&2; then
      die "$f still uses the C++ keyword 'operator' as a namespace after rewriting"
    fi
    grep -q 'cnpgi\.operator\.v1' "$f" ||
      die "$f no longer mentions the package cnpgi.operator.v1; the rewrite went too far"
  done
done
