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
# Writes OUT/summary.md (the merged summary, then the diff) and appends it
# to $GITHUB_STEP_SUMMARY when that is set. Exit status: 1 when the diff
# regressed, 2 when a report cannot be used, else 0 (failing cells are the
# runners' own exit statuses; this job judges the change).
set -uo pipefail
[ $# -eq 4 ] || { sed -n '2,17p' "$0" >&2; exit 2; }
replay=$1 reports=$2 baseline=$3 out=$4
runs=()
for report in "$reports"/*/report.json; do
  [ -f "$report" ] && runs+=("$(dirname "$report")")
done
[ ${#runs[@]} -gt 0 ] || { echo "merge_and_diff: no */report.json under $reports" >&2; exit 2; }
mkdir -p "$out"
"$replay" merge "${runs[@]}" --report-dir "$out/merged" || exit 2
status=0
{
  echo "# Checkpoint loading: ${#runs[@]} runner(s)"
  echo
  if [ -e "$baseline" ] && [ -n "$(ls -A "$baseline" 2>/dev/null)" ]; then
    "$replay" diff "$baseline" "$out/merged" --report-dir "$out/diff" --markdown-limit 900000 >"$out/diff.txt" || status=$?
    cat "$out/diff.txt" >&2
    if [ "$status" -le 1 ]; then cat "$out/diff/diff.md"; else echo "Baseline unusable: $(tail -1 "$out/diff.txt")"; fi
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
echo "merge_and_diff: $out/summary.md ($(wc -c <"$out/summary.md") bytes), exit $status"
exit "$status"
