#!/usr/bin/env bash
# Records the demo story (demo/story.toml) as an asciinema cast from a real run in a
# 120x40 tmux pane: healthy, then the firewall drops the activation endpoints, TLS
# inspection and a block page appear, DNS loses a name, and everything recovers.
#
#   demo/record.sh                 writes demo/story.cast  (play: asciinema play demo/story.cast)
set -euo pipefail
cd "$(dirname "$0")/.."
# M365MON_BIN=path skips the build.
[ -n "${M365MON_BIN:-}" ] || cargo build --release --quiet
bin=${M365MON_BIN:-$PWD/target/release/m365mon}
sock=m365mon-rec-$$
trap 'tmux -L $sock kill-server 2>/dev/null || true' EXIT
rm -f demo/story.cast
tmux -L "$sock" new-session -d -s r -x 120 -y 40 \
  "asciinema rec --quiet --overwrite --cols 120 --rows 40 -c '$bin --lab demo/story.toml --interval 2 --timeout 1' demo/story.cast"
sleep 52
tmux -L "$sock" send-keys -t r q
for _ in $(seq 50); do tmux -L "$sock" has-session -t r 2>/dev/null || break; sleep 0.2; done
ls -la demo/story.cast
