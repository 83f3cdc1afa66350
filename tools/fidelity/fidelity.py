"""Fidelity of virtual GPUs: every cell a real GPU measured
(docs/evidence/2026-11-22-h100/replay_summary.md, an H100 with LibTorch
2.11) against the same cell replayed on virtual devices (a report.json of
`replay --backend virtual`).

    fidelity.py --evidence replay_summary.md --report report.json \
        [--known known_disagreements.txt] [--markdown fidelity.md]

A cell agrees when the verdict (PASS, XFAIL, ...) and the outcome class are
the same and, where the evidence shows bytes moved host-to-device and
device-to-host, the virtual bytes round to what it shows (the evidence
rounds: "1024K" is 1023.5 to 1024.5 KiB, "1.0M" 0.95 to 1.05 MiB, "0" is
exactly 0). Exit 1 when a cell disagrees without a line in --known naming
it and its cause ("<file> <strategy> <environment>: cause"), or when a line
in --known names a cell that agrees (stale).
"""

import argparse
import json
import re
import sys

KIB, MIB = 1024, 1024 * 1024


def parse_evidence(path):
    """{(file, strategy, environment): cell text} for every cell that ran."""
    cells, file, envs = {}, None, []
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("## "):
            file, envs = line[3:].strip(), []
        elif line.startswith("| strategy |"):
            envs = [c.strip() for c in line.strip("|").split("|")[1:]]
        elif line.startswith("| ") and file and envs and not line.startswith("|---"):
            parts = [c.strip() for c in line.strip("|").split("|")]
            for env, text in zip(envs, parts[1:]):
                if text and text != "SKIPPED":
                    cells[(file, parts[0], env)] = text
    return cells


def byte_range(shown):
    if shown == "0":
        return 0, 0
    m = re.fullmatch(r"([0-9.]+)([KM])", shown)
    if not m:
        raise ValueError(f"unknown byte format {shown!r}")
    unit = KIB if m.group(2) == "K" else MIB
    half = 0.5 if m.group(2) == "K" else 0.05
    value = float(m.group(1))
    return (value - half) * unit, (value + half) * unit


def compare(text, case):
    """Reasons the virtual `case` disagrees with the evidence's `text`."""
    words = text.split()
    verdict, outcome = words[0], words[1]
    reasons = []
    if case is None:
        return ["no such cell in the virtual replay (the scenario changed?)"]
    if case["verdict"] == "SKIPPED":
        return ["skipped on virtual devices: " + "; ".join(case.get("reasons", []))]
    got_class = case["outcome"]["class"]
    if case["verdict"] != verdict:
        reasons.append(f"verdict {case['verdict']}, real {verdict}")
    if got_class != outcome:
        reasons.append(f"outcome {got_class}, real {outcome}")
    ledger = case.get("ledger") or {}
    for field, key in (("h2d", "host_to_device"), ("d2h", "device_to_host")):
        m = re.search(field + r"=(\S+)", text)
        if not m:
            continue
        low, high = byte_range(m.group(1))
        got = (ledger.get(key) or {}).get("bytes")
        if got is None:
            reasons.append(f"{field}: no ledger, real {m.group(1)}")
        elif not low <= got <= high:
            reasons.append(f"{field}={got} B, real {m.group(1)}")
    return reasons


def virtual_text(case):
    if case is None:
        return "(absent)"
    if case["verdict"] == "SKIPPED":
        return "SKIPPED"
    ledger = case.get("ledger") or {}
    text = f"{case['verdict']} {case['outcome']['class']}"
    if case["outcome"]["class"] == "ok" and ledger:
        text += f" h2d={ledger['host_to_device']['bytes']} d2h={ledger['device_to_host']['bytes']}"
    return text


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--evidence", required=True)
    parser.add_argument("--report", required=True)
    parser.add_argument("--known", help="known disagreements: '<file> <strategy> <environment>: cause' per line")
    parser.add_argument("--markdown", help="write the side-by-side table here")
    args = parser.parse_args()
    evidence = parse_evidence(args.evidence)
    with open(args.report) as f:
        report = json.load(f)
    cases = {(c["file"], c["strategy"], c["environment"]): c for c in report["cases"]}
    known = {}
    if args.known:
        for line in open(args.known):
            line = line.strip()
            if line and not line.startswith("#"):
                cell, cause = line.split(":", 1)
                known[tuple(cell.split())] = cause.strip()
    rows, unexplained, stale = [], [], []
    for key in sorted(evidence):
        reasons = compare(evidence[key], cases.get(key))
        if reasons and key not in known:
            unexplained.append((key, reasons))
        if not reasons and key in known:
            stale.append(key)
        rows.append((key, evidence[key], virtual_text(cases.get(key)), reasons, known.get(key, "")))
    agree = sum(1 for r in rows if not r[3])
    run = report.get("run", {})
    lines = [
        f"{agree} of {len(rows)} cells measured on the H100 agree on virtual devices "
        f"(LibTorch {run.get('torch_version', '?')}, backend {run.get('backend', '?')}); "
        f"{len(rows) - agree} disagree (each with its cause below).",
        "",
        "| file | strategy | environment | H100 (2026-11-22) | virtual | agrees |",
        "|---|---|---|---|---|---|",
    ]
    for (file, strategy, env), real, virtual, reasons, cause in rows:
        verdict = "yes" if not reasons else "no: " + "; ".join(reasons) + (f" (cause: {cause})" if cause else "")
        lines.append(f"| {file.replace('scenarios/', '')} | {strategy} | {env} | {real} | {virtual} | {verdict} |")
    table = "\n".join(lines) + "\n"
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)
    print(f"fidelity: {agree} of {len(rows)} cells agree")
    for key, reasons in unexplained:
        print(f"DISAGREES {' '.join(key)}: {'; '.join(reasons)}")
    for key in stale:
        print(f"STALE {' '.join(key)}: listed as a known disagreement but agrees")
    return 1 if unexplained or stale else 0


if __name__ == "__main__":
    sys.exit(main())
