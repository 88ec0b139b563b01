#!/usr/bin/env bash
# Local queueing in stage times: the TLS stage of loopback endpoints probed one at a time,
# 20 at once (the built-in list) and 216 at once (Microsoft's worldwide list, the sample in
# ../shared/data), by two builds interleaved round by round in one run. The "before" build
# times stages with a wall clock; the "after" one leaves the probe's wait for a worker out
# of the stage and shows it as the "local wait" fact. Prints a Markdown table.
#
#   bench/queueing.sh BEFORE_BIN AFTER_BIN [ROUNDS]     (default 3; needs python3)
set -euo pipefail
cd "$(dirname "$0")/.."
before=$(realpath "$1") after=$(realpath "$2") rounds=${3:-3}
ms_json=${MS_JSON:-../shared/data/ms365-endpoints-worldwide-sample.json}
[ -s "$ms_json" ] || ms_json=/work/shared/data/ms365-endpoints-worldwide-sample.json
work=$(mktemp -d)
lab_pid=
stop_lab() { [ -n "$lab_pid" ] && { kill "$lab_pid" 2>/dev/null || true; wait "$lab_pid" 2>/dev/null || true; }; lab_pid=; }
trap 'stop_lab; rm -rf "$work"' EXIT

start_lab() {
  rm -f "$work/state.json"
  "$after" lab serve --scenario healthy --state-file "$work/state.json" "$@" >/dev/null 2>&1 &
  lab_pid=$!
  for _ in $(seq 200); do [ -s "$work/state.json" ] && return 0; sleep 0.1; done
  echo "lab did not start" >&2; exit 1
}

# One sweep: median and 90th percentile of the TLS stage, median local wait (ms).
measure() {
  "$@" --lab-connect "$work/state.json" --format json --timeout 5 > "$work/report.json" 2>/dev/null || true
  python3 - "$work/report.json" <<'PY'
import json, re, statistics, sys
v = json.load(open(sys.argv[1]))
tls, wait = [], []
for c in v["checks"]:
    if c["kind"] != "endpoint" or c["status"] == "skip":
        continue
    for s in c["stages"]:
        if s["name"] == "tls" and s["status"] == "pass":
            tls.append(s["ms"])
    w = [f[1] for f in c.get("facts", []) if f[0] == "local wait"]
    wait.append(float(re.match(r"[0-9.]+", w[0]).group()) if w else 0.0)
tls.sort()
p90 = tls[int(len(tls) * 0.9) - 1] if tls else 0
print(f"{len(tls)} {statistics.median(tls):.2f} {p90:.2f} {statistics.median(wait):.2f}")
PY
}

printf '| endpoints in flight | round | TLS median before (ms) | TLS median after (ms) | TLS p90 before / after | local wait median after (ms) |\n|---|---|---|---|---|---|\n'
run_config() {
  local label=$1; shift
  for r in $(seq "$rounds"); do
    read -r n_b med_b p90_b _ < <(measure "$before" check "$@")
    read -r n_a med_a p90_a wait_a < <(measure "$after" check "$@")
    printf '| %s (%s TLS) | %s | %s | %s | %s / %s | %s |\n' "$label" "$n_a" "$r" "$med_b" "$med_a" "$p90_b" "$p90_a" "$wait_a"
  done
}
start_lab
run_config "1 (sequential, 20 built-in)" --concurrency 1
run_config "20 (built-in)"
stop_lab
start_lab --ms-endpoints "$ms_json"
run_config "216 (Microsoft's list)" --ms-endpoints "$ms_json" --concurrency 256
stop_lab
