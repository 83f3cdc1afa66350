#!/usr/bin/env python3
"""External strategy: torch.distributed.checkpoint (DCP) across a world-size
change: saved by 2 ranks, loaded by 1, onto the target.

    dcp_load.py --checkpoint CKPT --format pickle --target cuda:0 [--drop-shard]

Before the measured load, and not measured: the fixture is read with
torch.load and saved as a DCP checkpoint by two ranks (two forked
processes, gloo on the CPU, the state replicated as data parallelism
leaves it, so DCP spreads the tensors over the ranks' files). The measured
load is one process without a process group: a state dict of empty tensors
on the target, shaped from the checkpoint's metadata, filled by
dcp.load. --drop-shard deletes one rank's file first: a checkpoint with a
missing shard. Prints one JSON line (harness_loader.py).
"""
import argparse
import json
import multiprocessing
import os
import sys
import tempfile

from harness_loader import error_text, named_tensors, run_load


def save_rank(rank, world_size, store_path, state_dict, directory):
    import torch.distributed as dist
    import torch.distributed.checkpoint as dcp

    dist.init_process_group("gloo", init_method="file://" + store_path, rank=rank, world_size=world_size)
    try:
        dcp.save(state_dict, checkpoint_id=directory)
    finally:
        dist.destroy_process_group()


def save_by_two_ranks(state_dict, directory):
    context = multiprocessing.get_context("fork")  # torch is imported, CUDA untouched
    store = os.path.join(directory, "..", "store")
    ranks = [context.Process(target=save_rank, args=(r, 2, store, state_dict, directory)) for r in range(2)]
    for p in ranks:
        p.start()
    for p in ranks:
        p.join(120)
    for p in ranks:
        if p.is_alive():  # a rank that hangs is killed, and the save fails
            p.kill()
            p.join()
    if any(p.exitcode != 0 for p in ranks):
        raise RuntimeError("DCP save by 2 ranks failed: exit codes %s" % [p.exitcode for p in ranks])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--format", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--drop-shard", action="store_true", help="delete rank 1's file before loading")
    args = parser.parse_args()
    try:
        import torch
        import torch.distributed.checkpoint as dcp
    except ImportError:
        return run_load(None, args.target)  # reports the skip
    if args.format != "pickle":
        print(json.dumps({"ok": False, "error": "TypeError: not a zip archive of a dict: DCP starts from a torch.save file"}))
        return 0
    with tempfile.TemporaryDirectory(prefix="dcp-") as scratch:
        directory = os.path.join(scratch, "checkpoint")
        os.makedirs(directory)
        try:
            # weights_only, allow-listing only the type tag LibTorch's pickles name.
            import torch.jit._pickle

            with torch.serialization.safe_globals([torch.jit._pickle.restore_type_tag]):
                flat = dict(named_tensors(torch.load(args.checkpoint, map_location="cpu", weights_only=True)))
            # DCP keeps no views: each tensor is saved as its own bytes.
            save_by_two_ranks({k: v.clone() for k, v in flat.items()}, directory)
        except Exception as e:  # the checkpoint could not become a DCP one: say why, classified
            print(json.dumps({"ok": False, "error": error_text(e)}))
            return 0
        if args.drop_shard:
            shards = sorted(f for f in os.listdir(directory) if f.endswith(".distcp"))
            os.remove(os.path.join(directory, shards[-1]))

        def load():
            metadata = dcp.FileSystemReader(directory).read_metadata()
            state_dict = {name: torch.empty(tuple(m.size), dtype=m.properties.dtype, device=args.target)
                          for name, m in metadata.state_dict_metadata.items()}
            try:
                dcp.load(state_dict, checkpoint_id=directory, no_dist=True)
            except dcp.api.CheckpointException as e:  # a BaseException: name what each rank met
                met = "; ".join(f"{type(exc).__name__}: {exc}" for exc, _ in e.failures.values())
                raise RuntimeError("DCP checkpoint incomplete or damaged: " + met) from None
            return state_dict

        return run_load(load, args.target)


if __name__ == "__main__":
    sys.exit(main())
