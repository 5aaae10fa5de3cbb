#!/usr/bin/env bash
# Runs every libFuzzer target of a TSVAULT_FUZZ build for SECONDS each, two
# at a time, from its seed corpus (tests/fuzz/corpus/<target>) plus what
# earlier runs in this build directory found; first replays the saved
# regression inputs (tests/fuzz/regressions/<target>). A crash, leak,
# timeout or out-of-memory fails the run; the input that caused it is kept
# in BUILD_DIR/fuzz-findings/<target>/ (add it to regressions/ with the fix).
# Usage: scripts/run-fuzzers.sh BUILD_DIR SECONDS
set -euo pipefail

build_dir=$(cd "$1" && pwd)
seconds=$2
source_dir=$(cd "$(dirname "$0")/.." && pwd)
targets=$(cd "$build_dir/tests/fuzz" && ls *_fuzz)

run_one() {
  local target=$1
  local binary=$build_dir/tests/fuzz/$target
  local work=$build_dir/fuzz-work/$target
  local findings=$build_dir/fuzz-findings/$target
  mkdir -p "$work/corpus" "$findings"
  local regressions=$source_dir/tests/fuzz/regressions/$target
  if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
    if ! "$binary" "$regressions"/* > "$work/regressions.log" 2>&1; then
      echo "FAIL $target: a saved regression input fails again:"; tail -40 "$work/regressions.log"; return 1
    fi
  fi
  local seeds=$source_dir/tests/fuzz/corpus/$target
  [ -d "$seeds" ] || seeds=
  # -rss_limit_mb: a decoder must not need more than this for any input.
  if ! (cd "$findings" && "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
          -max_len=65536 -print_final_stats=1 "$work/corpus" $seeds > "$work/run.log" 2>&1); then
    echo "FAIL $target (inputs in $findings):"; tail -60 "$work/run.log"; return 1
  fi
  local runs cov
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/run.log" | grep -o '[0-9]*$' || echo '?')
  cov=$(grep -o 'cov: [0-9]*' "$work/run.log" | tail -1 | grep -o '[0-9]*' || echo '?')
  echo "ok   $target: $runs executions in ${seconds}s, coverage $cov edges, corpus $(ls "$work/corpus" | wc -l) inputs"
}
export -f run_one
export build_dir seconds source_dir
echo "$targets" | xargs -P 2 -I{} bash -c 'run_one {}'
