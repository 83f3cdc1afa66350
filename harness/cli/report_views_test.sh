#!/usr/bin/env bash
# The report views end to end: `replay merge` and `replay diff` on the
# committed runs (harness/report/testdata), `replay --baseline` and
# `--repeat` on a real replay, bad reports, and each page (one run, merged
# runs, a diff) opened in headless Chromium: its DOM after the page's own
# script ran, and a screenshot kept in the test's outputs for people.
set -euo pipefail
# set -e ends the script silently; say where.
trap 'echo "FAILED: line $LINENO: $BASH_COMMAND" >&2' ERR
cli=$PWD/harness/cli/replay
data=harness/report/testdata  # relative: the pages show where each run was read from
dir=$TEST_TMPDIR
shots=${TEST_UNDECLARED_OUTPUTS_DIR:-$dir}
fail() { echo "FAIL: $*"; exit 1; }

# --- merge: one column per run, fidelity where virtual meets real -------
$cli merge "$data/cpu_virtual.report.json" "$data/cuda_leg.report.json" "$data/h100_2026-11-22.report.json" \
  --report-dir "$dir/merged" >"$dir/merge.txt"
grep -qE "^merge: 3 runs, [0-9]+ cells, [0-9]+ differ between runs, [1-9][0-9]* compare virtual with real devices" \
  "$dir/merge.txt" || fail "merge summary: $(cat "$dir/merge.txt")"
grep -q "^merge: note: runs differ in LibTorch" "$dir/merge.txt" || fail "no LibTorch note"
python3 - "$dir/merged/junit.xml" <<'EOF'
import sys, xml.etree.ElementTree as E
suites = E.parse(sys.argv[1]).getroot().findall("testsuite")
assert len(suites) == 3, len(suites)
assert suites[2].get("name").startswith("[3] H100 GPU runner"), suites[2].get("name")
EOF
# A merged report merges again, as its runs.
$cli merge "$dir/merged" "$data/cpu_virtual.report.json" --report-dir "$dir/merged4" | grep -q "^merge: 4 runs" ||
  fail "a merged report did not merge as its runs"

# --- diff: itself is unchanged; an injected regression fails ------------
$cli diff "$data/cpu_virtual.report.json" "$data/cpu_virtual.report.json" >"$dir/same.txt" || fail "a run regressed against itself"
grep -qE "^baseline: no regression: 0 newly failing, 0 fixed, 0 outcome changed, 0 measurement changed, 0 added, 0 removed, [0-9]+ unchanged" \
  "$dir/same.txt" || fail "self diff: $(cat "$dir/same.txt")"
python3 - "$data/cpu_virtual.report.json" "$dir/regressed.json" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
cases = {c["id"]: c for c in report["cases"]}
cases["c4_source_device_memory/load_then_to@single-gpu"]["ledger"]["host_to_device"]["bytes"] *= 2
failing = cases["missing_gpu/map_location@missing-gpu"]
failing["verdict"] = "FAIL"
failing["reasons"] = ["outcome: expected ok, got cuda-unavailable"]
cases["missing_gpu/cpu_then_to@missing-gpu"]["verdict"] = "FLAKY"
json.dump(report, open(sys.argv[2], "w"))
EOF
status=0
$cli diff "$data/cpu_virtual.report.json" "$dir/regressed.json" --report-dir "$dir/diff" >"$dir/diff.txt" || status=$?
[ "$status" -eq 1 ] || fail "an injected regression exited $status, not 1"
grep -qE "^baseline: REGRESSED: 2 newly failing, 0 fixed, 0 outcome changed, 1 measurement changed" "$dir/diff.txt" ||
  fail "diff summary: $(cat "$dir/diff.txt")"
grep -qF "host_to_device: 1048564 -> 2097128 (+1023.99 KiB)" "$dir/diff.txt" || fail "no bytes in: $(cat "$dir/diff.txt")"
grep -qF "| newly failing **(regression)** | \`missing_gpu/map_location@missing-gpu\`" "$dir/diff/diff.md" || fail "diff.md"
test -s "$dir/diff/diff.html"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['regressed'] and len(d['changes']) == 3" "$dir/diff/diff.json"
# Sized for a job summary: a small limit cuts it, saying how much is left.
status=0
$cli diff "$data/cpu_virtual.report.json" "$data/h100_2026-11-22.report.json" --report-dir "$dir/cut" \
  --markdown-limit 2000 >"$dir/cut.txt" || status=$?
[ "$status" -eq 1 ] || fail "the CPU run against the H100 run exited $status: $(cat "$dir/cut.txt")"
[ "$(wc -c <"$dir/cut/diff.md")" -le 2000 ] || fail "diff.md is over its limit"
grep -qE "^… and [0-9]+ more change\(s\), left out to stay under the size limit: see diff.json.$" "$dir/cut/diff.md" ||
  fail "no truncation line"

# --- bad reports: exit 2 and what is wrong, never a crash --------------
expect_unusable() {  # WHAT EXPECTED-MESSAGE COMMAND...
  local what=$1 message=$2 rc=0
  shift 2
  "$@" >"$dir/bad.out" 2>&1 || rc=$?
  [ "$rc" -eq 2 ] || fail "$what: exit $rc, not 2: $(cat "$dir/bad.out")"
  grep -qF -- "$message" "$dir/bad.out" || fail "$what: no '$message' in: $(cat "$dir/bad.out")"
}
head -c 5000 "$data/cpu_virtual.report.json" >"$dir/truncated.json"
expect_unusable "missing" "no/such/report.json" $cli diff no/such/report.json "$data/cpu_virtual.report.json"
expect_unusable "truncated" "truncated.json: not a complete JSON document" $cli merge "$dir/truncated.json"
echo '{"name": "not a report"}' >"$dir/package.json"
expect_unusable "no report" "no \"cases\" list" $cli diff "$dir/package.json" "$data/cpu_virtual.report.json"
expect_unusable "tolerance" "--bytes-tolerance 'lots' is not a byte count" $cli diff --bytes-tolerance lots \
  "$data/cpu_virtual.report.json" "$data/cpu_virtual.report.json"
expect_unusable "baseline before the replay" "no/such/report.json" $cli scenarios/saved_on_cpu.yaml --baseline no/such/report.json

# --- a real replay against a baseline, and --repeat --------------------
$cli scenarios/saved_on_cpu.yaml --report-dir "$dir/run1" --cache-dir "$dir/cache" --label first >/dev/null
$cli scenarios/saved_on_cpu.yaml --report-dir "$dir/run2" --cache-dir "$dir/cache" --repeat 2 \
  --baseline "$dir/run1" >"$dir/run2.txt" || fail "a replay regressed against its own baseline: $(cat "$dir/run2.txt")"
grep -q "^baseline: no regression" "$dir/run2.txt" || fail "no baseline line"
grep -qF "reports: $dir/run2/{report.json,junit.xml,summary.md,report.html}" "$dir/run2.txt" || fail "no reports line"
test -s "$dir/run2/diff.md"
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert r['run']['repeat'] == 2 and all(c.get('repetitions', 1) == 2 for c in r['cases'] if c['verdict'] != 'SKIPPED')" "$dir/run2/report.json"
test -s "$dir/run2/diff.html"
# The same replay against a baseline whose loads peaked lower: a regression.
python3 - "$dir/run1/report.json" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
for case in report["cases"]:
    if "ledger" in case:
        case["ledger"]["memory"]["cpu"]["peak_bytes"] = 0
json.dump(report, open(sys.argv[1], "w"))
EOF
status=0
$cli scenarios/saved_on_cpu.yaml --cache-dir "$dir/cache" --baseline "$dir/run1" >"$dir/run3.txt" || status=$?
[ "$status" -eq 1 ] || fail "more bytes than the baseline exited $status"
grep -q "^baseline: REGRESSED" "$dir/run3.txt" || fail "no REGRESSED line"

# --- the pages in Chromium ----------------------------------------------
chromium=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chromium" ] || fail "no chromium: tools/setup.sh installs Debian's package"
page() {  # NAME URL: the DOM after scripts ran, and a screenshot
  local flags=(--headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars
               --user-data-dir="$dir/chromium-$1" --virtual-time-budget=3000)
  timeout 120 "$chromium" "${flags[@]}" --dump-dom "$2" >"$dir/$1.dom" 2>"$dir/$1.err" ||
    fail "chromium could not open $2: $(tail -5 "$dir/$1.err")"
  timeout 120 "$chromium" "${flags[@]}" --window-size=1400,2200 --screenshot="$shots/$1.png" "$2" \
    >/dev/null 2>>"$dir/$1.err" || fail "no screenshot of $2"
}
page single "file://$dir/run2/report.html#strategy=map_location"
grep -qF '<span id="filter-count">showing 3 of 9 cells</span>' "$dir/single.dom" || fail "the filter did not apply"
grep -qF "<th>LibTorch</th>" "$dir/single.dom" || fail "no run facts"
grep -qF "<h1>Checkpoint loading replay</h1>" "$dir/single.dom" || fail "the run's page is not the run's"
# A malformed address leaves the filter empty, and the page works.
page malformed "file://$dir/run2/report.html#strategy=%E0%A4%A"
grep -qF "showing 9 of 9 cells" "$dir/malformed.dom" || fail "a malformed address broke the filter"
page merged "file://$dir/merged/report.html"
for text in "[3] H100 GPU runner (2026-11-22)" "<b>fidelity</b> (virtual vs real)" "runs differ in LibTorch" \
            "showing 139 of 139 cells"; do
  grep -qF "$text" "$dir/merged.dom" || fail "merged page lacks '$text'"
done
page diff "file://$dir/diff/diff.html#outcome=FAIL"
for text in "<b>REGRESSED</b>" "newly failing (regression)" "showing 1 of 139 cells"; do
  grep -qF "$text" "$dir/diff.dom" || fail "diff page lacks '$text'"
done
echo PASS
