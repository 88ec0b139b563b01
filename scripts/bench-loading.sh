#!/usr/bin/env bash
# Loading benchmark: how long `m365mon endpoints` takes to load a generated endpoint file
# (TOML) and a generated Microsoft web-service JSON of 10,000, 20,000 and 40,000 entries.
# Linear loading means 20,000 entries in under 2 s and twice the entries in under 2.5x
# the time.
#
#   scripts/bench-loading.sh [BINARY] [OLD_BINARY]
#
# BINARY      default target/release/m365mon
# OLD_BINARY  optional: a build to compare with, side by side in the same run (only up to
#             20,000 entries: a quadratic loader takes minutes beyond that)
set -euo pipefail

bin=${1:-target/release/m365mon}
old=${2:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

gen_toml() { # N FILE
  awk -v n="$1" 'BEGIN { print "merge = \"extend\""; for (i = 0; i < n; i++) printf "\n[[endpoint]]\nhost = \"h%d.bench.example\"\npath = \"/p%d\"\ncategory = \"Allow\"\nrequired = false\n", i, i }' > "$2"
}
gen_json() { # N FILE: N sets of 2 URLs each, so 2N entries
  awk -v n="$1" 'BEGIN { print "["; for (i = 1; i <= n; i++) printf "  {\"id\": %d, \"serviceArea\": \"Common\", \"urls\": [\"a%d.bench.example\", \"*.b%d.bench.example\"], \"tcpPorts\": \"80,443\", \"category\": \"Allow\", \"required\": true}%s\n", i, i, i, (i < n ? "," : ""); print "]" }' > "$2"
}

# Seconds (3 decimals) for `m365mon endpoints` on the file; the command must succeed.
timed() { # BIN FLAG FILE
  local s e
  s=$(date +%s.%N)
  "$1" endpoints "$2" "$3" > "$work/out" 2> "$work/err" || { echo "bench: $1 failed on $3:" >&2; cat "$work/err" >&2; exit 1; }
  e=$(date +%s.%N)
  awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }'
}

echo "| input | entries | new (s) | old (s) |"
echo "|---|---|---|---|"
declare -A t
for kind in toml json; do
  for n in 10000 20000 40000; do
    f=$work/$n.$kind
    if [ "$kind" = toml ]; then gen_toml "$n" "$f"; flag=--endpoints; entries=$n; sets=$n
    else gen_json $((n / 2)) "$f"; flag=--ms-endpoints; entries=$n; sets=$((n / 2)); fi
    t[$kind$n]=$(timed "$bin" "$flag" "$f")
    o=-
    if [ -n "$old" ] && [ "$n" -le 20000 ]; then o=$(timed "$old" "$flag" "$f"); fi
    label="endpoint file (TOML)"; [ "$kind" = json ] && label="Microsoft JSON ($sets sets)"
    echo "| $label | $entries | ${t[$kind$n]} | $o |"
  done
done
echo
for kind in toml json; do
  awk -v k="$kind" -v a="${t[${kind}20000]}" -v b="${t[${kind}40000]}" 'BEGIN { printf "%s: 40,000 / 20,000 entries = %.2f x the time\n", k, b / a }'
done
