#!/usr/bin/env bash
# Builds load_benchmark optimised on a leg (HARNESS_LEG=cpu|cuda, default
# cpu) and runs tools/bench/checkpoint_load.py with .venv's Python.
# Arguments go to checkpoint_load.py (--bytes, --rounds, --json).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
leg=${HARNESS_LEG:-cpu}
"$root/tools/bazelw" "$leg" build -c opt //tools/bench:load_benchmark >/dev/null 2>&1 ||
  { echo "build failed: tools/bazelw $leg build -c opt //tools/bench:load_benchmark" >&2; exit 1; }
bin=$("$root/tools/bazelw" "$leg" info -c opt bazel-bin 2>/dev/null)/tools/bench/load_benchmark
exec "$root/.venv/bin/python3" "$root/tools/bench/checkpoint_load.py" --bin "$bin" --python "$root/.venv/bin/python3" "$@"
