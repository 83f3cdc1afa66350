#!/usr/bin/env bash
# The conformance suite fails each strategy of testdata/broken_strategies.cc
# on the rule it breaks, and passes the checks it keeps.
set -uo pipefail
bin=$1
out=$("$bin" 2>&1)
rc=$?
fail() { echo "conformance_fails_test: $*"; grep -E "^\[  (FAILED|     OK) \]" <<<"$out"; exit 1; }
[ "$rc" -ne 0 ] || fail "the suite passed broken strategies"
# check/strategy, and the verdict the suite must give it.
# "fails where run": FAILED, or SKIPPED on a host without two (virtual) GPUs.
while read -r check verdict; do
  case "$verdict" in
    fails) tags="  FAILED  " ;;
    passes) tags="       OK " ;;
    fails-where-run) tags="  FAILED  |  SKIPPED " ;;
  esac
  grep -qE "^\[($tags)\] Strategies/Conformance.$check" <<<"$out" || fail "$check did not report $verdict"
done <<'TABLE'
LoadsToCpuBitExactlyOrFailsClassified/broken_corrupting fails
PlacesEveryTensorOnACudaTarget/broken_leaky fails-where-run
BadFilesGiveClassifiedErrors/broken_unclassified fails
LeavesNoFilesBehind/broken_leaky fails
NameIsTheRegisteredOneAndUsableInScenarios/broken_corrupting passes
LoadsToCpuBitExactlyOrFailsClassified/broken_leaky passes
LeavesNoFilesBehind/broken_corrupting passes
TABLE
echo "conformance_fails_test: each broken strategy failed on its broken rule"
