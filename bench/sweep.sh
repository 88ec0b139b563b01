#!/usr/bin/env bash
# Sweep benchmark: one m365mon sweep of the 20 built-in endpoints against the lab with
# latency_ms = 300, beside the same 20 requests made the way a technician would (curl, one
# after another, --resolve and the lab CA). Both run in the same session, so the machine's
# noise hits both. Prints a Markdown table for BENCHMARKS.md.
#
#   bench/sweep.sh [ROUNDS]      (default 5; needs curl and python3)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
# M365MON_BIN=path skips the build (e.g. to measure a given binary).
[ -n "${M365MON_BIN:-}" ] || cargo build --release --quiet
bin=${M365MON_BIN:-target/release/m365mon}
work=$(mktemp -d)
trap 'kill $lab_pid 2>/dev/null || true; wait $lab_pid 2>/dev/null || true; rm -rf "$work"' EXIT
$bin lab serve --scenario slow --state-file "$work/state.json" >/dev/null 2>&1 &
lab_pid=$!
for _ in $(seq 100); do [ -s "$work/state.json" ] && break; sleep 0.1; done
[ -s "$work/state.json" ] || { echo "lab did not start" >&2; exit 1; }

# curl commands for every catalog endpoint, from the lab state and the built-in catalog.
$bin endpoints --format json > "$work/catalog.json"
python3 - "$work/state.json" "$work/catalog.json" > "$work/curls.sh" <<'PY'
import json, sys, shlex
state = json.load(open(sys.argv[1])); cat = json.load(open(sys.argv[2]))
where = {(e["host"], e["scheme"]): (e["addr"], e["port"]) for e in state["endpoints"]}
for e in cat:
    if not e["probe"]:
        continue
    addr, port = where[(e["host"], e["scheme"])]
    url = f'{e["scheme"]}://{e["host"]}:{port}{e["path"]}'
    print("curl -s -o /dev/null --max-time 5 --resolve " + shlex.quote(f'{e["host"]}:{port}:{addr}') +
          " --cacert " + shlex.quote(state["ca_cert"]) + " " + shlex.quote(url))
PY

now() { date +%s.%N; }
printf '| round | m365mon sweep (ms) | slowest endpoint (ms) | ratio | curl one by one (ms) |\n|---|---|---|---|---|\n'
for r in $(seq "$rounds"); do
  $bin check --lab-connect "$work/state.json" --format json > "$work/report.json" || true
  read -r sweep slowest < <(python3 -c '
import json,sys; v=json.load(open(sys.argv[1]))
print(v["sweep_ms"], max(c["duration_ms"] for c in v["checks"]))' "$work/report.json")
  t0=$(now); bash "$work/curls.sh"; t1=$(now)
  curl_ms=$(python3 -c "print(round(($t1-$t0)*1000,1))")
  ratio=$(python3 -c "print(round($sweep/$slowest,3))")
  printf '| %s | %s | %s | %s | %s |\n' "$r" "$sweep" "$slowest" "$ratio" "$curl_ms"
done
