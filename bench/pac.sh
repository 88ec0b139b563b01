#!/usr/bin/env bash
# PAC worker benchmark, side by side in one run:
#  1. what running the PAC file in worker processes costs a sweep: `m365mon check --lab
#     healthy` with and without `--pac-url file://tests/fixtures/pac/m365-direct.pac`
#     (one worker: spawn, load, 20 FindProxyForURL calls), alternating, median of ROUNDS;
#  2. peak resident memory (GNU time's %M) of one `m365mon pac-worker` per hostile class,
#     and of a whole `m365mon check` with a hostile PAC file (the largest of m365mon and
#     the workers it started).
# Prints Markdown for BENCHMARKS.md.
#
#   bench/pac.sh [ROUNDS]      (default 10; needs python3 and /usr/bin/time)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-10}
# M365MON_BIN=path skips the build (e.g. to measure a given binary).
[ -n "${M365MON_BIN:-}" ] || cargo build --release --quiet
bin=${M365MON_BIN:-target/release/m365mon}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pac="$PWD/tests/fixtures/pac/m365-direct.pac"

ms() { local s; s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; echo $((($(date +%s%N) - s) / 1000000)); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: >"$work/plain"; : >"$work/pac"
for _ in $(seq "$rounds"); do
  ms "$bin" check --lab healthy --format json >>"$work/plain"
  ms "$bin" check --lab healthy --format json --pac-url "file://$pac" >>"$work/pac"
done
plain=$(median <"$work/plain"); with=$(median <"$work/pac")
echo "### Sweep cost of the PAC worker ($rounds rounds, median, $(basename "$bin"))"
echo
echo "| check --lab healthy | ms |"
echo "|---|---|"
echo "| without a PAC file | $plain |"
echo "| with m365-direct.pac in a worker | $with |"
echo "| difference (worker spawn + load + 20 calls) | $((with - plain)) |"
echo

# One worker request per hostile class, for the hostile host only.
request() {
  python3 - "$1" <<'PY'
import json, sys
script = open(sys.argv[1]).read()
print(json.dumps({"script": script,
  "queries": [["https://login.microsoftonline.com/", "login.microsoftonline.com"]],
  "env": {"names": {}, "my_ip": "10.0.0.1", "now_local": "2026-11-26T10:30:00",
          "now_utc": "2026-11-26T10:30:00"}, "limit_ms": 200}))
PY
}
echo "### Peak RSS under hostile PAC files"
echo
echo "| PAC file | one pac-worker: outcome | worker peak RSS (MiB) | whole check peak RSS (MiB) | check wall (ms) |"
echo "|---|---|---|---|---|"
for f in tests/fixtures/pac_hostile/{catastrophic-regex,infinite-loop,string-doubling,huge-string,deep-recursion}.pac \
  tests/fixtures/pac/m365-direct.pac; do
  request "$f" >"$work/req.json"
  # The worker alone (its peak from getrusage of its parent); a catastrophic regex never
  # ends by itself (the monitor kills it at 200 ms + grace), so it gets the same bound here.
  python3 - "$bin" "$work/req.json" "$work/out" >"$work/rss" <<'PY'
import resource, subprocess, sys
out = open(sys.argv[3], "wb")
p = subprocess.Popen([sys.argv[1], "pac-worker"], stdin=open(sys.argv[2], "rb"), stdout=out,
                     stderr=subprocess.DEVNULL)
try:
    p.wait(timeout=0.3)
except subprocess.TimeoutExpired:
    p.kill(); p.wait()
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
  outcome=$(grep -o '"Answer".*' "$work/out" | head -c 60 || true)
  [ -n "$outcome" ] || outcome="killed or crashed after: $(tail -c 30 "$work/out" | tr -d '\n')"
  worker=$(awk '/^[0-9]+$/ {printf "%.1f", $1 / 1024}' "$work/rss")
  start=$(date +%s%N)
  /usr/bin/time -f %M -o "$work/rss2" "$bin" check --lab healthy --format json \
    --pac-url "file://$PWD/$f" >/dev/null 2>&1 || true
  took=$((($(date +%s%N) - start) / 1000000))
  whole=$(awk '/^[0-9]+$/ {printf "%.1f", $1 / 1024}' "$work/rss2")
  echo "| $(basename "$f") | \`${outcome//|/\\|}\` | $worker | $whole | $took |"
done
