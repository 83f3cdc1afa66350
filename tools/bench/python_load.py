#!/usr/bin/env python3
"""One timed Python load of a checkpoint to the CPU, for checkpoint_load.py.

    python_load.py --loader torch_load|torch_load_mmap|safetensors \
        --checkpoint CKPT --manifest MANIFEST

Times the load plus a touch of every page of every storage (one byte per
4 KiB, so that every byte ends resident, as load_benchmark.cc does), then
checks every tensor against the manifest with the harness's hashing rules
(tools/strategies/harness_loader.py) and prints
{"seconds": ..., "bytes": ..., "bit_exact": ...}.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "strategies"))
from harness_loader import digest, named_tensors, touch_pages  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--loader", required=True, choices=["torch_load", "torch_load_mmap", "safetensors"])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--manifest", required=True)
    args = parser.parse_args()
    import torch

    if args.loader == "safetensors":
        import safetensors.torch

        def load():
            return safetensors.torch.load_file(args.checkpoint, device="cpu")
    else:
        def load():
            return torch.load(args.checkpoint, map_location="cpu", weights_only=False,
                              mmap=args.loader == "torch_load_mmap")

    start = time.perf_counter()
    tensors = named_tensors(load())
    touch_pages(tensors)
    seconds = time.perf_counter() - start
    with open(args.manifest) as f:
        manifest = json.load(f)
    hashes = {name: digest(t) for name, t in tensors}
    bit_exact = len(hashes) == len(manifest["tensors"]) and all(
        hashes.get(t["name"]) == t["sha256"] for t in manifest["tensors"])
    print(json.dumps({"seconds": seconds, "bytes": manifest["storage_bytes"], "bit_exact": bit_exact}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
