#!/usr/bin/env python3
"""External strategy: huggingface's safetensors (PyPI `safetensors`).

    safetensors_load.py --api load_file --checkpoint model.safetensors --target cuda:0

APIs:
  load_file  safetensors.torch.load_file(path, device=target)
  safe_open  safe_open(path, framework="pt", device=target), then
             get_tensor() for every key, as lazy loaders do
Prints one JSON line (harness_loader.py, the protocol of
harness/strategy/external.h).
"""
import argparse
import json
import sys

from harness_loader import run_load


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True, choices=["load_file", "safe_open"])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--format", default="safetensors")
    parser.add_argument("--target", required=True)
    args = parser.parse_args()
    try:
        import safetensors
        import safetensors.torch
    except ImportError:
        print(json.dumps({"skip": "Python safetensors is not installed for " + sys.executable}))
        return 0

    def measured():
        if args.format != "safetensors":
            raise TypeError("not a safetensors file: the fixture's format is " + args.format)
        if args.api == "load_file":
            return safetensors.torch.load_file(args.checkpoint, device=args.target)
        with safetensors.safe_open(args.checkpoint, framework="pt", device=args.target) as f:
            return {key: f.get_tensor(key) for key in f.keys()}

    return run_load(measured, args.target)


if __name__ == "__main__":
    sys.exit(main())
