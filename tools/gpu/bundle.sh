#!/usr/bin/env bash
# Collects the CUDA leg's binaries and the shared libraries a GPU runner may
# lack into .gpu/ (ignored by git), for a machine that has PyTorch but no
# Bazel: there, tools/gpu/run_gpu_leg.sh runs them against its own torch.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
# Statically linked project libraries: no Bazel _solib tree to carry.
tools/bazelw cuda build --dynamic_mode=off //... >/dev/null
bin=$(tools/bazelw cuda info --dynamic_mode=off bazel-bin 2>/dev/null)
rm -rf .gpu && mkdir -p .gpu/bin .gpu/lib
targets=(
  harness/cli/replay fixtures/fixtures
  harness/worker/worker_benchmark harness/recorder/recorder_benchmark
  tests/foundation/jit_module_roundtrip_test tests/foundation/build_info_test
  tests/foundation/cuda_unavailable_test fixtures/fixture_test fixtures/retag/retag_test
  fixtures/golden/golden_test harness/recorder/recorder_test harness/env/environment_test
  harness/worker/worker_test
  harness/recorder/ledger_test harness/recorder/cupti/activity_tracer_test
  harness/recorder/cupti/injection_test harness/recorder/cupti/injected_test
  harness/recorder/cupti/driver_tally_test harness/report/report_test
  harness/strategy/builtin_conformance_test harness/runner/runner_test
  harness/recorder/cupti/libharness_cupti_injection.so
  harness/env/virtual_runtime/libharness_virtual_cuda.so harness/env/virtual_runtime/virtual_runtime_test
  harness/strategy/python_fork_server_test
)
for t in "${targets[@]}"; do cp "$bin/$t" .gpu/bin/; done
# Found next to the replay (FindForkServerScript, FindVirtualCudaRuntime).
cp tools/strategies/fork_server.py .gpu/bin/
# The hardware parts of //tests:scenario_replay_test are one program; without
# --hardware_part it replays every cell of scenarios/.
cp "$bin/tests/scenario_replay_test_cpu" .gpu/bin/scenario_replay_test
# The driver stand-in, for the driver-fault cells (HARNESS_DRIVER_FAULT_LIB).
mkdir -p .gpu/stand_in && cp "$bin/harness/env/driver_fault/libcuda.so.1" .gpu/stand_in/
cp -L /lib/x86_64-linux-gnu/libyaml-cpp.so.0.7 /lib/x86_64-linux-gnu/libbenchmark.so.1debian .gpu/lib/
du -sh .gpu
