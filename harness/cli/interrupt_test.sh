#!/usr/bin/env bash
# A replay told to stop (SIGTERM, SIGINT) while a loader hangs: it kills the
# loader's process group at once, writes the reports of the cases that
# finished (parseable, and saying it was interrupted), and exits 128+signal.
set -euo pipefail
# set -e ends the script silently; say where.
trap 'echo "FAILED: line $LINENO: $BASH_COMMAND" >&2' ERR
cli=$PWD/harness/cli/replay
dir=$TEST_TMPDIR
fail() { echo "FAIL: $*"; exit 1; }
# A unique sleep, so that the test can tell whether the loader outlived it.
nap=$((100 + RANDOM % 800)).$$
cat >"$dir/hang.yaml" <<EOF
description: a fast built-in load, then a loader that hangs
fixture: {format: pickle, size: 16KiB, placement: cpu}
target: cpu
environments: [missing-gpu]
strategies: [map_location, hangs]
commands:
  hangs: "touch $dir/started; sleep $nap"
timeout: 600
expect:
  outcome:
    map_location: [ok]
    hangs: [ok]
EOF
for signal in TERM INT; do
  rm -f "$dir/started"
  out=$dir/$signal
  "$cli" "$dir/hang.yaml" --jobs 1 --report-dir "$out" --cache-dir "$dir/cache" >"$dir/$signal.txt" 2>&1 &
  pid=$!
  for _ in $(seq 600); do [ -e "$dir/started" ] && break; sleep 0.1; done
  [ -e "$dir/started" ] || fail "the hanging loader never started: $(cat "$dir/$signal.txt")"
  start=$SECONDS
  kill -"$signal" "$pid"
  status=0
  wait "$pid" || status=$?
  expected=$((128 + $(kill -l "$signal")))
  [ "$status" -eq "$expected" ] || fail "SIG$signal: exit $status, not $expected: $(cat "$dir/$signal.txt")"
  [ $((SECONDS - start)) -lt 30 ] || fail "SIG$signal: took $((SECONDS - start)) s to stop"
  if pgrep -f "sleep $nap" >/dev/null; then fail "SIG$signal: the loader outlived the replay"; fi
  grep -qF "replay: interrupted by SIG$signal: 1 of 2 cases finished" "$dir/$signal.txt" || fail "no interruption line"
  python3 - "$out/report.json" "$signal" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
assert [c["id"] for c in report["cases"]] == ["hang/map_location@missing-gpu"], report["cases"]
assert report["cases"][0]["verdict"] == "PASS"
assert report["run"]["note"].startswith("interrupted by SIG" + sys.argv[2]), report["run"]
EOF
  python3 -c "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])" "$out/junit.xml"
done
echo PASS
