#!/usr/bin/env python3
"""Turns a summary.md written before report.json carried run facts into a
report.json (format 2), so that old evidence can be merged and diffed.

    harness/report/testdata/import_summary_md.py \
        docs/evidence/2026-11-22-h100/replay_summary.md \
        docs/evidence/2026-11-22-h100/host.txt \
        > harness/report/testdata/h100_2026-11-22.report.json

What a summary.md does not hold stays out: byte counts are as rounded there
("1024K", "1.0M"), peaks and placements are not known (the ledger says
"memory.*" is unmeasured, so no peak is compared), and the run's note says
so. Standard library only.
"""
import datetime
import json
import re
import sys

UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
DIRECTIONS = {"h2d": "host_to_device", "d2h": "device_to_host", "d2d": "device_to_device"}


def parse_bytes(text):
    m = re.fullmatch(r"([0-9.]+)([KMG]?)", text)
    if not m:
        raise ValueError(f"not a byte count: {text!r}")
    return int(round(float(m.group(1)) * UNITS[m.group(2)]))


def parse_cell(text):
    """'PASS ok h2d=1024K d2h=0' -> (verdict, class, {direction: bytes} or None)."""
    words = text.split()
    verdict = words[0]
    if verdict == "SKIPPED":
        return verdict, None, None
    error_class = words[1]
    if "(no ledger)" in text or error_class != "ok":
        return verdict, error_class, None
    moved = {}
    for word in words[2:]:
        key, _, value = word.partition("=")
        moved[DIRECTIONS[key]] = parse_bytes(value)
    return verdict, error_class, moved


def ledger(moved):
    copies = {d: {"bytes": moved.get(d, 0), "count": 1 if moved.get(d, 0) else 0}
              for d in ("host_to_device", "device_to_host", "device_to_device")}
    copies["host_to_host"] = {"bytes": 0, "count": 0}
    return dict(copies, by_op={}, memory={}, device_pairs={}, sources=["summary.md"], disagreements=[],
                unmeasured=["by_op", "memory.cpu", "memory.cuda:0", "memory.cuda:1"], notes={},
                wall_seconds=0, checkpoint_bytes=0)


def main(summary_path, host_path):
    host = open(host_path).read().splitlines()
    date, gpu_line, torch_line = host[0], host[2], host[3]
    date = datetime.datetime.strptime(date, "%a %b %d %I:%M:%S %p UTC %Y").strftime("%Y-%m-%dT%H:%M:%SZ")
    gpu_model, driver = [x.strip() for x in gpu_line.split(",")[:2]]
    torch_version = torch_line.split()[1]
    cases, file = [], None
    environments = []
    for line in open(summary_path):
        line = line.rstrip("\n")
        if line.startswith("## "):
            file = line[3:]
            environments = []
        elif line.startswith("| strategy |"):
            environments = [c.strip() for c in line.strip("|").split("|")[1:]]
        elif line.startswith("|") and not line.startswith("|---") and environments:
            cells = [c.strip() for c in line.strip("|").split("|")]
            strategy = cells[0]
            stem = file.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            for environment, text in zip(environments, cells[1:]):
                verdict, error_class, moved = parse_cell(text)
                case = {"id": f"{stem}/{strategy}@{environment}", "file": file, "strategy": strategy,
                        "environment": environment, "verdict": verdict, "reasons": [], "wall_seconds": 0}
                if verdict == "SKIPPED":
                    case["skip_reason"] = "skipped on the H100 host (summary.md gives no reason)"
                    case["reasons"] = [case["skip_reason"]]
                else:
                    case["outcome"] = {"class": error_class, "message": ""}
                    case["placement"] = {}
                    case["checkpoint_bytes"] = 0
                    if moved is None:
                        case["ledger_unavailable"] = "not in summary.md"
                    else:
                        case["ledger"] = ledger(moved)
                cases.append(case)
    run = {"label": f"H100 GPU runner ({date[:10]})", "harness_version": "", "commit": "", "torch_version": torch_version.split("+")[0],
           "torch_source": "pypi-wheel " + torch_version, "torch_has_cuda": True, "backend": "real",
           "physical_gpus": 1, "gpu_models": [gpu_model], "driver_version": driver, "cuda_toolkit": "",
           "hostname": "", "date": date, "command_line": "replay scenarios --backend real", "repeat": 1,
           "note": "imported from " + summary_path + " by harness/report/testdata/import_summary_md.py: "
                   "bytes as rounded there, no peaks, no placements"}
    json.dump({"format": 2, "run": run, "cases": cases}, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
