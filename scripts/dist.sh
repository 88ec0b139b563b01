#!/usr/bin/env bash
# Builds what a release ships into target/dist/: the binary (profile `dist`), shell
# completions and the man page, both generated from the CLI definition by the binary
# itself. With --deb, also the Debian package (needs `cargo install cargo-deb`).
#
#   scripts/dist.sh          # target/dist/{m365mon, m365mon.1, completions/}
#   scripts/dist.sh --deb    # ... and target/debian/m365mon_<version>_<arch>.deb
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --locked --profile dist --bin m365mon
out=target/dist # the `dist` profile builds into this folder
mkdir -p "$out/completions"
bin=$out/m365mon
"$bin" completions bash >"$out/completions/m365mon.bash"
"$bin" completions zsh >"$out/completions/_m365mon"
"$bin" completions fish >"$out/completions/m365mon.fish"
"$bin" completions powershell >"$out/completions/m365mon.ps1"
"$bin" man >"$out/m365mon.1"
ls -l "$out" "$out/completions"
if [[ ${1:-} == --deb ]]; then
  command -v cargo-deb >/dev/null || { echo "cargo-deb is not installed: cargo install cargo-deb" >&2; exit 3; }
  cargo deb --no-build --profile dist
fi
