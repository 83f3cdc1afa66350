#!/usr/bin/env bash
# The harness's main job: install what is missing, build the replay CLI on the
# chosen leg (HARNESS_LEG=cpu|cuda, default cpu), replay scenarios/ and write
# reports to reports/. Arguments go to the replay CLI.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/tools/setup.sh"
leg=${HARNESS_LEG:-cpu}
printf 'run: %-46s' "build replay ($leg leg)"
log=$(mktemp)
"$root/tools/bazelw" "$leg" build //harness/cli:replay >"$log" 2>&1 || { echo FAILED; tail -30 "$log"; exit 1; }
echo ok
bin=$("$root/tools/bazelw" "$leg" info bazel-bin 2>/dev/null)/harness/cli/replay
cd "$root"
# External strategies (tools/strategies/torch_load.py) run the Python torch
# that setup.sh installed, unless the caller chose another.
export HARNESS_PYTHON=${HARNESS_PYTHON:-$root/.venv/bin/python3}
if [ $# -eq 0 ]; then set -- scenarios --report-dir reports; fi
exec "$bin" "$@"
