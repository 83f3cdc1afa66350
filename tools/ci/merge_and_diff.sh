#!/usr/bin/env bash
# The last job of a CI matrix: merges every runner's report into one, diffs
# it against the baseline (the main branch's last merged report) when there
# is one, and publishes the Markdown to the job summary.
#
#   tools/ci/merge_and_diff.sh REPLAY REPORTS BASELINE OUT
#
# REPLAY    the replay CLI (bazel-bin/harness/cli/replay, or .gpu/bin/replay)
# REPORTS   a folder with one sub-folder per runner, each holding report.json
# BASELINE  a merged report (folder or report.json); missing or empty = none
# OUT       where merged/ and diff/ go
#
# Writes OUT/summary.md (the diff, then the merged tables) and appends it
# to $GITHUB_STEP_SUMMARY when that is set. A runner's report that cannot be
# read is left out and named; the rest is merged and diffed. Exit status: 2
# when a report could not be used, else 1 when the diff regressed, else 0
# (failing cells are the runners' own exit statuses; this job judges the
# change).
set -uo pipefail
[ $# -eq 4 ] || { sed -n '2,19p' "$0" >&2; exit 2; }
replay=$1 reports=$2 baseline=$3 out=$4
runs=()
for report in "$reports"/*/report.json; do
  [ -f "$report" ] && runs+=("$(dirname "$report")")
done
[ ${#runs[@]} -gt 0 ] || { echo "merge_and_diff: no */report.json under $reports" >&2; exit 2; }
mkdir -p "$out"
merge_status=0
"$replay" merge --keep-going "${runs[@]}" --report-dir "$out/merged" >"$out/merge.txt" 2>&1 || merge_status=$?
cat "$out/merge.txt"
[ -f "$out/merged/report.json" ] || exit 2
status=0
{
  echo "# Checkpoint loading: ${#runs[@]} runner(s)"
  echo
  if [ "$merge_status" -ne 0 ]; then
    echo "**Left out, unreadable:**"
    grep -E "^replay: " "$out/merge.txt" | sed 's/^replay: /- /'
    echo
  fi
  if [ -e "$baseline" ] && [ -n "$(ls -A "$baseline" 2>/dev/null)" ]; then
    "$replay" diff "$baseline" "$out/merged" --report-dir "$out/diff" --markdown-limit 900000 >"$out/diff.txt" 2>&1 || status=$?
    cat "$out/diff.txt" >&2
    if [ "$status" -le 1 ]; then cat "$out/diff/diff.md"; else echo "Baseline unusable: $(grep -E '^replay: ' "$out/diff.txt" | tail -1)"; fi
  else
    echo "No baseline report (first run on main?): nothing to diff against."
  fi
  echo
  echo "<details><summary>All cells, per runner</summary>"
  echo
  # The merged tables can be long; the diff above is what a reviewer needs.
  head -c 60000 "$out/merged/summary.md"
  echo
  echo "</details>"
} >"$out/summary.md"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat "$out/summary.md" >>"$GITHUB_STEP_SUMMARY"; fi
[ "$merge_status" -eq 0 ] || status=2
echo "merge_and_diff: $out/summary.md ($(wc -c <"$out/summary.md") bytes), exit $status"
exit "$status"
