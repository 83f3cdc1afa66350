#!/usr/bin/env bash
# The test suite: install what is missing, then `bazel test //...` on both
# LibTorch legs. Ends with one summary line per leg and a total.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/tools/setup.sh" || exit 1
passed=0 failed=0 status=0
summary=()
# Dependencies point one way down the pipeline (docs/architecture.md).
if ! "$root/tools/dev/check_layering.sh" cpu; then
  status=1 failed=$((failed + 1))
  summary+=("layering: FAILED (tools/dev/check_layering.sh)")
fi
for leg in ${HARNESS_LEGS:-cpu cuda}; do
  echo "test: bazel test //... on the $leg leg"
  log=$(mktemp)
  "$root/tools/bazelw" "$leg" test //... 2>&1 | tee "$log" | grep -E "^//|Executed|ERROR|FAIL" || true
  rc=${PIPESTATUS[0]}
  p=$(grep -cE "^//.* PASSED" "$log"); f=$(grep -cE "^//.* (FAILED|NO STATUS|TIMEOUT)" "$log")
  [ "$rc" -eq 0 ] || { status=1; [ "$f" -gt 0 ] || f=1; }
  passed=$((passed + p)); failed=$((failed + f))
  summary+=("leg $leg: $p test targets passed, $f failed (bazel exit $rc)")
done
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
exit $status
