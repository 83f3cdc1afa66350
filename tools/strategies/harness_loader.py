"""The loader side of the external-command protocol (harness/strategy/external.h),
for Python loaders: write the load, the harness's rules do the rest.

    import torch
    from harness_loader import run_load

    sys.exit(run_load(lambda: torch.load(path, map_location="cuda:0"), target="cuda:0"))

run_load() times nothing and judges nothing. It starts CUDA first when the
target is a GPU (its context is not the load's memory), resets the host
peak, calls `load`, waits for every device copy, then reports one JSON line:
placement, SHA-256 of each tensor's bytes exactly as the manifest defines
them (contiguous, little-endian, a 0-d tensor is its one element), storage
identities (views share them) and the load's host peak. An exception from
`load` becomes {"ok": false, "error": "Type: message"}, which the harness
classifies. Python without torch reports a skip.

Simpler still, a loader that is one function (checkpoint, target, fmt) ->
what it loaded needs no script of its own:

    python harness_loader.py my_loader.py:load --checkpoint P --target T --format F

(tools/strategies/example_function_loader.py; scenarios/python_state_dict.yaml).
"""
import ctypes
import hashlib
import json
import sys


def named_tensors(obj):
    """Every tensor in what a loader returned, by dotted path, as the
    manifest names them: a dict's entries (string or integer keys, nested:
    "optimizer.state.0.exp_avg"), a module's buffers and parameters. Values
    that are no tensor (an epoch, param_groups) are skipped; a dict held in
    two places is walked once, and one that contains itself is refused."""
    import torch

    inside, seen = set(), set()

    def walk(value, path):
        if torch.is_tensor(value):
            return [(path, value)]
        if isinstance(value, torch.nn.Module):
            return [(path + n, t) for n, t in list(value.named_buffers()) + list(value.named_parameters())]
        if not isinstance(value, dict):
            return []
        if id(value) in inside:
            raise ValueError("the checkpoint holds a container that contains itself")
        if id(value) in seen:
            return []
        seen.add(id(value))
        inside.add(id(value))
        found = [pair for key, item in value.items() if isinstance(key, (str, int))
                 for pair in walk(item, path + str(key) + ".")]
        inside.discard(id(value))
        return found

    if not isinstance(obj, (dict, torch.nn.Module)):
        # The harness classifies this message as unsupported-format.
        raise TypeError("pickle checkpoint is not a dict of tensors or a module: it holds a " + type(obj).__name__)
    return [(name[:-1] if name.endswith(".") else name, t) for name, t in walk(obj, "")]


def resident_bytes(field):
    """VmRSS or VmHWM of this process, in bytes (/proc/self/status)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(field + " not in /proc/self/status")


def reset_peak():
    """Resets VmHWM to the current resident set (Linux >= 4.0: clear_refs 5)
    and returns that level; None where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return resident_bytes("VmRSS")
    except OSError:
        return None


def digest(tensor):
    """SHA-256 of the tensor's bytes, read straight from a host copy."""
    flat = tensor.detach().cpu().contiguous().clone().reshape(-1)
    size = flat.numel() * flat.element_size()
    return hashlib.sha256(ctypes.string_at(flat.data_ptr(), size) if size else b"").hexdigest()


def touch_pages(tensors):
    """Reads one byte of every 4 KiB page of every storage in `tensors`
    ((name, tensor) pairs), so that every page is resident afterwards (a
    map's pages included), allocating next to nothing. Returns a checksum."""
    import torch

    total, seen = 0, set()
    for _, t in tensors:
        storage = t.untyped_storage()
        if storage.data_ptr() in seen or storage.nbytes() == 0 or t.device.type != "cpu":
            continue
        seen.add(storage.data_ptr())
        total += int(torch.empty(0, dtype=torch.uint8).set_(storage)[::4096].sum())
    return total


def mark_loaded():
    """Tells the harness's CUPTI injection (docs/ledger.md), when present, that
    the load is done: the digests copy device tensors to the host, and those
    copies are the harness's check, not the loader's."""
    try:
        ctypes.CDLL(None).harness_cupti_mark_loaded()
    except (AttributeError, OSError):
        pass


def error_text(e):
    """The first line of an exception, plus the one naming a refused global."""
    lines = [l.strip() for l in str(e).strip().splitlines() if l.strip()]
    kept = lines[:1] + [l for l in lines[1:] if "Unsupported global" in l][:1]
    return f"{type(e).__name__}: " + " ".join(kept)


def run_load(load, target):
    """Runs `load()` (no arguments: bind them yourself) as the measured load
    and prints the protocol's result line. Returns the exit status."""
    try:
        import torch
    except ImportError:
        print(json.dumps({"skip": "Python torch is not installed for " + sys.executable}))
        return 0
    if target.startswith("cuda") and torch.cuda.is_available():
        torch.cuda.init()
    baseline = reset_peak()
    try:
        tensors = named_tensors(load())
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
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # the harness classifies the message (some libraries raise BaseExceptions)
        result = {"ok": False, "error": error_text(e)}
    print(json.dumps(result))
    return 0


def main(argv=None):
    """The simpler contract: a loader is a function, the protocol is ours.

        python harness_loader.py example_function_loader.py:load --checkpoint {checkpoint} \\
            --target {target} --format {format}

    imports example_function_loader.py, calls load(checkpoint, target, fmt) as the measured
    load and reports what it returned (run_load: placement, hashes, storage
    identities, host peak, or the classified error)."""
    import argparse
    import importlib.util
    import os

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("function", help="FILE.py:NAME, a function (checkpoint, target, fmt) -> what it loaded")
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--format", required=True)
    args = parser.parse_args(argv)
    path, _, name = args.function.rpartition(":")
    if not path or not name:
        parser.error(f"{args.function!r} is not FILE.py:NAME")
    spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0], path)
    if spec is None:
        parser.error(f"{path} is no Python file")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    spec.loader.exec_module(module)
    load = getattr(module, name, None)
    if not callable(load):
        parser.error(f"{path} has no function {name}")
    return run_load(lambda: load(args.checkpoint, args.target, args.format), args.target)


if __name__ == "__main__":
    sys.exit(main())
