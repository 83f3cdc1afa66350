#!/usr/bin/env python3
"""External strategy: Python's torch.load / torch.jit.load, as the article uses them.

    torch_load.py --mode load_then_to --checkpoint ckpt.pt --format pickle --target cpu

Modes: load_then_to (torch.load(path).to(target)), map_location
(torch.load(path, map_location=target)), cpu_then_to. --mmap loads with
torch.load(..., mmap=True): storages map the file instead of reading it.
--safe-global NAME (repeatable) allow-lists a global for weights_only=True
loads (torch.serialization.safe_globals), e.g.
torch.jit._pickle.restore_type_tag, which LibTorch's pickles name.
Prints one JSON line, the protocol of harness/strategy/external.h, with
the load's own host peak (host_peak_bytes).
"""
import argparse
import hashlib
import json
import sys


def named_tensors(obj):
    import torch  # imported by main() already; here for its name

    if isinstance(obj, dict) and all(torch.is_tensor(v) for v in obj.values()):
        return list(obj.items())
    if isinstance(obj, torch.nn.Module):
        return list(obj.named_buffers()) + list(obj.named_parameters())
    # The harness classifies this message as unsupported-format.
    raise TypeError("pickle checkpoint is not a dict of tensors or a module: it holds a " + type(obj).__name__)


def move(obj, target):
    named_tensors(obj)  # refuses what is neither a dict of tensors nor a module
    if isinstance(obj, dict):
        return {k: v.to(target) for k, v in obj.items()}
    return obj.to(target)


def mark_loaded():
    """Tells the harness's CUPTI injection (docs/ledger.md), when present, that
    the load is done: the digests below copy device tensors to the host, and
    those copies are the harness's check, not the loader's."""
    try:
        import ctypes
        ctypes.CDLL(None).harness_cupti_mark_loaded()
    except (AttributeError, OSError):
        pass


def resident_bytes(field):
    """VmRSS or VmHWM of this process, in bytes (/proc/self/status)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(field + " not in /proc/self/status")


def reset_peak():
    """Resets VmHWM to the current resident set (Linux >= 4.0) and returns
    that level; None where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return resident_bytes("VmRSS")
    except OSError:
        return None


def digest(tensor):
    """SHA-256 of the tensor's bytes, read straight from its host copy (no
    numpy, no Python list of every byte)."""
    import ctypes

    flat = tensor.detach().cpu().contiguous().clone().reshape(-1)
    size = flat.numel() * flat.element_size()
    return hashlib.sha256(ctypes.string_at(flat.data_ptr(), size) if size else b"").hexdigest()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", required=True, choices=["load_then_to", "map_location", "cpu_then_to"])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--format", required=True, choices=["torchscript", "cpp_archive", "pickle"])
    parser.add_argument("--target", required=True)
    parser.add_argument("--weights-only", default="default", choices=["default", "true", "false"])
    parser.add_argument("--mmap", action="store_true", help="torch.load(..., mmap=True)")
    parser.add_argument("--safe-global", action="append", default=[], metavar="MODULE.NAME",
                        help="allow-list this global for weights_only loads (repeatable)")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        print(json.dumps({"skip": "Python torch is not installed for " + sys.executable}))
        return 0

    def resolve(dotted):
        import importlib

        module, _, name = dotted.rpartition(".")
        return getattr(importlib.import_module(module), name)

    def load(map_location):
        if args.format in ("torchscript", "cpp_archive"):
            return torch.jit.load(args.checkpoint, map_location=map_location)
        kwargs = {} if args.weights_only == "default" else {"weights_only": args.weights_only == "true"}
        if args.mmap:
            kwargs["mmap"] = True
        if args.safe_global:
            with torch.serialization.safe_globals([resolve(g) for g in args.safe_global]):
                return torch.load(args.checkpoint, map_location=map_location, **kwargs)
        return torch.load(args.checkpoint, map_location=map_location, **kwargs)

    # The load's own host peak: the resident set's rise above this level.
    # CUDA's own start-up (its context takes hundreds of MB of host memory)
    # is not the load's: start it first when the load will.
    if args.target.startswith("cuda") and torch.cuda.is_available():
        torch.cuda.init()
    baseline = reset_peak()
    try:
        if args.mode == "load_then_to":
            obj = move(load(None), args.target)
        elif args.mode == "map_location":
            obj = load(args.target)
        else:
            obj = move(load("cpu"), args.target)
        tensors = named_tensors(obj)
        if torch.cuda.is_initialized():
            torch.cuda.synchronize()  # every copy complete before the mark
        mark_loaded()
        # Before the digests below touch every byte (and page in an mmap).
        host_peak = None if baseline is None else max(0, resident_bytes("VmHWM") - baseline)
        result = {
            "ok": True,
            "torch": torch.__version__,
            "placement": {n: str(t.device) for n, t in tensors},
            "sha256": {n: digest(t) for n, t in tensors},
            "storage": {n: t.untyped_storage().data_ptr() for n, t in tensors},
        }
        if host_peak is not None:
            result["host_peak_bytes"] = host_peak
    except Exception as e:  # the harness classifies the message
        lines = [l.strip() for l in str(e).strip().splitlines() if l.strip()]
        # The first line, plus the one that names a refused global, if any.
        kept = lines[:1] + [l for l in lines[1:] if "Unsupported global" in l][:1]
        result = {"ok": False, "error": f"{type(e).__name__}: " + " ".join(kept)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
