#!/usr/bin/env bash
# Screenshots of the main screens, from a real run of the release binary in tmux against
# the lab's demo story (demo/story.toml), rendered to PNG by demo/ansi2png.py.
#
#   demo/screenshots.sh            writes demo/screenshots/*.png
#
# Needs tmux, python3 with Pillow (pip install pillow) and fonts-dejavu-core.
set -euo pipefail
cd "$(dirname "$0")/.."
# M365MON_BIN=path skips the build (e.g. to measure a given binary).
[ -n "${M365MON_BIN:-}" ] || cargo build --release --quiet
bin=${M365MON_BIN:-$PWD/target/release/m365mon}
out=demo/screenshots
mkdir -p "$out"
sock=m365mon-shots-$$
work=$(mktemp -d)
trap 'tmux -L $sock kill-server 2>/dev/null || true; rm -rf "$work"' EXIT
t() { tmux -L "$sock" "$@"; }
shot() { # name
  t capture-pane -e -p -t s > "$work/$1.ansi"
  python3 demo/ansi2png.py "$work/$1.ansi" "$out/$1.png" 120 40
  echo "wrote $out/$1.png"
}

t new-session -d -s s -x 120 -y 40 "$bin --lab demo/story.toml --interval 2 --timeout 1 --export-dir $work"
sleep 6;  shot healthy
sleep 8;  shot firewall            # ~14 s: activation endpoints blackholed
t send-keys -t s j j Enter; sleep 1; shot detail
t send-keys -t s Escape
sleep 10; shot interception        # ~25 s: TLS inspection on sign-in, block page
t send-keys -t s '?'; sleep 1; shot help
t send-keys -t s Escape
t kill-server

# Monochrome (NO_COLOR), as over a plain serial or SSH terminal.
t new-session -d -s s -x 120 -y 40 "NO_COLOR=1 $bin --lab firewall --interval 2 --timeout 1"
sleep 5; shot monochrome
