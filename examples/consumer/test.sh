#!/usr/bin/env bash
# Builds and tests this example workspace on one LibTorch leg, the way a
# user's repository would: examples/consumer/test.sh cpu|cuda [BAZEL ARGS...]
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
exec bazel --output_base="$base" test "--config=torch-$leg" "${extra[@]}" //... "$@"
