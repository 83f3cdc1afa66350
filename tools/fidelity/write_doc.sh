#!/usr/bin/env bash
# Writes docs/fidelity.md: the H100 evidence's cells against virtual GPUs,
# replayed on the CUDA leg (LibTorch 2.11, the H100's version) and on the CPU
# leg (LibTorch 1.13), side by side (tools/fidelity/fidelity.py).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
evidence=docs/evidence/2026-11-22-h100/replay_summary.md
files=$(sed -n 's/^## \(scenarios\/.*\.yaml\)$/\1/p' "$evidence")
tmp=$(mktemp -d)
export HARNESS_PYTHON=${HARNESS_PYTHON:-$root/.venv/bin/python3}
for leg in cuda cpu; do
  tools/bazelw "$leg" build //harness/cli:replay >/dev/null 2>&1
  bin=$(tools/bazelw "$leg" info bazel-bin 2>/dev/null)/harness/cli/replay
  "$bin" $files --backend virtual --report-dir "$tmp/$leg" >/dev/null || true
  python3 tools/fidelity/fidelity.py --evidence "$evidence" --report "$tmp/$leg/report.json" \
    --known tools/fidelity/known_disagreements.txt --markdown "$tmp/$leg.md"
done
{
  cat <<'MD'
# Fidelity: virtual GPUs against a real one

`docs/evidence/2026-11-22-h100/` holds a replay on an NVIDIA H100 (LibTorch
2.11.0, one device). Every cell that ran there is replayed here on virtual
devices (`--backend virtual`, no GPU, no driver) and compared by
`tools/fidelity/fidelity.py`; `//tools/fidelity:fidelity_test` does the same
on each leg of every `tools/test.sh` and fails on a disagreement that
`tools/fidelity/known_disagreements.txt` does not explain. This page is
written by `tools/fidelity/write_doc.sh`.

What is compared, and what cannot be yet:
- the verdict (PASS, XFAIL, ...) and the outcome class, exactly;
- bytes moved host-to-device and device-to-host, at the evidence's
  rounding: the run kept only its summary (`replay_summary.md`), which
  prints 1 MiB as "1.0M" and 1023.99 KiB as "1024K". Exact bytes,
  device-to-device bytes and device peaks need the real run's report.json,
  which `tools/gpu/run_gpu_leg.sh` writes: commit it with the next GPU run;
- placement and peaks only through the verdict: each cell's own
  expectations (placement, peak bounds such as `~1.0x`) held on both sides.

The H100 had one device, so dual-GPU cells and driver faults (its real
driver was loaded at start-up) were skipped there and are not compared.

## CUDA leg (LibTorch 2.11.0: the H100's version)

MD
  cat "$tmp/cuda.md"
  printf '\n## CPU leg (LibTorch 1.13.1, its own virtual backend for in-process cells)\n\n'
  cat "$tmp/cpu.md"
} >docs/fidelity.md
rm -rf "$tmp"
echo "wrote docs/fidelity.md"
