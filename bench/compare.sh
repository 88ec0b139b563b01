#!/usr/bin/env bash
# Two builds of m365mon side by side, in one run (the machine is noisy, so the two are
# interleaved round by round and compared as ratios): binary size, the sweep against a
# slow lab (its wall time and the ratio to its slowest endpoint), and CPU per sweep of a
# running monitor (`watch --jsonl`, one sweep a second against a healthy lab in its own
# process). Prints Markdown tables for BENCHMARKS.md.
#
#   bench/compare.sh OLD_BIN NEW_BIN [ROUNDS] [SECONDS]   (defaults 5 rounds, 30 s)
#
# Needs python3. Typical use, before and after a change:
#   git worktree add /tmp/before <commit> && (cd /tmp/before && cargo build --release)
#   cargo build --release && bench/compare.sh /tmp/before/target/release/m365mon target/release/m365mon
set -euo pipefail
cd "$(dirname "$0")/.."
old=${1:?OLD_BIN}
new=${2:?NEW_BIN}
rounds=${3:-5}
seconds=${4:-30}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_lab() { # scenario state-file
  "$new" lab serve --scenario "$1" --state-file "$2" >/dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$2" ] && return 0; sleep 0.1; done
  echo "lab $1 did not start" >&2
  exit 1
}
start_lab slow "$work/slow.json"
start_lab healthy "$work/healthy.json"

# One sweep against the slow lab (every answer +300 ms): wall time and ratio.
sweep() { # bin -> "sweep_ms ratio"
  "$1" check --lab-connect "$work/slow.json" --format json >"$work/r.json" || true
  python3 -c '
import json,sys; v=json.load(open(sys.argv[1]))
slowest=max(c["duration_ms"] for c in v["checks"] if c["id"].startswith("endpoint:"))
print(round(v["sweep_ms"],1), round(v["sweep_ms"]/slowest,3))' "$work/r.json"
}

# CPU (user+system) per sweep of a monitor running `seconds` at one sweep a second.
cpu_per_sweep() { # bin -> "cpu_ms_per_sweep sweeps"
  "$1" watch --jsonl --interval 1 --lab-connect "$work/healthy.json" >"$work/w.jsonl" 2>/dev/null &
  local pid=$!
  sleep "$seconds"
  local ticks
  ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  local sweeps
  sweeps=$(grep -c '"type":"sweep"' "$work/w.jsonl" || true)
  python3 -c "import os; t=$ticks*1000/os.sysconf('SC_CLK_TCK'); print(round(t/max($sweeps,1),1), $sweeps)"
}

size() { stat -c %s "$1"; }
printf '| build | binary size (bytes) |\n|---|---|\n| before | %s |\n| after | %s |\n\n' "$(size "$old")" "$(size "$new")"

printf '| round | sweep before (ms) | ratio before | sweep after (ms) | ratio after | CPU/sweep before (ms) | CPU/sweep after (ms) |\n|---|---|---|---|---|---|---|\n'
for r in $(seq "$rounds"); do
  read -r so ro < <(sweep "$old")
  read -r sn rn < <(sweep "$new")
  read -r co _ < <(cpu_per_sweep "$old")
  read -r cn _ < <(cpu_per_sweep "$new")
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$r" "$so" "$ro" "$sn" "$rn" "$co" "$cn"
done
