#!/usr/bin/env bash
# Builds the fuzz targets with clang, libFuzzer, ASan and UBSan, and runs
# each for RUNS executions (default 1,000,000) from a copy of its seeds.
# Prints each target's executions, new inputs and time; a crash stops with
# libFuzzer's report and the input saved as crash-* under the work folder
# (commit it to tools/fuzz/seeds/<device|external_result|scenario>/ as a
# regression input; the seed lists are FUZZ_TARGETS in tools/fuzz/BUILD).
#
#   tools/fuzz/run.sh [RUNS] [TARGET...]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
runs=${1:-1000000}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(scenario_fuzzer device_fuzzer external_result_fuzzer)
export HARNESS_OUTPUT_VARIANT=fuzz  # clang's toolchain: an output base of its own (tools/bazelw)
cd "$root"
labels=()
for t in "${targets[@]}"; do labels+=("//tools/fuzz:$t"); done
build_log=$(mktemp)
tools/bazelw cpu build --config=fuzz "${labels[@]}" >"$build_log" 2>&1 || { tail -30 "$build_log"; exit 1; }
bin=$(tools/bazelw cpu info --config=fuzz bazel-bin 2>/dev/null)
work=$(mktemp -d /tmp/harness-fuzz.XXXXXX)
for t in "${targets[@]}"; do
  corpus="$work/$t/corpus"
  mkdir -p "$corpus"
  # The seeds the regression test replays (FUZZ_TARGETS in tools/fuzz/BUILD).
  case "$t" in
    scenario_fuzzer) cp scenarios/*.yaml scenarios/claims/*.yaml tests/badinput/scenarios/*.yaml "$corpus/"
      cp tools/fuzz/seeds/scenario/* "$corpus/" 2>/dev/null || true ;;
    device_fuzzer) cp tools/fuzz/seeds/device/* "$corpus/" ;;
    external_result_fuzzer) cp tools/fuzz/seeds/external_result/* "$corpus/" ;;
  esac
  start=$(date +%s)
  (cd "$work/$t" && "$bin/tools/fuzz/$t" -runs="$runs" -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
    -print_final_stats=1 corpus >"$work/$t/log.txt" 2>&1) || {
    echo "$t: FAILED after $(($(date +%s) - start)) s; see $work/$t/log.txt"
    tail -30 "$work/$t/log.txt"
    exit 1
  }
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t/log.txt")
  found=$(($(ls "$corpus" | wc -l)))
  echo "$t: $execs executions in $(($(date +%s) - start)) s, corpus of $found inputs, no crash"
done
echo "work folder: $work"
