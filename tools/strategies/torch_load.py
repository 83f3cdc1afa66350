#!/usr/bin/env python3
"""External strategy: Python's torch.load / torch.jit.load, as users call them.

    torch_load.py --mode load_then_to --checkpoint ckpt.pt --format pickle --target cpu

Modes:
  load_then_to     torch.load(path).to(target): restored where saved, then moved
  map_location     torch.load(path, map_location=target)
  cpu_then_to      torch.load(path, map_location="cpu"), then .to(target)
  meta_assign      a module built on the meta device (no allocation), then
                   load_state_dict(torch.load(path, map_location=target),
                   assign=True): parameters take the loaded tensors
  build_then_copy  the classic: a module built on the target (its memory
                   allocated there), then load_state_dict(torch.load(path,
                   map_location="cpu")) copies into it
  resume_split     a training checkpoint ({"model", "optimizer", ...})
                   loaded to the CPU; the model goes to the target and the
                   optimizer's state stays on the CPU, the advice of
                   huggingface/transformers#22123
The module of the last two is the checkpoint's own layout (read with
map_location="meta", which reads no tensor bytes), with every tensor as a
buffer, so that integer and bool tensors fit too.
--mmap loads with torch.load(..., mmap=True): storages map the file.
--touch reads every page of every tensor before the load ends, as a first
forward pass would: a map's pages become resident (pytorch/pytorch#102334).
--weights-only true|false sets torch.load's weights_only (the default flipped
to True in torch 2.6). --safe-global MODULE.NAME (repeatable) allow-lists a
global for weights_only=True loads (torch.serialization.safe_globals), e.g.
torch.jit._pickle.restore_type_tag, which LibTorch's pickles name.
Prints one JSON line (harness_loader.py, the protocol of
harness/strategy/external.h).
"""
import argparse
import contextlib
import importlib
import sys

from harness_loader import named_tensors, run_load, touch_pages

MODES = ["load_then_to", "map_location", "cpu_then_to", "meta_assign", "build_then_copy", "resume_split"]


def move(obj, target):
    """obj.to(target) for a module; for a dict, every tensor in it (nested
    dicts too, as a training checkpoint holds them) moved, the rest kept,
    each dict moved once however often it is held."""
    import torch

    named_tensors(obj)  # refuses what is neither a dict nor a module, and cycles
    if not isinstance(obj, dict):
        return obj.to(target)
    moved = {}

    def moved_dict(d):
        if id(d) not in moved:
            moved[id(d)] = {k: v.to(target) if torch.is_tensor(v) else moved_dict(v) if isinstance(v, dict) else v
                            for k, v in d.items()}
        return moved[id(d)]

    return moved_dict(obj)


def module_like(state_dict, device):
    """A module whose buffers have the names, shapes and dtypes of
    `state_dict`, built on `device` ("meta": nothing is allocated)."""
    import torch

    root = torch.nn.Module()
    with torch.device(device):
        for name, tensor in named_tensors(state_dict):
            *path, leaf = name.split(".")
            owner = root
            for part in path:
                if not hasattr(owner, part):
                    owner.add_module(part, torch.nn.Module())
                owner = getattr(owner, part)
            owner.register_buffer(leaf, torch.empty(tensor.shape, dtype=tensor.dtype))
    return root


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", required=True, choices=MODES)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--format", required=True, choices=["torchscript", "cpp_archive", "pickle", "safetensors"])
    parser.add_argument("--target", required=True)
    parser.add_argument("--weights-only", default="default", choices=["default", "true", "false"])
    parser.add_argument("--mmap", action="store_true", help="torch.load(..., mmap=True)")
    parser.add_argument("--touch", action="store_true", help="read every page of every tensor within the load")
    parser.add_argument("--safe-global", action="append", default=[], metavar="MODULE.NAME",
                        help="allow-list this global for weights_only loads (repeatable)")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        return run_load(None, args.target)  # reports the skip

    def allow_listed():
        if not args.safe_global:
            return contextlib.nullcontext()
        resolved = []
        for dotted in args.safe_global:
            module, _, name = dotted.rpartition(".")
            resolved.append(getattr(importlib.import_module(module), name))
        return torch.serialization.safe_globals(resolved)

    def load(map_location, mmap=args.mmap):
        if args.format == "safetensors":
            raise TypeError("not a zip archive: torch.load does not read safetensors (use safetensors_load.py)")
        if args.format in ("torchscript", "cpp_archive"):
            if args.mode in ("meta_assign", "build_then_copy"):
                raise TypeError("pickle checkpoint is not a dict: " + args.mode + " loads torch.save files")
            return torch.jit.load(args.checkpoint, map_location=map_location)
        kwargs = {} if args.weights_only == "default" else {"weights_only": args.weights_only == "true"}
        if mmap:
            kwargs["mmap"] = True
        with allow_listed():
            return torch.load(args.checkpoint, map_location=map_location, **kwargs)

    def measured():
        if args.mode == "load_then_to":
            return move(load(None), args.target)
        if args.mode == "map_location":
            return load(args.target)
        if args.mode == "cpu_then_to":
            return move(load("cpu"), args.target)
        if args.mode == "resume_split":
            checkpoint = load("cpu")
            if not isinstance(checkpoint, dict) or "model" not in checkpoint:
                raise TypeError("pickle checkpoint is not a dict with a model: resume_split loads training checkpoints")
            checkpoint["model"] = move(checkpoint["model"], args.target)
            return checkpoint
        layout = load("meta", mmap=False)
        if args.mode == "meta_assign":
            model = module_like(layout, "meta")
            model.load_state_dict(load(args.target), assign=True)
        else:
            model = module_like(layout, args.target)
            model.load_state_dict(load("cpu"))
        return model

    def touched():
        loaded = measured()
        touch_pages(named_tensors(loaded))
        return loaded

    return run_load(touched if args.touch else measured, args.target)


if __name__ == "__main__":
    sys.exit(main())
