#!/usr/bin/env bash
# The test suite: install what is missing, check the layering, then on both
# LibTorch legs `bazel test //...` here and in examples/consumer (a user's
# repository that uses this one), then the CPU leg's unit tests under
# ASan+UBSan (HARNESS_SKIP_ASAN=1 skips them). Ends with one summary line per
# run and a total.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/tools/setup.sh" || exit 1
passed=0 failed=0 status=0
summary=()

# run_bazel_tests LABEL COMMAND...: runs a `bazel test` command, counts its
# test targets, and adds a summary line.
run_bazel_tests() {
  local label=$1 log rc p f
  shift
  echo "test: $label"
  log=$(mktemp)
  # grep's own status stays inside the braces, so PIPESTATUS[0] is bazel's.
  "$@" 2>&1 | tee "$log" | { grep -E "^//|Executed|ERROR|FAIL" || true; }
  rc=${PIPESTATUS[0]}
  p=$(grep -cE "^//.* PASSED" "$log"); f=$(grep -cE "^//.* (FAILED|NO STATUS|TIMEOUT)" "$log")
  [ "$rc" -eq 0 ] || { status=1; [ "$f" -gt 0 ] || f=1; }
  [ "$f" -eq 0 ] || status=1  # a failed target fails the run, whatever rc says
  passed=$((passed + p)); failed=$((failed + f))
  summary+=("$label: $p test targets passed, $f failed (bazel exit $rc)")
}

# Dependencies point one way down the pipeline (docs/architecture.md).
if ! "$root/tools/dev/check_layering.sh" cpu; then
  status=1 failed=$((failed + 1))
  summary+=("layering: FAILED (tools/dev/check_layering.sh)")
fi
# The CI workflow users copy matches GitHub's schema (examples/ci/).
if ! "$root/tools/ci/lint_workflow.sh"; then
  status=1 failed=$((failed + 1))
  summary+=("workflow lint: FAILED (tools/ci/lint_workflow.sh)")
fi
for leg in ${HARNESS_LEGS:-cpu cuda}; do
  run_bazel_tests "leg $leg" "$root/tools/bazelw" "$leg" test //...
  run_bazel_tests "consumer $leg" "$root/examples/consumer/test.sh" "$leg"
done
# The CPU leg's unit tests under ASan+UBSan (--config=asan in .bazelrc), in
# an output base of their own so that the legs' caches stay valid.
if [ -z "${HARNESS_SKIP_ASAN:-}" ]; then
  run_bazel_tests "asan cpu" env HARNESS_OUTPUT_VARIANT=asan "$root/tools/bazelw" cpu test --config=asan //harness/... //fixtures/... //tools/fuzz/... \
    //tests/badinput:bad_scenarios_test
fi
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
exit $status
