#!/usr/bin/env bash
# Address-family benchmark: one m365mon sweep with --ip-family 4 beside one with both
# families (each endpoint's IPv4 and IPv6 address probed side by side), interleaved round
# by round against `lab serve --ipv6 --scenario slow` (every answer +300 ms), for the 20
# built-in entries and for the 315 entries of Microsoft's JSON (216 of them probed).
# Prints Markdown tables for BENCHMARKS.md: sweep time, slowest endpoint, their ratio.
#
#   bench/families.sh [ROUNDS] [MS_JSON]   (default 5 and ../shared/data's sample; needs python3)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
ms_json=${2:-/work/shared/data/ms365-endpoints-worldwide-sample.json}
# M365MON_BIN=path skips the build (e.g. to measure a given binary).
[ -n "${M365MON_BIN:-}" ] || cargo build --release --quiet
bin=${M365MON_BIN:-target/release/m365mon}
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

start_lab() { # name, catalog args...
  local name=$1; shift
  $bin lab serve --ipv6 --scenario slow --state-file "$work/$name.json" "$@" >/dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do [ -s "$work/$name.json" ] && break; sleep 0.1; done
  [ -s "$work/$name.json" ] || { echo "lab $name did not start" >&2; exit 1; }
}
start_lab builtin
start_lab ms --ms-endpoints "$ms_json"

sweep() { # state, family, catalog args...
  local state=$1 family=$2; shift 2
  $bin check --lab-connect "$work/$state.json" --format json --ip-family "$family" "$@" > "$work/report.json" || true
  python3 -c '
import json,sys; v=json.load(open(sys.argv[1]))
eps=[c for c in v["checks"] if c["kind"]=="endpoint" and c["status"]!="skip"]
addrs=sum(len(c.get("addresses",[])) for c in eps)
slowest=max(c["duration_ms"] for c in eps)
print(v["sweep_ms"], slowest, round(v["sweep_ms"]/slowest,3), len(eps), addrs)' "$work/report.json"
}

for catalog in builtin ms; do
  args=()
  [ "$catalog" = ms ] && args=(--ms-endpoints "$ms_json")
  printf '\n%s\n\n' "$catalog"
  printf '| round | IPv4 only: sweep (ms) | slowest (ms) | ratio | both: sweep (ms) | slowest (ms) | ratio | endpoints | addresses probed (4 / both) |\n|---|---|---|---|---|---|---|---|---|\n'
  for r in $(seq "$rounds"); do
    read -r s4 w4 r4 n4 a4 < <(sweep "$catalog" 4 "${args[@]}")
    read -r s6 w6 r6 n6 a6 < <(sweep "$catalog" both "${args[@]}")
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s / %s |\n' "$r" "$s4" "$w4" "$r4" "$s6" "$w6" "$r6" "$n6" "$a4" "$a6"
  done
done
