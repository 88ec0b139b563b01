#!/usr/bin/env bash
# Linker for the static x86_64-unknown-linux-musl build of scripts/dist.sh.
#
# rustc with `-C link-self-contained=no` asks for a static PIE; musl-gcc turns that into a
# dynamically linked PIE (interpreter /lib/ld-musl-x86_64.so.1), which would not run on a
# machine without musl. So drop -pie/-static-pie and link a plain static executable, with
# the __fprintf_chk shim that Debian's glibc-built libunwind.a needs (MUSL_SHIM_OBJ).
set -euo pipefail
: "${MUSL_SHIM_OBJ:?set by scripts/dist.sh: the compiled scripts/musl/fprintf_chk.c}"
args=()
for a in "$@"; do
  case $a in
    -pie | -static-pie) ;;
    *) args+=("$a") ;;
  esac
done
exec musl-gcc "${args[@]}" "$MUSL_SHIM_OBJ" -static -no-pie
