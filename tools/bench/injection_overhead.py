#!/usr/bin/env python3
"""What CUPTI injection costs an external loader: runs one command line N
times with and without the injection environment (LD_PRELOAD,
CUDA_INJECTION64_PATH, HARNESS_CUPTI_OUTPUT_DIR), interleaved, and prints the
medians and their ratio. A benchmark, not a test.

  tools/bench/injection_overhead.py --library .gpu/bin/libharness_cupti_injection.so \
      -- .venv/bin/python3 tools/strategies/torch_load.py --weights-only false \
         --mode map_location --checkpoint CKPT --format pickle --target cpu
"""
import argparse
import os
import statistics
import subprocess
import tempfile
import time


def timed(command, env):
    start = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--library", required=True, help="libharness_cupti_injection.so")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- the command line")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    library = os.path.abspath(args.library)
    plain, injected = [], []
    with tempfile.TemporaryDirectory() as reports:
        env = dict(os.environ, LD_PRELOAD=library, CUDA_INJECTION64_PATH=library, HARNESS_CUPTI_OUTPUT_DIR=reports)
        for _ in range(args.runs):
            plain.append(timed(command, dict(os.environ)))
            injected.append(timed(command, env))
    a, b = statistics.median(plain), statistics.median(injected)
    print(f"without injection {a:.3f} s, with {b:.3f} s (medians of {args.runs}), ratio {b / a:.3f}")


if __name__ == "__main__":
    main()
