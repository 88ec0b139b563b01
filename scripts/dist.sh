#!/usr/bin/env bash
# Builds every file a release ships, from a clean clone, into target/artifacts/, then
# tests the shipped files themselves (not the build tree):
#
#   m365mon-VERSION-x86_64-pc-windows-gnu.zip       portable m365mon.exe (no installer, no
#                                                   runtime DLLs, no admin), README, licences,
#                                                   completions
#   m365mon-VERSION-x86_64-unknown-linux-musl.tar.gz  static binary (no libc needed), man
#                                                   page, completions, README, licences
#   m365mon_VERSION_amd64.deb                       the same static binary, Debian package
#   SHA256SUMS                                      of the three
# and rewrites the package manifests kept in the repository from the version and the
# zip's checksum: packaging/winget/manifests/... and packaging/scoop/m365mon.json.
#
#   scripts/dist.sh              install what is missing (apt), build, package, test
#   scripts/dist.sh --no-test    build and package only
#   scripts/dist.sh --test-only  test the files already in target/artifacts
#   scripts/dist.sh --print-packages  the Debian packages it needs, one line
#
# Toolchains. rustup cannot add targets here, so both cross builds use Debian's Rust 1.96
# (rustc-web, with std's source from rust-web-src) and build std with -Z build-std, like
# scripts/windows-tier.sh:
#   - Linux: x86_64-unknown-linux-musl, linked by musl-gcc through scripts/musl/static-gcc
#     into a truly static executable (see that file and scripts/musl/fprintf_chk.c).
#   - Windows: x86_64-pc-windows-gnu with mingw-w64 (MSVC's libraries cannot be had here),
#     the C runtime and winpthread linked in statically, so the .exe needs only DLLs that
#     every Windows 10/11 has. The test checks its import table for that.
# aarch64 is not built. Windows: Debian 12 has no aarch64 mingw-w64 (and MSVC's libraries
# cannot be had). Linux: possible in principle (gcc-aarch64-linux-gnu, musl-dev:arm64 by
# dpkg multiarch, qemu-user-static to test it), not done yet.
# macOS is not built here: no Apple SDK for the crypto crates' C (docs: windows-tier.md in
# the shared docs); the README gives the `cargo install --git` route.
#
# Profile `dist` (Cargo.toml): fat LTO, one codegen unit, cold crates optimised for size.
# Target dirs: target/musl and target/windows (shared with the Windows tier's builds of
# other profiles), so the toolchains never mix artifacts.
#
# The tests (`--test-only`; run after every build): SHA256SUMS verifies; the Linux binary
# is static (`file`, `ldd`) and runs `check --lab healthy` (exit 0) and `check --lab
# firewall` (exit 2) in a bare network namespace with an empty root directory (no libc,
# no /etc: nothing but the binary); the .deb's metadata and files; the .exe from the zip
# imports only Windows system DLLs, runs the same two checks under Wine (only the
# ProcessPrng shim on WINEPATH, which Wine 8 lacks and Windows 10+ has), and its TUI
# starts in Wine's console inside tmux, draws, and quits on `q` without a panic.
# Cold, each cross build compiles std and every crate with fat LTO: budget well over the
# Windows tier's 10 minutes per build on an idle 2-core machine (BENCHMARKS.md, "Binary
# size", says what has been measured).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=$ROOT/target/artifacts
MUSL=x86_64-unknown-linux-musl
WIN=x86_64-pc-windows-gnu
MUSL_TARGET_DIR=$ROOT/target/musl
WIN_TARGET_DIR=${WIN_TARGET_DIR:-$ROOT/target/windows}
PACKAGES=(
  rustc-web cargo-web rust-web-src      # Rust 1.96 with std's source, for -Z build-std
  musl-tools libunwind-14-dev           # musl-gcc and libc.a; LLVM's libunwind.a
  binutils-mingw-w64-x86-64 gcc-mingw-w64-x86-64-posix # linker and C for windows-gnu
  wine64 wine tmux                      # runs the shipped .exe and its TUI
  zip unzip file dpkg-dev iproute2      # packaging and the tests
)
VERSION=$(sed -nE 's/^version = "([^"]+)"/\1/p' Cargo.toml | head -n 1)
[[ -n $VERSION ]] || { echo "dist: no version in Cargo.toml" >&2; exit 3; }
# Where the release's files are published (the GitHub release of the tag vVERSION).
REPOSITORY=$(sed -nE 's/^repository = "([^"]+)"/\1/p' Cargo.toml | head -n 1)
[[ -n $REPOSITORY ]] || { echo "dist: no repository in Cargo.toml" >&2; exit 3; }
RELEASE_URL=${M365MON_RELEASE_URL:-$REPOSITORY/releases/download/v$VERSION}
ZIP=m365mon-$VERSION-x86_64-pc-windows-gnu.zip
TGZ=m365mon-$VERSION-$MUSL.tar.gz
DEB=m365mon_${VERSION}_amd64.deb

START=$SECONDS
CURRENT_STEP=
TIMES_FILE=$(mktemp)
CPU_NOW=0
say() { printf '\n=== [dist %4ds] %s\n' "$((SECONDS - START))" "$*"; }
die() { printf '\ndist: %s\n' "$*" >&2; exit 1; }
read_cpu() {
  times >"$TIMES_FILE"
  CPU_NOW=$(awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/);
    printf "%d", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$TIMES_FILE")
}
step() {
  local t0=$SECONDS cpu0
  read_cpu
  cpu0=$CPU_NOW
  CURRENT_STEP=$1
  shift
  say "$CURRENT_STEP"
  "$@"
  read_cpu
  printf -- '--- [dist] %s: %ds wall, %ds cpu\n' "$CURRENT_STEP" "$((SECONDS - t0))" \
    "$((CPU_NOW - cpu0))"
  CURRENT_STEP=
}
CLEANUP=()
on_exit() {
  local rc=$? c
  rm -f "$TIMES_FILE"
  # Last in, first out: the Wine server must be stopped before its prefix is deleted (it
  # is found through the prefix; a deleted one leaves it running).
  for ((c = ${#CLEANUP[@]} - 1; c >= 0; c--)); do eval "${CLEANUP[c]}" || true; done
  if ((rc != 0)); then
    printf '\ndist: FAILED (exit %d) in step: %s\n' "$rc" "${CURRENT_STEP:-setup}" >&2
  fi
  return "$rc"
}
trap on_exit EXIT

install_packages() {
  local p missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    echo "all present: ${PACKAGES[*]}"
    return 0
  fi
  [[ $(id -u) == 0 ]] || die "missing packages (${missing[*]}) and not root to install them"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
}

# The commit goes into --version through build.rs; set here once so all builds agree.
M365MON_COMMIT=$(git -C "$ROOT" rev-parse --short=10 HEAD 2>/dev/null || true)
export M365MON_COMMIT

# Debian's cargo and rustc, building std from source; flags meant for the host dropped.
DEB_CARGO=(
  env -u RUSTFLAGS -u RUSTC_WRAPPER -u CARGO_BUILD_TARGET
  RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 /usr/bin/cargo
)

build_musl() {
  local tools=$MUSL_TARGET_DIR/tools
  mkdir -p "$tools"
  musl-gcc -O2 -Wall -Werror -c -o "$tools/fprintf_chk.o" scripts/musl/fprintf_chk.c
  MUSL_SHIM_OBJ=$tools/fprintf_chk.o \
    CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER=$ROOT/scripts/musl/static-gcc \
    CC_x86_64_unknown_linux_musl=musl-gcc \
    CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C link-self-contained=no -C target-feature=+crt-static -L /usr/lib/llvm-14/lib" \
    "${DEB_CARGO[@]}" build --locked --profile dist -Z build-std=std,panic_abort \
    --target "$MUSL" --target-dir "$MUSL_TARGET_DIR" --bin m365mon
  ls -l "$MUSL_TARGET_DIR/$MUSL/dist/m365mon"
}

build_windows() {
  # +crt-static and -static: libgcc, libwinpthread and the C runtime go into the .exe, so
  # it needs no DLL from mingw next to it.
  CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc-posix \
    AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar \
    CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUSTFLAGS="-C target-feature=+crt-static -C link-arg=-static" \
    "${DEB_CARGO[@]}" build --locked --profile dist -Z build-std=std,panic_abort \
    --target "$WIN" --target-dir "$WIN_TARGET_DIR" --bin m365mon
  ls -l "$WIN_TARGET_DIR/$WIN/dist/m365mon.exe"
}

# Completions and the man page come from the CLI definition, by the binary itself.
generated_docs() {
  local bin=$1 dir=$2
  mkdir -p "$dir/completions"
  "$bin" completions bash >"$dir/completions/m365mon.bash"
  "$bin" completions zsh >"$dir/completions/_m365mon"
  "$bin" completions fish >"$dir/completions/m365mon.fish"
  "$bin" completions powershell >"$dir/completions/m365mon.ps1"
  "$bin" man >"$dir/m365mon.1"
}

package() {
  local bin=$MUSL_TARGET_DIR/$MUSL/dist/m365mon exe=$WIN_TARGET_DIR/$WIN/dist/m365mon.exe
  rm -rf "$OUT"
  mkdir -p "$OUT"
  local stage=$OUT/stage
  # Linux tar.gz: one folder named like the archive.
  local lin=$stage/m365mon-$VERSION-$MUSL
  mkdir -p "$lin"
  install -m 755 "$bin" "$lin/m365mon"
  generated_docs "$lin/m365mon" "$lin"
  cp README.md LICENSE-MIT LICENSE-APACHE "$lin/"
  # Fixed owner and times: the archive's bytes depend only on its files.
  local epoch
  epoch=$(git log -1 --format=%ct 2>/dev/null || date +%s)
  tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
    -cf - "m365mon-$VERSION-$MUSL" | gzip -9n >"$OUT/$TGZ"
  # Windows zip: the .exe at the top, so winget's and Scoop's paths are just m365mon.exe.
  local win=$stage/windows
  mkdir -p "$win/completions"
  cp "$exe" "$win/m365mon.exe"
  cp README.md LICENSE-MIT LICENSE-APACHE "$win/"
  cp "$lin/completions/"* "$win/completions/"
  find "$win" -exec touch -d "@$epoch" {} +
  (cd "$win" && zip -X -9 -q -r "$OUT/$ZIP" m365mon.exe README.md LICENSE-MIT LICENSE-APACHE completions)
  package_deb "$lin"
  (cd "$OUT" && sha256sum "$ZIP" "$TGZ" "$DEB" >SHA256SUMS)
  rm -rf "$stage"
  ls -l "$OUT"
  cat "$OUT/SHA256SUMS"
}

# The .deb, by dpkg-deb from a staged tree: the static binary runs on any amd64 Debian or
# Ubuntu, so the package needs no Depends.
package_deb() {
  local lin=$1 root=$OUT/stage/deb
  install -D -m 755 "$lin/m365mon" "$root/usr/bin/m365mon"
  install -D -m 644 "$lin/completions/m365mon.bash" "$root/usr/share/bash-completion/completions/m365mon"
  install -D -m 644 "$lin/completions/_m365mon" "$root/usr/share/zsh/vendor-completions/_m365mon"
  install -D -m 644 "$lin/completions/m365mon.fish" "$root/usr/share/fish/vendor_completions.d/m365mon.fish"
  mkdir -p "$root/usr/share/man/man1"
  gzip -9n <"$lin/m365mon.1" >"$root/usr/share/man/man1/m365mon.1.gz"
  chmod 644 "$root/usr/share/man/man1/m365mon.1.gz"
  install -d "$root/usr/share/m365mon/themes" "$root/usr/share/m365mon/contrib/grafana" \
    "$root/usr/share/m365mon/contrib/prometheus" "$root/usr/share/doc/m365mon"
  install -m 644 themes/*.toml "$root/usr/share/m365mon/themes/"
  install -m 644 contrib/grafana/m365mon-dashboard.json "$root/usr/share/m365mon/contrib/grafana/"
  install -m 644 contrib/prometheus/*.yml "$root/usr/share/m365mon/contrib/prometheus/"
  install -m 644 README.md "$root/usr/share/doc/m365mon/"
  {
    echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
    echo "Upstream-Name: m365mon"
    echo "Source: $REPOSITORY"
    echo
    echo "Files: *"
    echo "Copyright: the m365mon developers"
    echo "License: MIT or Apache-2.0"
    echo " The MIT licence:"
    sed -e 's/^$/./' -e 's/^/ /' LICENSE-MIT
    echo " ."
    echo " The Apache licence, version 2.0: /usr/share/common-licenses/Apache-2.0"
  } >"$root/usr/share/doc/m365mon/copyright"
  chmod 644 "$root/usr/share/doc/m365mon/copyright"
  mkdir -p "$root/DEBIAN"
  local size
  size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
  cat >"$root/DEBIAN/control" <<EOF
Package: m365mon
Version: $VERSION
Architecture: amd64
Maintainer: m365mon developers
Installed-Size: $size
Section: net
Priority: optional
Homepage: $REPOSITORY
Description: Live terminal monitor: why Microsoft 365 Apps cannot sign in or activate
 Shows the endpoints stage by stage (DNS, TCP, TLS, HTTP), proxy and PAC, VPN,
 TLS inspection, MSOID, clock and NCSI, with remediation keyed to the failing
 check. Also a one-shot check for scripts and a Prometheus exporter.
EOF
  find "$root" -exec touch -d "@$(git log -1 --format=%ct 2>/dev/null || date +%s)" {} +
  dpkg-deb --root-owner-group -Zxz --build "$root" "$OUT/$DEB" >/dev/null
}

# The package manifests, from the version, the release URL and the zip's checksum.
manifests() {
  local sha
  sha=$(sha256sum "$OUT/$ZIP" | cut -d' ' -f1)
  scripts/manifests.sh "$VERSION" "$RELEASE_URL/$ZIP" "$sha" "$REPOSITORY"
}

# ---------------------------------------------------------------- tests of the shipped files

TEST_DIR=
test_setup() {
  TEST_DIR=$(mktemp -d /tmp/m365mon-dist-test.XXXXXX)
  CLEANUP+=("rm -rf '$TEST_DIR'")
  (cd "$OUT" && sha256sum -c SHA256SUMS)
}

# `expect_exit WANT CMD...`: runs CMD, fails unless it exits WANT.
expect_exit() {
  local want=$1 rc=0
  shift
  "$@" || rc=$?
  ((rc == want)) || die "exit $rc, want $want: $*"
  echo "exit $rc as expected: $*"
}

test_linux() {
  local dir=$TEST_DIR/linux
  mkdir -p "$dir"
  tar -C "$dir" -xzf "$OUT/$TGZ"
  local bin=$dir/m365mon-$VERSION-$MUSL/m365mon
  file "$bin"
  file "$bin" | grep -q 'statically linked' || die "$TGZ: m365mon is not statically linked"
  if ldd "$bin" >/dev/null 2>&1; then die "$TGZ: ldd finds dynamic dependencies"; fi
  local v
  v=$("$bin" --version)
  echo "$v"
  [[ $v == "m365mon $VERSION (commit ${M365MON_COMMIT:-unknown commit}, $MUSL)" ]] ||
    die "unexpected --version: $v"
  local size
  size=$(stat -c %s "$bin")
  echo "size: $size bytes"
  ((size <= 10 * 1000 * 1000)) || die "the Linux binary is $size bytes (over 10 MB)"
  [[ $(id -u) == 0 ]] || die "the network-namespace test needs root"
  # A bare namespace (loopback only) and an empty root: no libc, no /etc, no resolver.
  local ns=m365mon-dist-$$ jail=$dir/jail
  ip netns add "$ns"
  CLEANUP+=("ip netns delete '$ns'")
  ip netns exec "$ns" ip link set lo up
  mkdir -p "$jail/tmp"
  cp "$bin" "$jail/m365mon"
  local run=(ip netns exec "$ns" chroot "$jail" /m365mon)
  "${run[@]}" --version
  expect_exit 0 timeout 120 "${run[@]}" check --lab healthy
  expect_exit 2 timeout 120 "${run[@]}" check --lab firewall --quiet
}

test_deb() {
  dpkg-deb --info "$OUT/$DEB"
  dpkg-deb --contents "$OUT/$DEB"
  local dir=$TEST_DIR/deb
  dpkg-deb --extract "$OUT/$DEB" "$dir"
  for f in usr/bin/m365mon usr/share/man/man1/m365mon.1.gz \
    usr/share/bash-completion/completions/m365mon usr/share/doc/m365mon/copyright; do
    [[ -f $dir/$f ]] || die "$DEB lacks $f"
  done
  [[ $(dpkg-deb --field "$OUT/$DEB" Version) == "$VERSION" ]] || die "$DEB: wrong Version"
  "$dir/usr/bin/m365mon" --version
}

WINE_PREFIX_DIR=
wine_setup() {
  local shim=$TEST_DIR/shim
  mkdir -p "$shim"
  x86_64-w64-mingw32-gcc-posix -shared -O2 -Wall -Wextra -Werror -static-libgcc \
    -o "$shim/bcryptprimitives.dll" scripts/wine/processprng.c -ladvapi32
  WINE_PREFIX_DIR=$TEST_DIR/wineprefix
  mkdir -p "$WINE_PREFIX_DIR"
  export WINEPREFIX=$WINE_PREFIX_DIR WINEDEBUG=-all WINEARCH=win64
  export WINEDLLOVERRIDES="mscoree,mshtml="
  # Only the shim: the mingw runtime is deliberately not on WINEPATH, so a .exe that still
  # needed libgcc_s or libwinpthread would fail here as it would on a clean Windows.
  export WINEPATH=$shim
  CLEANUP+=("WINEPREFIX='$WINE_PREFIX_DIR' wineserver -k 2>/dev/null")
  timeout 300 wine wineboot --init >/dev/null 2>&1 || die "wineboot --init failed"
  timeout 120 wine winecfg /v win10 >/dev/null 2>&1 || die "winecfg /v win10 failed"
  timeout 120 wineserver -w || true
  wineserver -p >/dev/null 2>&1
  timeout 120 wine cmd /c exit >/dev/null 2>&1 </dev/null || true
}

test_windows() {
  local dir=$TEST_DIR/windows
  mkdir -p "$dir"
  unzip -q "$OUT/$ZIP" -d "$dir"
  unzip -l "$OUT/$ZIP"
  local exe=$dir/m365mon.exe f
  for f in README.md LICENSE-MIT LICENSE-APACHE completions/m365mon.ps1; do
    [[ -f $dir/$f ]] || die "$ZIP lacks $f"
  done
  local size
  size=$(stat -c %s "$exe")
  echo "size: $size bytes"
  ((size <= 10 * 1000 * 1000)) || die "m365mon.exe is $size bytes (over 10 MB)"
  # Every DLL it imports must come with Windows itself.
  local dlls
  dlls=$(x86_64-w64-mingw32-objdump -p "$exe" | sed -nE 's/^\s*DLL Name: (.*)$/\1/p' | sort -fu)
  echo "imports: $(tr '\n' ' ' <<<"$dlls")"
  while read -r f; do
    case ${f,,} in
      kernel32.dll | advapi32.dll | ntdll.dll | ws2_32.dll | userenv.dll | bcrypt.dll | \
        bcryptprimitives.dll | crypt32.dll | iphlpapi.dll | winhttp.dll | secur32.dll | \
        ole32.dll | oleaut32.dll | shell32.dll | user32.dll | msvcrt.dll | pdh.dll | \
        powrprof.dll | netapi32.dll | psapi.dll | api-ms-win-*.dll | synchronization.dll | \
        dbghelp.dll | wintrust.dll | version.dll | setupapi.dll | gdi32.dll | ucrtbase.dll | \
        ktmw32.dll | ncrypt.dll) ;;
      *) die "m365mon.exe imports $f, which Windows does not ship" ;;
    esac
  done <<<"$dlls"
  wine_setup
  local v
  v=$(timeout 120 wine "$exe" --version </dev/null | tr -d '\r')
  echo "$v"
  [[ $v == "m365mon $VERSION (commit ${M365MON_COMMIT:-unknown commit}, $WIN)" ]] ||
    die "unexpected --version: $v"
  expect_exit 0 timeout --kill-after=10 300 wine "$exe" check --lab healthy </dev/null
  expect_exit 2 timeout --kill-after=10 300 wine "$exe" check --lab firewall --quiet </dev/null
  test_windows_tui "$exe"
}

# The TUI of the shipped .exe in Wine's console, in a real terminal (tmux): it must draw
# the endpoint table and the first sweep's event, quit on `q` with exit 0, and never
# panic. (Wine 8 renders a console program to a tty imperfectly: some cells land out of
# place, so only words that survive are looked for.)
test_windows_tui() {
  local exe=$1 sock=m365mon-dist-$$ log=$TEST_DIR/tui.log screen=$TEST_DIR/tui.screen
  CLEANUP+=("tmux -L '$sock' kill-server 2>/dev/null")
  tmux -L "$sock" new-session -d -x 120 -y 40 \
    "wine '$exe' --lab healthy 2>'$log'; echo \"exit=\$?\" >>'$log'; sleep 30"
  local i drawn=0
  for ((i = 0; i < 120; i++)); do
    sleep 1
    tmux -L "$sock" capture-pane -p >"$screen"
    # Wine's console garbles some cells, but these two show once a sweep is drawn.
    if grep -q 'activation.sls' "$screen" && grep -q 'first sweep:' "$screen"; then
      drawn=1
      break
    fi
  done
  cat "$screen"
  ((drawn)) || die "the TUI under Wine did not draw its endpoint table and first sweep in 120 s"
  sleep 2 # one more sweep drawn
  tmux -L "$sock" send-keys q
  for ((i = 0; i < 30; i++)); do
    grep -q '^exit=' "$log" && break
    sleep 1
  done
  cat "$log"
  grep -q '^exit=0$' "$log" || die "the TUI under Wine did not exit 0 on q"
  if grep -qi 'panicked' "$log"; then die "the TUI under Wine panicked"; fi
  echo "TUI under Wine: drew the endpoint table, quit on q with exit 0, no panic"
}

main() {
  local build=1 test=1
  case ${1:-} in
    --print-packages) echo "${PACKAGES[*]}"; return 0 ;;
    --no-test) test=0 ;;
    --test-only) build=0 ;;
    "") ;;
    *) echo "dist: unknown option '$1' (see the top of $0)" >&2; exit 3 ;;
  esac
  echo "m365mon $VERSION, commit ${M365MON_COMMIT:-unknown}, into $OUT"
  step "install packages" install_packages
  if ((build)); then
    echo "toolchain: $(/usr/bin/rustc --version); $(/usr/bin/cargo --version)"
    step "build static Linux binary ($MUSL)" build_musl
    step "build Windows exe ($WIN)" build_windows
    step "package: zip, tar.gz, deb, SHA256SUMS" package
    step "package manifests (winget, Scoop)" manifests
  fi
  if ((test)); then
    step "test: checksums" test_setup
    step "test: static Linux binary in a bare namespace" test_linux
    step "test: Debian package" test_deb
    step "test: Windows exe under Wine" test_windows
  fi
  say "dist done in $((SECONDS - START))s"
}

# Run, unless sourced (to call one step by hand).
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then main "$@"; fi
