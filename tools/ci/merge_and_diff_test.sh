#!/usr/bin/env bash
# tools/ci/merge_and_diff.sh as the workflow's last job runs it: without a
# baseline, against an unchanged baseline, against one the change regressed,
# and with a report that cannot be used.
set -euo pipefail
script=$PWD/tools/ci/merge_and_diff.sh
replay=$PWD/harness/cli/replay
data=$PWD/harness/report/testdata
dir=$TEST_TMPDIR
fail() { echo "FAIL: $*"; exit 1; }
mkdir -p "$dir/reports/cpu" "$dir/reports/h100"
cp "$data/cpu_virtual.report.json" "$dir/reports/cpu/report.json"
cp "$data/h100_2026-11-22.report.json" "$dir/reports/h100/report.json"

# First run on main: no baseline, exit 0, the merged tables published.
export GITHUB_STEP_SUMMARY=$dir/step_summary.md
"$script" "$replay" "$dir/reports" "$dir/no-baseline" "$dir/first" >"$dir/first.txt" 2>&1 || fail "first run: $(cat "$dir/first.txt")"
grep -qF "No baseline report" "$GITHUB_STEP_SUMMARY" || fail "no 'No baseline' line"
grep -qF "# Checkpoint loading replay: 2 runs merged" "$GITHUB_STEP_SUMMARY" || fail "no merged summary"

# The next run against that merged report: nothing changed.
: >"$GITHUB_STEP_SUMMARY"
"$script" "$replay" "$dir/reports" "$dir/first/merged" "$dir/same" >"$dir/same.txt" 2>&1 || fail "unchanged: $(cat "$dir/same.txt")"
grep -qF "## Checkpoint loading: no regression" "$GITHUB_STEP_SUMMARY" || fail "no 'no regression'"

# A change that moves more bytes on the CPU runner: exit 1, named in the summary.
python3 - "$dir/reports/cpu/report.json" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
for case in report["cases"]:
    if case["id"] == "c4_source_device_memory/map_location@single-gpu":
        case["ledger"]["device_to_host"]["bytes"] += 1 << 20
json.dump(report, open(sys.argv[1], "w"))
EOF
: >"$GITHUB_STEP_SUMMARY"
status=0
"$script" "$replay" "$dir/reports" "$dir/first/merged" "$dir/regressed" >"$dir/regressed.txt" 2>&1 || status=$?
[ "$status" -eq 1 ] || fail "a regression exited $status: $(cat "$dir/regressed.txt")"
grep -qF "## Checkpoint loading: REGRESSED" "$GITHUB_STEP_SUMMARY" || fail "no REGRESSED"
grep -qF "c4_source_device_memory/map_location@single-gpu" "$GITHUB_STEP_SUMMARY" || fail "the cell is not named"
[ "$(wc -c <"$GITHUB_STEP_SUMMARY")" -lt 1048576 ] || fail "the job summary is over 1 MiB"

# A truncated runner report: left out and named, the rest merged and
# diffed, exit 2.
head -c 3000 "$data/cpu_virtual.report.json" >"$dir/reports/cpu/report.json"
: >"$GITHUB_STEP_SUMMARY"
status=0
"$script" "$replay" "$dir/reports" "$dir/first/merged" "$dir/broken" >"$dir/broken.txt" 2>&1 || status=$?
[ "$status" -eq 2 ] || fail "a truncated report exited $status"
grep -qF "not a complete JSON document" "$GITHUB_STEP_SUMMARY" || fail "the reason is not published: $(cat "$GITHUB_STEP_SUMMARY")"
grep -qF "1 runs, " "$dir/broken.txt" || fail "the readable run was not merged: $(cat "$dir/broken.txt")"
# The H100 run is still diffed; the CPU runner's cells are gone, which is
# lost coverage.
grep -qF "## Checkpoint loading: REGRESSED" "$GITHUB_STEP_SUMMARY" || fail "no diff of the rest"

# An unusable baseline says why in the summary.
echo "not json" >"$dir/bad-baseline.json"
cp "$data/cpu_virtual.report.json" "$dir/reports/cpu/report.json"
: >"$GITHUB_STEP_SUMMARY"
"$script" "$replay" "$dir/reports" "$dir/bad-baseline.json" "$dir/badbase" >/dev/null 2>&1 || true
grep -qF "Baseline unusable: replay: $dir/bad-baseline.json: not a complete JSON document" "$GITHUB_STEP_SUMMARY" ||
  fail "no reason for the unusable baseline: $(cat "$GITHUB_STEP_SUMMARY")"
echo PASS
