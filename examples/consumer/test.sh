#!/usr/bin/env bash
# Builds and tests this example workspace on one LibTorch leg, the way a
# user's repository would, then checks that the generated tests carry the
# hardware tags and remote-execution properties CI routes them by:
#
#   examples/consumer/test.sh cpu|cuda [BAZEL ARGS...]
#
# (tools/test.sh runs it on both legs).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
harness=$(cd "$here/../.." && pwd)
leg=${1:?usage: examples/consumer/test.sh cpu|cuda [BAZEL ARGS...]}
shift
cache=${HARNESS_BAZEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ckpt-harness}
base="$cache/$(printf %s "$here" | md5sum | cut -c1-10)-consumer-$leg"
extra=("--test_env=HARNESS_PYTHON=$harness/.venv/bin/python3")
[ "$leg" = cuda ] && extra+=("--repo_env=TORCH_PYTHON=$harness/.venv/bin/python3")
cd "$here"
bazel --output_base="$base" test "--config=torch-$leg" "${extra[@]}" //... "$@"

# The tests a `--test_tag_filters=TAG` run would pick, as sorted names.
tagged() {
  bazel --output_base="$base" query "--config=torch-$leg" --noshow_progress \
    "attr(tags, '[\\[ ]$1[,\\]]', tests(//:loader_scenarios))" 2>/dev/null | sed 's|//:loader_scenarios_||' | sort | xargs
}
expect() {
  [ "$2" = "$3" ] || { echo "consumer: $1: got '$2', expected '$3'" >&2; exit 1; }
}
expect "tests tagged gpu" "$(tagged gpu)" "gpu gpu_python multi_gpu multi_gpu_python"
expect "tests tagged multi-gpu" "$(tagged multi-gpu)" "multi_gpu multi_gpu_python"
expect "tests tagged driver-fault" "$(tagged driver-fault)" "driver_fault driver_fault_python"
expect "tests tagged python" "$(tagged python)" "cpu_python driver_fault_python gpu_python multi_gpu_python"
pool=$(bazel --output_base="$base" query "--config=torch-$leg" --noshow_progress --output=build \
  //:loader_scenarios_multi_gpu_python 2>/dev/null | grep exec_properties || true)
expect "exec_properties of the multi_gpu_python part" "$(echo $pool)" 'exec_properties = {"Pool": "multi-gpu"},'
echo "consumer: hardware tags and exec_properties as documented"
