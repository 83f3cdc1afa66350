#!/usr/bin/env bash
# Builds the replay on a leg (HARNESS_LEG=cpu|cuda, default cpu) and runs
# tools/bench/python_cells.py: Python cells through the fork server against
# fresh processes and against C++ cells, side by side. Arguments go to
# python_cells.py (--rounds, --json). Exit 1 when a target is missed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
leg=${HARNESS_LEG:-cpu}
"$root/tools/bazelw" "$leg" build //harness/cli:replay >/dev/null 2>&1 ||
  { echo "build failed: tools/bazelw $leg build //harness/cli:replay" >&2; exit 1; }
bin=$("$root/tools/bazelw" "$leg" info bazel-bin 2>/dev/null)/harness/cli/replay
cd "$root"
export HARNESS_PYTHON=${HARNESS_PYTHON:-$root/.venv/bin/python3}
exec "$HARNESS_PYTHON" "$root/tools/bench/python_cells.py" --bin "$bin" "$@"
