#!/usr/bin/env bash
# Runs the bundled replay CLI (tools/gpu/bundle.sh) on a GPU runner against
# that runner's own PyTorch: a CI matrix cell on hardware without Bazel.
# Arguments go to replay.
#
#   tools/gpu/replay_bundled.sh scenarios --label gpu-1x --report-dir reports/gpu-1x
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[ -x "$root/.gpu/bin/replay" ] || { echo "replay_bundled: no .gpu/bin/replay; run tools/gpu/bundle.sh first" >&2; exit 2; }
python=${HARNESS_PYTHON:-python3}
torch_lib=$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))') ||
  { echo "replay_bundled: $python has no torch" >&2; exit 2; }
export LD_LIBRARY_PATH="$torch_lib:$root/.gpu/lib:${LD_LIBRARY_PATH:-}"
export HARNESS_PYTHON=$python
export HARNESS_CUPTI_INJECTION="$root/.gpu/bin/libharness_cupti_injection.so"
export HARNESS_DRIVER_FAULT_LIB="$root/.gpu/stand_in/libcuda.so.1"
cd "$root"
exec .gpu/bin/replay --backend real "$@"
