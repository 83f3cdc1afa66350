#!/usr/bin/env bash
# The conformance suite fails each strategy of testdata/broken_strategies.cc
# on the rule it breaks, and passes the checks it keeps.
set -uo pipefail
bin=$1
out=$("$bin" 2>&1)
rc=$?
fail() { echo "conformance_fails_test: $*"; echo "$out" | grep -E "^\[  (FAILED|     OK) \]" ; exit 1; }
[ "$rc" -ne 0 ] || fail "the suite passed broken strategies"
for expected in \
    "LoadsToCpuBitExactlyOrFailsClassified/broken_corrupting" \
    "BadFilesGiveClassifiedErrors/broken_unclassified" \
    "LeavesNoFilesBehind/broken_leaky"; do
  grep -q "^\[  FAILED  \] Strategies/Conformance.$expected" <<<"$out" || fail "did not fail $expected"
done
for kept in \
    "NameIsTheRegisteredOneAndUsableInScenarios/broken_corrupting" \
    "LoadsToCpuBitExactlyOrFailsClassified/broken_leaky" \
    "LeavesNoFilesBehind/broken_corrupting"; do
  grep -q "^\[       OK \] Strategies/Conformance.$kept" <<<"$out" || fail "did not pass $kept"
done
echo "conformance_fails_test: each broken strategy failed on its broken rule"
