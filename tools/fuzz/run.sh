#!/usr/bin/env bash
# Builds the fuzz targets with clang, libFuzzer, ASan and UBSan, and runs
# each for RUNS executions (default 1,000,000) from a copy of its seeds.
# Prints each target's executions, new inputs and time; a crash stops with
# libFuzzer's report and the input saved as crash-* under the work folder
# (commit it to tools/fuzz/seeds/<target>/ as a regression input). Each
# target starts from the seeds its regression test replays (its `data` in
# tools/fuzz/BUILD, read back with bazel cquery: one list, not two).
#
#   tools/fuzz/run.sh [RUNS] [TARGET...]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
runs=${1:-1000000}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(scenario_fuzzer device_fuzzer external_result_fuzzer pickle_fuzzer archive_fuzzer)
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
  # The seeds the regression test replays (its data in tools/fuzz/BUILD).
  seeds=$(tools/bazelw cpu cquery --config=fuzz "labels(data, //tools/fuzz:$t)" --output=starlark \
            --starlark:expr="'\\n'.join([f.path for f in target.files.to_list()])" 2>/dev/null)
  [ -n "$seeds" ] || { echo "$t: no seeds found by bazel cquery"; exit 1; }
  for seed in $seeds; do cp "$seed" "$corpus/$(echo "$seed" | tr / _)"; done
  # LibTorch 1.13's zip reader (PyTorchStreamReader) leaks its miniz state,
  # about 1.4 KB, each time it throws on a damaged archive: its finding, not
  # ours (the harness reads hostile archives in workers, which exit). Leaks
  # are not counted for the target that drives that reader.
  leaks=1
  [ "$t" != archive_fuzzer ] || leaks=0
  start=$(date +%s)
  (cd "$work/$t" && ASAN_OPTIONS="detect_leaks=$leaks" "$bin/tools/fuzz/$t" -runs="$runs" -max_len=65536 \
    -timeout=10 -rss_limit_mb=4096 -detect_leaks="$leaks" -print_final_stats=1 corpus >"$work/$t/log.txt" 2>&1) || {
    echo "$t: FAILED after $(($(date +%s) - start)) s; see $work/$t/log.txt"
    tail -30 "$work/$t/log.txt"
    exit 1
  }
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t/log.txt")
  found=$(($(ls "$corpus" | wc -l)))
  echo "$t: $execs executions in $(($(date +%s) - start)) s, corpus of $found inputs, no crash"
done
echo "work folder: $work"
