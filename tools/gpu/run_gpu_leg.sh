#!/usr/bin/env bash
# Runs the bundled CUDA-leg binaries (tools/gpu/bundle.sh) on a GPU runner
# against its own PyTorch, and leaves everything measured in $OUT/gpu.tgz.
set -uo pipefail
out=${OUT:-/tmp/gpu-out}
work=$(mktemp -d)
mkdir -p "$out" "$work/logs"
torch_lib=$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
export LD_LIBRARY_PATH="$torch_lib:$PWD/.gpu/lib:${LD_LIBRARY_PATH:-}"
export HARNESS_PYTHON=python3 HARNESS_CACHE_DIR="$work/cache"
# Found beside the binaries otherwise; explicit here for the record.
export HARNESS_CUPTI_INJECTION="$PWD/.gpu/bin/libharness_cupti_injection.so"
export HARNESS_DRIVER_FAULT_LIB="$PWD/.gpu/stand_in/libcuda.so.1"
{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "devices", torch.cuda.device_count())'
} >"$work/logs/host.txt" 2>&1
# GPU_QUICK=1: only the recorder test and the scenarios in GPU_SCENARIOS.
if [ -n "${GPU_QUICK:-}" ]; then
  for name in recorder_test activity_tracer_test injection_test; do
    TEST_TMPDIR=$(mktemp -d) timeout 300 ".gpu/bin/$name" >"$work/logs/$name.log" 2>&1
    echo "$name rc=$?" >>"$work/logs/tests.txt"
  done
  .gpu/bin/replay ${GPU_SCENARIOS:-scenarios} --backend real --report-dir "$work/replay" >"$work/logs/replay.txt" 2>&1
  echo "replay rc=$?" >>"$work/logs/tests.txt"
  .gpu/bin/replay --claims --backend real --report-dir "$work/claims" >"$work/logs/claims.txt" 2>&1
  echo "claims rc=$?" >>"$work/logs/tests.txt"
  tar -C "$work" -czf "$out/gpu.tgz" logs replay claims
  cat "$work/logs/tests.txt"; tail -n 30 "$work/logs/replay.txt"
  grep -hE "OK|FAILED|Failure|Which|Skipped" "$work/logs/"*_test.log
  exit 0
fi
for t in .gpu/bin/*_test; do
  name=$(basename "$t")
  TEST_TMPDIR=$(mktemp -d) timeout 300 "$t" >"$work/logs/$name.log" 2>&1
  echo "$name rc=$?" >>"$work/logs/tests.txt"
done
timeout 900 .gpu/bin/replay scenarios --backend real --report-dir "$work/replay" >"$work/logs/replay.txt" 2>&1
echo "replay rc=$?" >>"$work/logs/tests.txt"
timeout 600 .gpu/bin/replay --claims --backend real --report-dir "$work/claims" >"$work/logs/claims.txt" 2>&1
echo "claims rc=$?" >>"$work/logs/tests.txt"
# Golden checkpoints made on this GPU: C++ (LibTorch) and Python.
mkdir -p "$work/golden"
python3 tools/golden/make_python_golden.py "$work/golden" >"$work/logs/golden.txt" 2>&1
for fmt in torchscript pickle; do
  printf 'format: %s\nsize: 16KiB\nlayers: 2\nplacement: cuda:0\nprovenance: device\n' "$fmt" >"$work/spec.yaml"
  paths=$(.gpu/bin/fixtures generate "$work/spec.yaml" --out "$work/gen" 2>>"$work/logs/golden.txt")
  cp "$(echo "$paths" | sed -n 1p)" "$work/golden/cpp_${fmt}_cuda0.pt"
  cp "$(echo "$paths" | sed -n 2p)" "$work/golden/cpp_${fmt}_cuda0.manifest.json"
done
for f in "$work"/golden/*.pt; do .gpu/bin/fixtures inspect "$f" >>"$work/logs/golden.txt" 2>&1; done
timeout 300 .gpu/bin/worker_benchmark >"$work/logs/worker_benchmark.txt" 2>&1
BENCH_FIXTURE_BYTES=$((1 << 30)) timeout 600 .gpu/bin/recorder_benchmark >"$work/logs/recorder_benchmark.txt" 2>&1
tar -C "$work" -czf "$out/gpu.tgz" logs replay claims golden
cat "$work/logs/tests.txt"
tail -n 3 "$work/logs/replay.txt" "$work/logs/claims.txt"
