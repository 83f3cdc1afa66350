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
while read -r check verdict; do
  tag=$([ "$verdict" = fails ] && echo "  FAILED  " || echo "       OK ")
  grep -q "^\[$tag\] Strategies/Conformance.$check" <<<"$out" || fail "$check did not report $verdict"
done <<'TABLE'
LoadsToCpuBitExactlyOrFailsClassified/broken_corrupting fails
BadFilesGiveClassifiedErrors/broken_unclassified fails
LeavesNoFilesBehind/broken_leaky fails
NameIsTheRegisteredOneAndUsableInScenarios/broken_corrupting passes
LoadsToCpuBitExactlyOrFailsClassified/broken_leaky passes
LeavesNoFilesBehind/broken_corrupting passes
TABLE
echo "conformance_fails_test: each broken strategy failed on its broken rule"
