#!/usr/bin/env bash
# Soak: run `m365mon serve` (the monitor's engine, headless) against a built-in lab whose
# faults flap all the time, scrape it like Prometheus, and record the process's RSS, open
# file descriptors and CPU once a minute. Flat is the goal: a figure that keeps growing
# is a leak.
#
#   scripts/soak.sh [MINUTES] [BINARY] [OUT]
#
# MINUTES  how long to run (default 60)
# BINARY   the m365mon to run (default target/release/m365mon)
# OUT      the Markdown table (default target/soak/soak-<date>.md); the raw per-minute
#          samples go beside it as .tsv
#
# The lab scenario is generated: a 2-minute cycle repeated for the whole run, in which
# activation is blackholed, login is intercepted, the config service answers 503, a
# CDN host is slow and a name does not resolve, each for part of the cycle. The monitor
# sweeps every 5 s (faster than the default, to age it faster); a scraper fetches
# /metrics and /api/state every 5 s and counts answers that are not 200.
set -euo pipefail

minutes=${1:-60}
bin=${2:-target/release/m365mon}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=${3:-target/soak/soak-$stamp.md}
mkdir -p "$(dirname "$out")"
tsv=${out%.md}.tsv
work=$(mktemp -d)
trap 'kill "$pid" "$scraper" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

[ -x "$bin" ] || { echo "soak: no binary at $bin (nice -n 10 cargo build --release)" >&2; exit 3; }
case $minutes in ''|*[!0-9]*) echo "soak: MINUTES must be a whole number, got '$minutes'" >&2; exit 3;; esac

# One 120 s cycle per iteration, for the whole run plus a margin.
scenario=$work/flapping.toml
{
  echo 'name = "soak-flapping"'
  echo 'description = "faults that come and go every 2 minutes, for soak runs"'
  cycles=$(( minutes / 2 + 2 ))
  for ((c = 0; c < cycles; c++)); do
    t=$(( c * 120 ))
    cat <<TOML

[[fault]]
host = "activation.sls.microsoft.com"
mode = "blackhole"
after_secs = $(( t + 10 ))
until_secs = $(( t + 50 ))

[[fault]]
host = "login.microsoftonline.com"
mode = "tls-intercept"
after_secs = $(( t + 30 ))
until_secs = $(( t + 70 ))

[[fault]]
host = "officeclient.microsoft.com"
mode = "http-status"
status = 503
after_secs = $(( t + 40 ))
until_secs = $(( t + 90 ))

[[fault]]
host = "*.officecdn.microsoft.com"
mode = "slow"
delay_ms = 1500
after_secs = $(( t + 60 ))
until_secs = $(( t + 100 ))

[[fault]]
host = "ols.officeapps.live.com"
mode = "dns-nxdomain"
after_secs = $(( t + 80 ))
until_secs = $(( t + 115 ))
TOML
  done
} > "$scenario"

port=$(( 20000 + RANDOM % 20000 ))
"$bin" serve --lab "$scenario" --listen "127.0.0.1:$port" --interval 5 \
  --log-file "$work/debug.log" --log-level debug 2> "$work/serve.err" &
pid=$!

for _ in $(seq 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
  sleep 0.1
done
curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" || { echo "soak: serve did not start:" >&2; cat "$work/serve.err" >&2; exit 1; }

# The scraper: counts answers per minute in files the sampler reads.
echo 0 > "$work/scrapes"; echo 0 > "$work/bad"
(
  ok=0; bad=0
  while kill -0 "$pid" 2>/dev/null; do
    for path in /metrics /api/state; do
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$port$path" || true)
      if [ "$code" = 200 ]; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
    done
    echo "$ok" > "$work/scrapes"; echo "$bad" > "$work/bad"
    sleep 5
  done
) &
scraper=$!

hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
sweeps() { curl -s --max-time 10 "http://127.0.0.1:$port/metrics" | awk '/^m365mon_sweeps_total /{print $2}'; }

printf 'minute\trss_kib\tfds\tthreads\tcpu_pct\tsweeps\tscrapes_ok\tscrapes_bad\tlog_bytes\n' > "$tsv"
last_ticks=$(cpu_ticks); last_t=$(date +%s.%N)
sample() {
  local m=$1 ticks t rss fds thr cpu
  ticks=$(cpu_ticks); t=$(date +%s.%N)
  cpu=$(awk -v a="$last_ticks" -v b="$ticks" -v s="$last_t" -v e="$t" -v hz="$hz" 'BEGIN{printf "%.1f", (b-a)/hz/(e-s)*100}')
  last_ticks=$ticks; last_t=$t
  rss=$(awk '/^VmRSS:/{print $2}' "/proc/$pid/status")
  thr=$(awk '/^Threads:/{print $2}' "/proc/$pid/status")
  fds=$(ls "/proc/$pid/fd" | wc -l)
  logb=$(du -cb "$work"/debug.log* 2>/dev/null | tail -1 | cut -f1)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "$rss" "$fds" "$thr" "$cpu" "$(sweeps)" \
    "$(cat "$work/scrapes")" "$(cat "$work/bad")" "${logb:-0}" >> "$tsv"
}
sample 0
for ((m = 1; m <= minutes; m++)); do
  sleep 60
  kill -0 "$pid" 2>/dev/null || { echo "soak: serve died at minute $m:" >&2; tail -20 "$work/serve.err" >&2; exit 1; }
  sample "$m"
  tail -1 "$tsv"
done

{
  echo "Soak of \`$("$bin" --version)\` for $minutes min ($stamp), \`scripts/soak.sh $minutes\`:"
  echo
  echo "| minute | RSS (KiB) | open fds | threads | CPU (%) | sweeps | scrapes ok | scrapes failed | debug log (bytes) |"
  echo "|---|---|---|---|---|---|---|---|---|"
  tail -n +2 "$tsv" | awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1,$2,$3,$4,$5,$6,$7,$8,$9}'
} > "$out"
echo "soak: table in $out"
