"""Per-cell cost of Python cells through the fork server, as fresh
processes, and of C++ cells, measured side by side in one run.

    tools/bench/python_cells.sh [--rounds 3] [--json out.json]

Each round replays the same scenario files twice, with
--python-fork-server=true and =false, one after the other; a cell's cost is
its worker's wall time from report.json (the fixture is cached after the
first round). Prints the medians and the two ratios the fork server is
judged by: Python (fork server) / C++, and Python (fresh process) / Python
(fork server).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

FILES = [
    "scenarios/claims/c2_extra_gpu_transfers.yaml",
    "scenarios/claims/c4_source_device_memory.yaml",
    "scenarios/mismatched_index.yaml",
    "scenarios/pipeline_split.yaml",
    "scenarios/python_jit_load.yaml",
    "scenarios/safetensors_gpu.yaml",
]


def replay(binary, backend, fork_server, report_dir, cache_dir):
    subprocess.run(
        [binary, *FILES, "--backend", backend, "--python-fork-server", "true" if fork_server else "false",
         "--report-dir", report_dir, "--cache-dir", cache_dir],
        check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(report_dir, "report.json")) as f:
        cases = json.load(f)["cases"]
    ran = [c for c in cases if c["verdict"] not in ("SKIPPED", "skipped")]
    python = [c["wall_seconds"] for c in ran if c["strategy"].startswith("py")]
    cpp = [c["wall_seconds"] for c in ran if not c["strategy"].startswith("py")]
    return python, cpp


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="the replay binary")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backend", default="virtual", help="replay's --backend (virtual: GPU cells run anywhere)")
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args()
    forked, fresh, cpp = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        cache = os.path.join(tmp, "cache")
        replay(args.bin, args.backend, True, os.path.join(tmp, "warm"), cache)  # fixtures into the cache
        for round_ in range(args.rounds):
            for fork_server in (True, False):
                py, cc = replay(args.bin, args.backend, fork_server, os.path.join(tmp, f"r{round_}{fork_server}"), cache)
                (forked if fork_server else fresh).extend(py)
                cpp.extend(cc)
    m = {"python_fork_server_s": statistics.median(forked), "python_fresh_process_s": statistics.median(fresh),
         "cpp_s": statistics.median(cpp), "python_cells": len(forked) // args.rounds,
         "cpp_cells": len(cpp) // (2 * args.rounds), "rounds": args.rounds}
    m["fork_server_over_cpp"] = m["python_fork_server_s"] / m["cpp_s"]
    m["fresh_over_fork_server"] = m["python_fresh_process_s"] / m["python_fork_server_s"]
    print(f"{'cell':34} {'median per cell':>16}")
    print(f"{'C++ (in a worker)':34} {m['cpp_s'] * 1000:13.1f} ms")
    print(f"{'Python, fork server':34} {m['python_fork_server_s'] * 1000:13.1f} ms")
    print(f"{'Python, fresh process':34} {m['python_fresh_process_s'] * 1000:13.1f} ms")
    print(f"Python (fork server) / C++:                 {m['fork_server_over_cpp']:.1f}x (target <= 10x)")
    print(f"Python (fresh) / Python (fork server):      {m['fresh_over_fork_server']:.1f}x (target >= 20x)")
    print(f"{m['python_cells']} Python and {m['cpp_cells']} C++ cells per replay, {args.rounds} round(s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(m, f, indent=2)
    return 0 if m["fork_server_over_cpp"] <= 10 and m["fresh_over_fork_server"] >= 20 else 1


if __name__ == "__main__":
    sys.exit(main())
