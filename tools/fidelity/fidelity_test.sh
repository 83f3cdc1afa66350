#!/usr/bin/env bash
# Virtual GPUs against a real one: the scenario files the H100 evidence
# covers, replayed here with --backend virtual, agree cell by cell with what
# the H100 measured (tools/fidelity/fidelity.py; docs/fidelity.md). Then the
# check shown failing: a replay whose bytes are off by one KiB disagrees.
set -euo pipefail
trap 'echo "FAILED: line $LINENO: $BASH_COMMAND" >&2' ERR
cli=harness/cli/replay
evidence=docs/evidence/2026-11-22-h100/replay_summary.md
dir=$TEST_TMPDIR
files=$(sed -n 's/^## \(scenarios\/.*\.yaml\)$/\1/p' "$evidence")
# The replay's own exit status is not the point here: fidelity.py judges.
$cli $files --backend virtual --report-dir "$dir/virtual" --cache-dir "$dir/cache" >"$dir/replay.txt" || true
python3 tools/fidelity/fidelity.py --evidence "$evidence" --report "$dir/virtual/report.json" \
  --known tools/fidelity/known_disagreements.txt | tee "$dir/fidelity.txt"
grep -qE "^fidelity: [0-9]+ of 91 cells agree" "$dir/fidelity.txt"  # every cell the H100 ran was read
# Mutated: every host-to-device count of map_location one KiB higher.
python3 - "$dir/virtual/report.json" "$dir/mutated.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for c in r["cases"]:
    if c["strategy"] == "map_location" and c.get("ledger") and c["ledger"]["host_to_device"]["bytes"] > 0:
        c["ledger"]["host_to_device"]["bytes"] += 1024
json.dump(r, open(sys.argv[2], "w"))
PY
if python3 tools/fidelity/fidelity.py --evidence "$evidence" --report "$dir/mutated.json" \
  --known tools/fidelity/known_disagreements.txt >"$dir/mutated.txt"; then
  echo "bytes off by one KiB still agreed"; exit 1
fi
grep -qE "^DISAGREES scenarios/.* map_location .*: h2d=[0-9]+ B, real " "$dir/mutated.txt"
echo PASS
