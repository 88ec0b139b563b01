#!/usr/bin/env bash
# Steady-state cost of the live monitor in a 120x40 terminal, against a healthy lab run
# as a separate process (`lab serve` + `--lab-connect`), at the default interval (5 s):
# bytes written to the terminal per second, CPU % of one core, peak RSS. Then the time
# from a fault appearing on the wire to the light turning in the pane.
#
#   bench/tui.sh [SECONDS] [WARMUP]   (default 60 s measured after 65 s of warm-up, so
#                                      every "since" age is past its first minute; needs
#                                      tmux and python3)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
warmup=${2:-65}
# M365MON_BIN=path skips the build (e.g. to measure a given binary).
[ -n "${M365MON_BIN:-}" ] || cargo build --release --quiet
bin=${M365MON_BIN:-$PWD/target/release/m365mon}
work=$(mktemp -d)
session=m365mon-bench-$$
cleanup() {
  tmux kill-session -t "$session" 2>/dev/null || true
  [ -n "${lab_pid:-}" ] && kill "$lab_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_lab() { # scenario
  $bin lab serve --scenario "$1" --state-file "$work/state.json" >/dev/null 2>&1 &
  lab_pid=$!
  for _ in $(seq 100); do [ -s "$work/state.json" ] && return 0; sleep 0.1; done
  echo "lab did not start" >&2; exit 1
}

# --- steady state -----------------------------------------------------------------
start_lab healthy
tmux new-session -d -s "$session" -x 120 -y 40 "exec $bin --lab-connect $work/state.json"
sleep "$warmup"   # start-up, the first sweeps and first-minute ages are not steady state
pid=$(tmux display -p -t "$session" '#{pane_pid}')
tmux pipe-pane -o -t "$session" "cat > $work/bytes"
ticks() { awk '{print $14+$15}' "/proc/$pid/stat"; }
t0=$(date +%s.%N); c0=$(ticks)
sleep "$secs"
t1=$(date +%s.%N); c1=$(ticks)
tmux pipe-pane -t "$session"
bytes=$(stat -c %s "$work/bytes")
hz=$(getconf CLK_TCK)
rss_kib=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
python3 - "$bytes" "$t0" "$t1" "$c0" "$c1" "$hz" "$rss_kib" <<'PY'
import sys
b, t0, t1, c0, c1, hz, rss = sys.argv[1:]
el = float(t1) - float(t0)
print(f"| window | bytes/s to the terminal | CPU % of one core | peak RSS |")
print(f"|---|---|---|---|")
print(f"| {el:.0f} s | {int(b)/el:.0f} | {100*(int(c1)-int(c0))/int(hz)/el:.2f} | {int(rss)/1024:.1f} MiB |")
PY
tmux kill-session -t "$session"
kill "$lab_pid"; wait "$lab_pid" 2>/dev/null || true
rm -f "$work/state.json"

# --- fault to light ---------------------------------------------------------------
# The lab blackholes activation.sls.microsoft.com 20 s after it starts; we watch the
# pane until that row shows the fail light.
cat > "$work/fault.toml" <<'TOML'
name = "bench-fault"
description = "activation endpoint blackholed 20 s after start"
[[fault]]
host = "activation.sls.microsoft.com"
mode = "blackhole"
after_secs = 20
TOML
start_lab "$work/fault.toml"
lab_started=$(python3 -c "import os;print(os.stat('$work/state.json').st_mtime)")
tmux new-session -d -s "$session" -x 120 -y 40 "exec $bin --lab-connect $work/state.json"
fault_at=$(python3 -c "print($lab_started + 20)")
light() { # the light of the activation row in the endpoints pane
  tmux capture-pane -p -t "$session" | python3 -c '
import sys
for l in sys.stdin:
    r = l.strip().lstrip("\u2502")
    if r[2:].startswith("activation.sls.microsoft.com "):
        print(r[0]); break'
}
while :; do
  now=$(date +%s.%N)
  [ "$(light)" = "x" ] && break
  if python3 -c "import sys; sys.exit(0 if $now > $fault_at + 30 else 1)"; then echo "light did not turn within 30 s" >&2; exit 1; fi
  sleep 0.1
done
python3 -c "print(f'| fault to light | {($now - $fault_at):.2f} s (bound: interval 5 s + stage timeout 3 s = 8 s) |')"
