#!/usr/bin/env python3
"""Compares two report.json files case by case, ignoring timings.

    tools/dev/compare_reports.py OLD/report.json NEW/report.json

Prints every field that differs (case id, JSON path, old, new) and exits 1
when any does. Wall times, worker/command output and CUPTI trace notes that
name process ids are ignored: they differ from run to run.
"""
import json
import re
import sys

IGNORED_KEYS = {"wall_seconds", "worker_output", "command_output"}
PIDS = re.compile(r"\b(process|pid) \d+")


def normalise(value, key=""):
    if isinstance(value, dict):
        return {k: normalise(v, k) for k, v in value.items() if k not in IGNORED_KEYS}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, str):
        return PIDS.sub(r"\1 N", value)
    return value


def diff(old, new, path, out):
    if isinstance(old, dict) and isinstance(new, dict):
        for k in sorted(set(old) | set(new)):
            diff(old.get(k, "<absent>"), new.get(k, "<absent>"), f"{path}.{k}", out)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new)):
            diff(a, b, f"{path}[{i}]", out)
    elif old != new:
        out.append((path, old, new))


def main():
    old_path, new_path = sys.argv[1:3]
    old = {c["id"]: normalise(c) for c in json.load(open(old_path))["cases"]}
    new = {c["id"]: normalise(c) for c in json.load(open(new_path))["cases"]}
    differences = []
    for case in sorted(set(old) | set(new)):
        if case not in old or case not in new:
            differences.append((case, "only in " + ("new" if case in new else "old"), ""))
            continue
        found = []
        diff(old[case], new[case], "", found)
        differences += [(case + found_path, a, b) for found_path, a, b in found]
    for where, a, b in differences:
        print(f"{where}\n    old: {a}\n    new: {b}")
    print(f"{len(old)} old cases, {len(new)} new cases, {len(differences)} differences")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
