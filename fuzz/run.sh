#!/usr/bin/env bash
# Runs every fuzz target for a few seconds each from its corpus in fuzz/corpus/ (read only:
# what the run finds goes to a temporary folder), and prints one line per target with its
# executions per second. A crash, panic, timeout or out-of-memory fails the run and leaves
# the input in fuzz/artifacts/<target>/.
#
#   fuzz/run.sh [SECONDS_PER_TARGET]      (default 10; needs cargo-fuzz)
#
# The toolchain is stable: RUSTC_BOOTSTRAP=1 lets cargo-fuzz's -Z flags through, and no
# sanitizer (-s none) means no sanitizer runtime is needed; libFuzzer still finds panics,
# hangs (-timeout) and memory blow-ups (-rss_limit_mb, -malloc_limit_mb).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=${1:-10}
export RUSTC_BOOTSTRAP=1
cargo fuzz build --dev -s none
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%-14s %10s %10s %8s\n' target execs execs/s corpus
for target in $(cargo fuzz list); do
  mkdir -p "$work/$target" "fuzz/artifacts/$target"
  log="$work/$target.log"
  if ! cargo fuzz run --dev -s none "$target" "$work/$target" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -malloc_limit_mb=512 \
    -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "fuzz target $target failed; the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  execs=$(awk '/stat::number_of_executed_units/ {print $NF}' "$log")
  rate=$(awk '/stat::average_exec_per_sec/ {print $NF}' "$log")
  printf '%-14s %10s %10s %8s\n' "$target" "$execs" "$rate" "$(ls "fuzz/corpus/$target" | wc -l)"
done
