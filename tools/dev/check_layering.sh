#!/usr/bin/env bash
# Checks that dependencies point one way down the pipeline (see
# docs/architecture.md): no library of a stage depends on a library of a
# later stage, and the parts that promise to be LibTorch-free are.
#
#   tools/dev/check_layering.sh [cpu|cuda]     # exit 1 on a violation
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
leg=${1:-cpu}
stages=(
  "//harness/base/..."
  "//fixtures/..."
  "//harness/env/..."
  "//harness/strategy/..."
  "//harness/recorder/..."
  "//harness/verdict/..."
  "//harness/scenario/..."
  "//harness/worker/... + //harness/runner/..."
  "//harness/report/..."
  "//harness/cli/..."
)
# Libraries and binaries a stage ships: tests and test helpers may reach
# further (a fixture test places tensors on virtual devices).
shipped() { echo "attr(testonly, 0, kind('cc_library|cc_binary', $1))"; }
# A query that fails is a failed check, never an empty (passing) answer.
query() {
  local out
  if ! out=$("$root/tools/bazelw" "$leg" query --noshow_progress "$1" 2>"$errors"); then
    echo "layering: bazel query failed: $1" >&2
    tail -5 "$errors" >&2
    exit 2
  fi
  printf '%s' "$out"
}
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT

status=0
for ((i = 0; i < ${#stages[@]}; i++)); do
  later=""
  for ((j = i + 1; j < ${#stages[@]}; j++)); do later+="${later:+ + }${stages[j]}"; done
  [ -n "$later" ] || continue
  found=$(query "deps($(shipped "${stages[i]}")) intersect $(shipped "$later")") || exit 2
  if [ -n "$found" ]; then
    echo "layering: ${stages[i]} depends on later stages:"
    sed 's/^/  /' <<<"$found"
    for target in $found; do query "somepath($(shipped "${stages[i]}"), $target)" | sed 's/^/    /'; done
    status=1
  fi
done
# Described without LibTorch: the parser, specs, ledger, verdicts and reports read back.
for light in //harness/scenario:scenario_test //fixtures:spec //fixtures:integrity //harness/env:environment_spec \
             //harness/recorder:ledger //harness/verdict:verdict //harness/report:results; do
  path=$(query "somepath($light, @libtorch//:torch)") || exit 2
  if [ -n "$path" ]; then
    echo "layering: $light links LibTorch:"
    sed 's/^/  /' <<<"$path"
    status=1
  fi
done
[ "$status" -eq 0 ] && echo "layering: ${#stages[@]} stages, dependencies point one way; light libraries free of LibTorch"
exit $status
