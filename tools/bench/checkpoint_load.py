#!/usr/bin/env python3
"""Loading a checkpoint to the CPU, every loader side by side (a benchmark,
not a test): the page-cached read of the file (the limit), LibTorch's own
loader, torch.load, torch.load(mmap=True), safetensors' load_file and the
zero-copy reference, each ending with every byte resident, each checked
bit-exact against the fixture's manifest after its clock stops.

    tools/bench/checkpoint_load.sh            # builds, then runs this
    checkpoint_load.py --bin BAZEL_BIN/tools/bench/load_benchmark \
        --python .venv/bin/python3 [--bytes 1073741824] [--rounds 5]

Every loader runs once per round, in a fresh process, rounds interleaved;
the table shows medians, and each loader's speed as a ratio to the read
limit measured in the same run on the same file (1.0 = as fast as reading
the file into memory; above 1 = faster, because nothing is copied).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# (row label, file format, how to run it)
LOADERS = [
    ("read() of the file: the limit", "pickle", ("cpp", "read")),
    ("LibTorch's loader (pickle_load's reader)", "pickle", ("cpp", "libtorch")),
    ("torch.load(map_location='cpu')", "pickle", ("py", "torch_load")),
    ("torch.load(mmap=True)", "pickle", ("py", "torch_load_mmap")),
    ("zero_copy reference (pickle)", "pickle", ("cpp", "zero_copy")),
    ("read() of the file: the limit", "safetensors", ("cpp", "read")),
    ("safetensors.torch.load_file", "safetensors", ("py", "safetensors")),
    ("zero_copy reference (safetensors)", "safetensors", ("cpp", "zero_copy")),
]


def run_json(command):
    out = subprocess.run(command, check=True, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONWARNINGS="ignore")).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", required=True, help="the load_benchmark binary")
    parser.add_argument("--python", default=sys.executable, help="Python with torch and safetensors")
    parser.add_argument("--bytes", type=int, default=1 << 30)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cache-dir", default=os.path.expanduser("~/.cache/ckpt-harness/bench"))
    parser.add_argument("--json", help="also write the medians here")
    args = parser.parse_args()

    files = {}
    for fmt in ("pickle", "safetensors"):
        out = subprocess.run([args.bin, "generate", "--format", fmt, "--bytes", str(args.bytes), "--out",
                              args.cache_dir], check=True, capture_output=True, text=True).stdout.split()
        files[fmt] = {"checkpoint": out[0], "manifest": out[1]}
        with open(out[0], "rb") as f:  # into the page cache
            while f.read(1 << 24):
                pass

    def command(fmt, how):
        kind, loader = how
        paths = ["--checkpoint", files[fmt]["checkpoint"], "--manifest", files[fmt]["manifest"]]
        if kind == "cpp":
            return [args.bin, "load", "--loader", loader, "--format", fmt] + paths
        return [args.python, os.path.join(HERE, "python_load.py"), "--loader", loader] + paths

    seconds = {i: [] for i in range(len(LOADERS))}
    exact = {}
    for _ in range(args.rounds):
        for i, (_, fmt, how) in enumerate(LOADERS):
            r = run_json(command(fmt, how))
            seconds[i].append(r["seconds"])
            exact[i] = exact.get(i, True) and r["bit_exact"] is not False
    median = {i: statistics.median(s) for i, s in seconds.items()}
    limit = {fmt: median[i] for i, (_, fmt, how) in enumerate(LOADERS) if how == ("cpp", "read")}
    libtorch = next(median[i] for i, (_, _, how) in enumerate(LOADERS) if how == ("cpp", "libtorch"))

    size = args.bytes / (1 << 30)
    print(f"| loader ({size:g} GiB to the CPU, every byte resident) | file | median | GB/s | speed vs read limit | bit-exact |")
    print("|---|---|---|---|---|---|")
    rows = []
    for i, (label, fmt, how) in enumerate(LOADERS):
        ratio = limit[fmt] / median[i]
        rows.append({"loader": label, "format": fmt, "seconds": median[i], "ratio_to_limit": ratio})
        print(f"| {label} | {fmt} | {median[i] * 1000:.1f} ms | {args.bytes / median[i] / 1e9:.2f} | "
              f"{ratio:.2f}x | {'yes' if exact[i] else 'NO'} |")
    ref = median[LOADERS.index(("zero_copy reference (pickle)", "pickle", ("cpp", "zero_copy")))]
    met = limit["pickle"] / ref >= 0.8 and libtorch / ref >= 3
    print(f"\nzero_copy (pickle): {limit['pickle'] / ref:.2f}x the read limit, {libtorch / ref:.1f}x LibTorch's "
          f"loader; goal (>= 0.8x and >= 3x): {'met' if met else 'NOT met'}. Medians of {args.rounds} rounds.")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"bytes": args.bytes, "rounds": args.rounds, "rows": rows}, f, indent=1)
    return 0 if all(exact.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
