"""A loader as a user writes it for the harness: one function that loads.

The harness's tools/strategies/harness_loader.py calls it and does the rest
(placement, hashes exactly as the manifest defines them, storage sharing,
the result line):

    commands:
      example_function_loader: "{python} tools/strategies/harness_loader.py tools/strategies/example_function_loader.py:load --checkpoint {checkpoint} --target {target} --format {format}"
"""
import torch


def load(checkpoint, target, fmt):
    if fmt == "torchscript":
        return torch.jit.load(checkpoint, map_location=target)
    return torch.load(checkpoint, map_location=target)
