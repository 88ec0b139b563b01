#!/usr/bin/env bash
# The screen's cost (issue 14), side by side in one run:
#  1. steady state in 120x40 tmux panes for SECONDS: bytes/s written to the terminal
#     (tmux pipe-pane), CPU % of one core (utime+stime from /proc), peak RSS (VmHWM) of
#     m365mon against a healthy lab (default interval), and beside it htop, btop and
#     trippy when they are installed (trippy needs root for its raw sockets);
#  2. keypress to screen with the 315-entry catalog (the built-in 20 and 295 more from an
#     --endpoints file): ROUNDS presses of j/k in a 120x40 pane, each timed from
#     `send-keys` until the pane's text changes (polled every 2 ms, so the figure includes
#     up to 2 ms of polling and tmux's own capture); median, p90 and max.
#
#   bench/screen.sh [SECONDS] [WARMUP] [ROUNDS]   (defaults 60, 65, 40; needs tmux, python3)
#   M365MON_BIN=path bench/screen.sh               (measure a given binary, no build)
#   M365MON_ARGS='--theme monochrome' bench/screen.sh   (extra options for m365mon)
#   ENTRIES=2000 bench/screen.sh                   (part 2 with another catalog size; it
#                                                   also reports that pane's CPU % while idle)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
warmup=${2:-65}
rounds=${3:-40}
entries=${ENTRIES:-315}
[ -n "${M365MON_BIN:-}" ] || cargo build --release --quiet
bin=${M365MON_BIN:-$PWD/target/release/m365mon}
work=$(mktemp -d)
tag=m365mon-screen-$$
cleanup() {
  tmux -L "$tag" kill-server 2>/dev/null || true
  [ -n "${lab_pid:-}" ] && kill "$lab_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
t() { tmux -L "$tag" "$@"; }

$bin lab serve --scenario healthy --state-file "$work/state.json" >/dev/null 2>&1 &
lab_pid=$!
for _ in $(seq 100); do [ -s "$work/state.json" ] && break; sleep 0.1; done
[ -s "$work/state.json" ] || { echo "lab did not start" >&2; exit 1; }

# --- 1. steady state, every tool at once ------------------------------------------
args=${M365MON_ARGS:-}
tools=("m365mon:exec $bin --lab-connect $work/state.json $args")
command -v htop >/dev/null && tools+=("htop:exec htop")
command -v btop >/dev/null && tools+=("btop:exec btop")
command -v trippy >/dev/null && [ "$(id -u)" = 0 ] && tools+=("trippy:exec trippy 127.0.0.1")
for entry in "${tools[@]}"; do
  name=${entry%%:*}; cmd=${entry#*:}
  t new-session -d -s "$name" -x 120 -y 40 "$cmd"
done
sleep "$warmup"
declare -A pid c0
for entry in "${tools[@]}"; do
  name=${entry%%:*}
  pid[$name]=$(t display -p -t "$name" '#{pane_pid}')
  t pipe-pane -o -t "$name" "cat > $work/$name.bytes"
done
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
t0=$(date +%s.%N)
for entry in "${tools[@]}"; do name=${entry%%:*}; c0[$name]=$(ticks "${pid[$name]}"); done
sleep "$secs"
t1=$(date +%s.%N)
echo "| program | bytes/s to the terminal | CPU % of one core | peak RSS |"
echo "|---|---|---|---|"
for entry in "${tools[@]}"; do
  name=${entry%%:*}
  c1=$(ticks "${pid[$name]}")
  t pipe-pane -t "$name"
  bytes=$(stat -c %s "$work/$name.bytes")
  rss=$(awk '/VmHWM/ {print $2}' "/proc/${pid[$name]}/status")
  python3 -c "
import sys
b,t0,t1,c0,c1,hz,rss=sys.argv[2:]
el=float(t1)-float(t0)
print(f'| {sys.argv[1]} | {int(b)/el:.0f} | {100*(int(c1)-int(c0))/int(hz)/el:.2f} | {int(rss)/1024:.1f} MiB |')
" "$name" "$bytes" "$t0" "$t1" "${c0[$name]}" "$c1" "$(getconf CLK_TCK)" "$rss"
  t kill-session -t "$name"
done

# --- 2. keypress to screen with $entries entries -----------------------------------
python3 - "$work/extra.toml" "$entries" <<'PY'
import sys
areas = ["exchange", "sharepoint", "skype", "common"]
with open(sys.argv[1], "w") as f:
    f.write('merge = "extend"\n')
    for i in range(int(sys.argv[2]) - 20):
        f.write(f'\n[[endpoint]]\nhost = "{areas[i % 4]}-{i:04}.svc.example.microsoft.com"\n')
PY
t new-session -d -s keys -x 120 -y 40 "exec $bin --lab-connect $work/state.json --endpoints $work/extra.toml $args"
sleep 15   # the first sweep (the made-up hosts fail at DNS in the lab)
kpid=$(t display -p -t keys '#{pane_pid}')
k0=$(ticks "$kpid"); kt0=$(date +%s.%N)
sleep 20
k1=$(ticks "$kpid"); kt1=$(date +%s.%N)
python3 -c '
import sys
n, c0, c1, t0, t1, hz = sys.argv[1:]
print(f"\nidle, {n} entries: {100*(int(c1)-int(c0))/int(hz)/(float(t1)-float(t0)):.2f} % of one core (its sweeps included)")
' "$entries" "$k0" "$k1" "$kt0" "$kt1" "$(getconf CLK_TCK)"
python3 - "$tag" "$rounds" "$entries" <<'PY'
import subprocess, sys, time, statistics
tag, rounds, entries = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def cap():
    return subprocess.run(["tmux", "-L", tag, "capture-pane", "-p", "-t", "keys"],
                          capture_output=True, text=True).stdout
# Select the second row first, so k and j each move the selection (and change the screen).
for key in ["j", "j"]:
    subprocess.run(["tmux", "-L", tag, "send-keys", "-t", "keys", key])
time.sleep(0.5)
samples = []
for i in range(rounds):
    before = cap()
    key = "k" if i % 2 == 0 else "j"
    start = time.perf_counter()
    subprocess.run(["tmux", "-L", tag, "send-keys", "-t", "keys", key])
    while cap() == before:
        if time.perf_counter() - start > 2:
            break
        time.sleep(0.002)
    samples.append((time.perf_counter() - start) * 1000)
    time.sleep(0.2)
samples.sort()
p90 = samples[int(len(samples) * 0.9) - 1]
print()
print("| entries | presses | median (ms) | p90 (ms) | max (ms) |")
print("|---|---|---|---|---|")
print(f"| {entries} | {rounds} | {statistics.median(samples):.1f} | {p90:.1f} | {samples[-1]:.1f} |")
PY
