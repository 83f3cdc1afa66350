#!/usr/bin/env python3
"""Replaces this machine's paths in a report.json with placeholders, so a
run can be committed as test data:

    harness/report/testdata/scrub_paths.py reports/report.json > harness/report/testdata/NAME.report.json

A Python interpreter anywhere (the skip reasons name it) becomes <python>,
a path under /tmp <tmp>, the repository's root <repo>, and $HOME <home>. Everything else, the measurements included, is kept as it is.
Standard library only.
"""
import json
import os
import re
import subprocess
import sys


def scrubber():
    root = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True).stdout.strip()
    rules = [
        (re.compile(r"/[^\s\"':]*/bin/python3(\.\d+)?"), "<python>"),
        (re.compile(r"/tmp/[^\s\"']*"), "<tmp>"),
    ]
    if root:
        rules.append((re.compile(re.escape(root)), "<repo>"))
    home = os.environ.get("HOME")
    if home and home != "/":
        rules.append((re.compile(re.escape(home)), "<home>"))

    def scrub(value):
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        if isinstance(value, str):
            for pattern, placeholder in rules:
                value = pattern.sub(placeholder, value)
        return value

    return scrub


def main(path):
    report = json.load(open(path))
    json.dump(scrubber()(report), sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
