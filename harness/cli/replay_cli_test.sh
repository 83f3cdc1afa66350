#!/usr/bin/env bash
# The replay CLI end to end: --validate names file:line:column, --list,
# a real replay with --jobs writes every report, and the exit status says
# whether every expectation held.
set -euo pipefail
# set -e ends the script silently; say where.
trap 'echo "FAILED: line $LINENO: $BASH_COMMAND" >&2' ERR
cli=harness/cli/replay
dir=$TEST_TMPDIR

out=$($cli scenarios --validate)
grep -qE "^[0-9]+ file\(s\) valid, 0 invalid" <<<"$out"

printf 'fixture: {placement: cpu}\ntarget: cpu\nenviroments: [missing-gpu]\n' >"$dir/bad.yaml"
if err=$($cli "$dir/bad.yaml" --validate 2>&1); then echo "bad file validated"; exit 1; fi
grep -qF "bad.yaml:3:1: unknown key 'enviroments'" <<<"$err"

[ "$($cli scenarios/saved_on_cpu.yaml --list | grep -c '^saved_on_cpu/')" -eq 9 ]

# --shard K/N: every case in exactly one of the N parts.
$cli scenarios --list | grep @ | sort >"$dir/all.txt"
for k in 1 2 3 4; do $cli scenarios --list --shard "$k/4" | grep @; done | sort >"$dir/shards.txt"
cmp "$dir/all.txt" "$dir/shards.txt"
if $cli scenarios --list --shard 5/4 2>"$dir/shard.err"; then echo "shard 5/4 accepted"; exit 1; fi
grep -qF "shard '5/4' is not K/N" "$dir/shard.err"

$cli scenarios/saved_on_cpu.yaml --jobs 3 --report-dir "$dir/reports" --cache-dir "$dir/cache" >"$dir/run.txt"
grep -qE "^replay: [0-9]+ passed, 0 failed, [0-9]+ skipped" "$dir/run.txt"
for f in report.json junit.xml summary.md report.html; do test -s "$dir/reports/$f"; done
grep -q "<testsuite name=\"checkpoint-harness\" tests=\"9\" failures=\"0\"" "$dir/reports/junit.xml"

# An expectation that does not hold: exit status 1, the reason printed.
sed 's/load_then_to: \[ok, ok, ok\]/load_then_to: [cuda-unavailable, ok, ok]/' scenarios/saved_on_cpu.yaml >"$dir/wrong.yaml"
if $cli "$dir/wrong.yaml" --cache-dir "$dir/cache" >"$dir/wrong.txt"; then echo "wrong expectation passed"; exit 1; fi
grep -q "outcome: expected cuda-unavailable, got ok" "$dir/wrong.txt"
# A host-memory bound on a Python loader (its own resident-set peak,
# tools/strategies/torch_load.py): mutated to what mmap=True does not do, it
# fails with the measured number.
if "${HARNESS_PYTHON:-python3}" -c "import torch" 2>/dev/null; then
  sed 's/py_torch_load_mmap: {cpu: "<=0.05x"}/py_torch_load_mmap: {cpu: ">=0.9x"}/' scenarios/python_host_memory.yaml \
    >"$dir/host_memory.yaml"
  if $cli "$dir/host_memory.yaml" --cache-dir "$dir/cache" >"$dir/host_memory.txt"; then
    echo "a mutated host-memory bound held"; exit 1
  fi
  grep -qE "peak.cpu: expected >=0.9x, measured [0-9]+ B" "$dir/host_memory.txt"
  grep -q "PASS ok" "$dir/host_memory.txt"  # the unmutated cell still passes
else
  echo "no Python torch (HARNESS_PYTHON): the host-memory mutation is not checked here"
fi
# Virtual GPUs in the harness's own processes, on either leg: LibTorch 1.13's
# virtual backend, or on the CUDA leg the virtual CUDA runtime the replay
# preloads by running itself again (env/virtual_runtime).
$cli scenarios/claims/c2_extra_gpu_transfers.yaml --backend virtual --filter /load_then_to --cache-dir "$dir/cache" \
  >"$dir/c2_cpp.txt"
grep -q "replay: 1 passed, 0 failed, 0 skipped" "$dir/c2_cpp.txt"
grep -q "PASS ok h2d=1023.99 KiB d2h=0 bytes d2d=1.00 MiB" "$dir/c2_cpp.txt"
# A Python loader regressed from map_location to load-then-to, on virtual
# GPUs (the virtual CUDA runtime, on either leg): the claim C2's bounds name
# the device-to-device bytes and the source device's peak it now costs.
if "${HARNESS_PYTHON:-python3}" -c "import torch" 2>/dev/null; then
  sed 's/py_map_location: "\(.*\)--mode map_location/py_map_location: "\1--mode load_then_to/' \
    scenarios/claims/c2_extra_gpu_transfers.yaml >"$dir/c2_regressed.yaml"
  grep -q -- "--mode load_then_to --checkpoint" "$dir/c2_regressed.yaml"
  if $cli "$dir/c2_regressed.yaml" --backend virtual --filter py_map_location --cache-dir "$dir/cache" \
    >"$dir/c2_regressed.txt"; then
    echo "a Python loader's regression passed"; exit 1
  fi
  grep -qE "transfers.device_to_device: expected 0, measured [0-9]+ B" "$dir/c2_regressed.txt"
  grep -qE "peak.cuda:1: expected 0, measured [0-9]+ B" "$dir/c2_regressed.txt"
  $cli scenarios/claims/c2_extra_gpu_transfers.yaml --backend virtual --filter py_ --cache-dir "$dir/cache" \
    >"$dir/c2.txt"
  grep -q "replay: 2 passed, 0 failed, 0 skipped" "$dir/c2.txt"
fi
# The zero-copy reference's host bound (scenarios/safetensors.yaml),
# mutated to what a copying loader does: it fails with the measured number.
sed 's/zero_copy:    {cpu: "<=0.01x"}/zero_copy:    {cpu: ">=0.5x"}/' scenarios/safetensors.yaml >"$dir/zero_copy.yaml"
if $cli "$dir/zero_copy.yaml" --filter zero_copy --cache-dir "$dir/cache" >"$dir/zero_copy.txt"; then
  echo "a mutated zero_copy bound held"; exit 1
fi
grep -qE "peak.cpu: expected >=0.5x, measured [0-9]+ B" "$dir/zero_copy.txt"
echo PASS
