#!/usr/bin/env bash
# Windows tier: build and test m365mon's Windows side on this Linux machine.
#
#   scripts/windows-tier.sh                 install what is missing, then run every step
#   scripts/windows-tier.sh --install-only  only install (apt-get; skipped when present)
#   scripts/windows-tier.sh --no-install    fail if a package is missing instead
#   scripts/windows-tier.sh --print-packages  the Debian packages it needs, one line
#
# Steps (each prints its time; any failure stops the script non-zero):
#   1. type-check for x86_64-pc-windows-msvc (what people run) with Debian's rustc-web and
#      -Z build-std, all targets. ring's build script compiles C even for `cargo check`:
#      see "ring and MSVC" below.
#   2. build for x86_64-pc-windows-gnu with mingw-w64: lib tests and the m365mon binary.
#   3. build the ProcessPrng shim (scripts/wine/processprng.c -> bcryptprimitives.dll).
#   4. run the lib tests under Wine 8 in a throwaway WINEPREFIX; print how many ran.
#   5. start m365mon.exe under Wine; if `check --help` offers --lab, run
#      `m365mon.exe check --lab healthy` and require exit 0.
#
# Why Debian's toolchain: rustup cannot add targets here (no download), but Debian's
# rustc-web (1.96) with rust-web-src builds std for any target from source. Its cargo
# (cargo-web 1.96) reads our Cargo.lock (format v4, written by rustup's cargo 1.95);
# --locked makes it fail rather than rewrite the lock file. Windows artifacts go to
# target/windows (WIN_TARGET_DIR) so the two toolchains never share a build.
#
# ring and MSVC: cc-rs needs a cl-compatible compiler and lib.exe. Debian's clang-14
# serves as clang-cl when called by that name (a symlink in target/windows/tools) and
# llvm-lib-14 as lib.exe. There are no MSVC headers here, so ring is told not to include
# libc headers (RING_CORE_NOSTDLIBINC, which it supports for bare targets) and clang is
# made to report a GNU version (so ring uses __builtin_bswap rather than <stdlib.h>'s
# _byteswap_ulong). The objects are only for the type-check; nothing is linked for MSVC.
#
# Timings measured 2026-11-27 from a fresh clone (empty target/windows), 2 cores shared
# with one other build; the tier prints CPU seconds per step because those hardly depend
# on load:
#   step                                  wall       cpu
#   msvc check, cold (std + deps + ring)   395 s      675 s
#   gnu build, cold (std + deps, tests)   1099 s     1930 s
#   shim dll                                 2 s        1 s
#   Wine prefix                             10 s        0 s
#   lib tests under Wine (395)              10 s        9 s
#   m365mon.exe check --lab healthy          1 s
# Whole tier, cold: ~25 min.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WIN_TARGET_DIR=${WIN_TARGET_DIR:-$ROOT/target/windows}
MSVC=x86_64-pc-windows-msvc
GNU=x86_64-pc-windows-gnu
LLVM_BIN=/usr/lib/llvm-14/bin
PACKAGES=(
  rustc-web cargo-web rust-web-src # Rust 1.96 with std's source, for -Z build-std
  clang-14 llvm-14                  # clang-cl and llvm-lib for ring's C under MSVC
  binutils-mingw-w64-x86-64 gcc-mingw-w64-x86-64-posix # linker and C for windows-gnu
  wine64 wine                       # runs the Windows tests
)

START=$SECONDS
CURRENT_STEP=
say() { printf '\n=== [windows %4ds] %s\n' "$((SECONDS - START))" "$*"; }
die() { printf '\nwindows-tier: %s\n' "$*" >&2; exit 1; }
# CPU seconds used so far by finished child processes, into CPU_NOW: wall time depends
# on what else shares the cores, CPU time hardly does. (`times` must run in this shell.)
TIMES_FILE=$(mktemp)
CPU_NOW=0
read_cpu() {
  times >"$TIMES_FILE"
  CPU_NOW=$(awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/);
    printf "%d", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$TIMES_FILE")
}
# Runs a named step and prints how long it took. The step runs outside any `||` or `if`,
# so `set -e` still stops it at its first failing command.
step() {
  local t0=$SECONDS cpu0
  read_cpu
  cpu0=$CPU_NOW
  CURRENT_STEP=$1
  shift
  say "$CURRENT_STEP"
  "$@"
  read_cpu
  printf -- '--- [windows] %s: %ds wall, %ds cpu\n' "$CURRENT_STEP" "$((SECONDS - t0))" \
    "$((CPU_NOW - cpu0))"
  CURRENT_STEP=
}
on_exit() {
  local rc=$?
  rm -f "$TIMES_FILE"
  wine_cleanup
  # The test log is kept only when something failed.
  if ((rc == 0)) && [[ -n ${TEST_LOG:-} ]]; then rm -f "$TEST_LOG"; fi
  if ((rc != 0)); then
    printf '\nwindows-tier: FAILED (exit %d) in step: %s\n' "$rc" "${CURRENT_STEP:-setup}" >&2
  fi
  return "$rc"
}
trap on_exit EXIT

missing_packages() {
  local p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}

install_packages() {
  local missing
  missing=$(missing_packages)
  if [[ -z $missing ]]; then
    echo "all present: ${PACKAGES[*]}"
    return 0
  fi
  [[ $(id -u) == 0 ]] || die "missing packages ($missing) and not root to install them"
  # Callers that just ran `apt-get update` (like .ci/run) set APT_UPDATED=1.
  if [[ ${APT_UPDATED:-0} != 1 ]]; then
    apt-get update -q
  fi
  # shellcheck disable=SC2086 # one package a word
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
}

# Debian's cargo and rustc (not rustup's, which come first on PATH), building std from
# source, into the Windows target dir. Flags meant for the Linux build are dropped.
WIN_CARGO=(
  env -u RUSTFLAGS -u RUSTC_WRAPPER -u CARGO_BUILD_TARGET
  RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
  CARGO_TARGET_DIR="$WIN_TARGET_DIR" /usr/bin/cargo
)
win_cargo() {
  local sub=$1
  shift
  "${WIN_CARGO[@]}" "$sub" -Z build-std=std,panic_abort --locked "$@"
}

msvc_check() {
  local tools=$WIN_TARGET_DIR/tools
  mkdir -p "$tools"
  # clang switches to its cl.exe-compatible driver when called as clang-cl; cc-rs also
  # tells the compiler family by that name.
  ln -sfn "$LLVM_BIN/clang" "$tools/clang-cl"
  CC_x86_64_pc_windows_msvc=$tools/clang-cl \
    AR_x86_64_pc_windows_msvc=$LLVM_BIN/llvm-lib \
    CFLAGS_x86_64_pc_windows_msvc="-DRING_CORE_NOSTDLIBINC /clang:-fgnuc-version=4.2.1" \
    win_cargo check --target "$MSVC" --all-targets
}

gnu_env() {
  export CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc-posix
  export AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar
}

gnu_build() {
  gnu_env
  win_cargo test --target "$GNU" --lib --no-run
  win_cargo build --target "$GNU" --bin m365mon
}

SHIM_DIR=$WIN_TARGET_DIR/wine-shim
shim_build() {
  mkdir -p "$SHIM_DIR"
  x86_64-w64-mingw32-gcc-posix -shared -O2 -Wall -Wextra -Werror -static-libgcc \
    -o "$SHIM_DIR/bcryptprimitives.dll" "$ROOT/scripts/wine/processprng.c" -ladvapi32
}

WINE_PREFIX_DIR=
wine_setup() {
  local gcc_dir
  gcc_dir=$(printf '%s\n' /usr/lib/gcc/x86_64-w64-mingw32/*-posix | sort -V | tail -n 1)
  [[ -d $gcc_dir ]] || die "no mingw posix runtime under /usr/lib/gcc/x86_64-w64-mingw32"
  WINE_PREFIX_DIR=$(mktemp -d /tmp/m365mon-wine.XXXXXX)
  export WINEPREFIX=$WINE_PREFIX_DIR WINEDEBUG=-all WINEARCH=win64
  # No Mono or Gecko install prompts: the tests need neither.
  export WINEDLLOVERRIDES="mscoree,mshtml="
  # The shim first, then libgcc_s_seh/libwinpthread from the mingw runtime.
  export WINEPATH="$SHIM_DIR;$gcc_dir;/usr/x86_64-w64-mingw32/lib"
  echo "WINEPREFIX=$WINEPREFIX"
  echo "WINEPATH=$WINEPATH"
  timeout 300 wine wineboot --init >/dev/null 2>&1 || die "wineboot --init failed"
  # Wine 8's prefix says Windows 7, which the host checks rightly flag (no TLS 1.2 by
  # default); the people this tool serves run Windows 10/11, so the prefix reports that.
  timeout 120 wine winecfg /v win10 >/dev/null 2>&1 || die "winecfg /v win10 failed"
  timeout 120 wineserver -w || true
  # A persistent wineserver, and Wine's services started now with their output on
  # /dev/null: later wine runs reuse them, so no long-lived Wine process holds the output
  # pipe of a later command (a `$(...)` or `| tee` would wait for it for ever).
  wineserver -p >/dev/null 2>&1
  timeout 120 wine cmd /c exit >/dev/null 2>&1 </dev/null || true
}

wine_cleanup() {
  if [[ -n $WINE_PREFIX_DIR && -d $WINE_PREFIX_DIR ]]; then
    WINEPREFIX=$WINE_PREFIX_DIR wineserver -k 2>/dev/null || true
    rm -rf "$WINE_PREFIX_DIR"
  fi
}

TEST_LOG=
wine_tests() {
  gnu_env
  local rc=0
  # One log per run: two runs may share target/windows (cargo serialises their builds).
  TEST_LOG=$(mktemp /tmp/m365mon-wine-tests.XXXXXX)
  # The runner in .cargo/config.toml starts each test .exe with wine. Output goes to a
  # file, not through `| tee`: the wineserver and winedevice.exe processes that wine
  # starts inherit the output and outlive the tests, so a pipe would never see its end
  # and the tier would hang (it did). wine_cleanup stops them.
  timeout --kill-after=30 1200 \
    "${WIN_CARGO[@]}" test -Z build-std=std,panic_abort --locked --target "$GNU" --lib \
    >"$TEST_LOG" 2>&1 || rc=$?
  cat "$TEST_LOG"
  local result ran passed failed
  result=$(grep -E '^test result: ' "$TEST_LOG" | tail -n 1 || true)
  passed=$(sed -nE 's/.* ([0-9]+) passed.*/\1/p' <<<"$result")
  failed=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$result")
  ran=$((${passed:-0} + ${failed:-0}))
  echo "Windows lib tests under Wine: $ran ran, ${passed:-0} passed, ${failed:-0} failed"
  # The host checks' and Win32 layer's tests (registry, Credential Manager, broker process).
  echo "  of which host checks + Win32 platform: $(grep -cE '^test (checks::host|platform::windows)::' "$TEST_LOG" || true)"
  ((rc == 0)) || die "Windows tests under Wine (exit $rc; log $TEST_LOG)"
  ((ran > 0)) || die "no Windows test ran under Wine (log $TEST_LOG)"
}

binary_under_wine() {
  local exe=$WIN_TARGET_DIR/$GNU/debug/m365mon.exe help rc=0
  [[ -f $exe ]] || die "missing $exe"
  # Proves the .exe starts at all (Wine 8 without the shim exits 53 before main).
  timeout 120 wine "$exe" --help || die "m365mon.exe --help under Wine (exit $?)"
  local help_file
  help_file=$(mktemp)
  timeout 120 wine "$exe" check --help >"$help_file" 2>&1 || rc=$?
  help=$(cat "$help_file")
  rm -f "$help_file"
  if ((rc != 0)) || ! grep -q -- '--lab' <<<"$help"; then
    echo "SKIP: this m365mon.exe has no 'check --lab' yet; lab run not possible"
    return 0
  fi
  rc=0
  timeout --kill-after=10 300 wine "$exe" check --lab healthy || rc=$?
  ((rc == 0)) || die "m365mon.exe check --lab healthy under Wine exited $rc (want 0)"
  echo "m365mon.exe check --lab healthy under Wine: exit 0"
}

main() {
  local install=1
  case ${1:-} in
    --print-packages) echo "${PACKAGES[*]}"; return 0 ;;
    --install-only) step "install packages" install_packages; return 0 ;;
    --no-install) install=0 ;;
    "") ;;
    *) die "unknown option '$1' (see the top of $0)" ;;
  esac
  cd "$ROOT"
  if ((install)); then
    step "install packages" install_packages
  else
    local missing
    missing=$(missing_packages)
    [[ -z $missing ]] || die "missing packages: $missing (run $0 --install-only)"
  fi
  echo "toolchain: $(/usr/bin/rustc --version); $(/usr/bin/cargo --version)"
  step "type-check for $MSVC (all targets)" msvc_check
  step "build for $GNU (lib tests + m365mon.exe)" gnu_build
  step "build ProcessPrng shim (bcryptprimitives.dll)" shim_build
  step "create throwaway Wine prefix" wine_setup
  step "lib tests under Wine" wine_tests
  step "m365mon.exe under Wine" binary_under_wine
  say "Windows tier passed in $((SECONDS - START))s"
}

main "$@"
