#!/usr/bin/env python3
"""Writes Python-made golden checkpoints on a real GPU, with harness manifests.

    python3 tools/golden/make_python_golden.py OUT_DIR

Run on a GPU runner (it refuses without CUDA). For each file it writes
NAME.pt and NAME.manifest.json in the harness's manifest format
(fixtures/fixture.h), so fixtures/golden/golden_test.cc can check LibTorch
loads them bit-exactly. Content is deterministic (torch.manual_seed).
"""
import hashlib
import json
import os
import sys

import torch


def digest(t):
    flat = t.detach().cpu().contiguous().clone().reshape(-1)
    return hashlib.sha256(bytes(flat.untyped_storage().tolist())).hexdigest()


DTYPES = {torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16",
          torch.int64: "int64", torch.bool: "bool"}


def tensors(device):
    g = torch.Generator().manual_seed(20261122)
    base = torch.randn(128, generator=g)
    out = {
        "layer0_weight": torch.randn(512, generator=g),
        "layer1_weight": torch.randn(512, generator=g),
        "norm_f16": torch.randn(64, generator=g).half(),
        "norm_bf16": torch.randn(64, generator=g).bfloat16(),
        "step_i64": torch.randint(-2**40, 2**40, (16,), generator=g),
        "mask_bool": torch.randint(0, 2, (32,), generator=g).bool(),
        "scale_scalar": torch.tensor(0.125),
        "unused_empty": torch.empty(0),
    }
    out = {k: v.to(device) for k, v in out.items()}
    shared = base.to(device)
    out["shared_base"] = shared
    out["shared_view"] = shared[32:96]
    return out


def manifest(fmt, provenance, named, spec):
    records, storage_bytes = [], 0
    for name, t in named.items():
        r = {"name": name, "dtype": DTYPES[t.dtype], "shape": list(t.shape), "device": str(t.device),
             "nbytes": t.numel() * t.element_size(), "sha256": digest(t)}
        if name == "shared_view":
            r["shares_storage_with"] = "shared_base"
        else:
            storage_bytes += r["nbytes"]
        records.append(r)
    return {"format": fmt, "torch_version": torch.__version__.split("+")[0], "provenance": provenance,
            "spec": spec, "storage_bytes": storage_bytes, "tensors": records}


class Holder(torch.nn.Module):
    def __init__(self, named):
        super().__init__()
        for k, v in named.items():
            self.register_buffer(k, v)

    def forward(self, x):
        return x


def main():
    out = sys.argv[1]
    if not torch.cuda.is_available():
        sys.exit("make_python_golden.py needs a GPU")
    os.makedirs(out, exist_ok=True)
    named = tensors("cuda:0")
    gpu = torch.cuda.get_device_name(0)

    def write(name, fmt, spec, save):
        save(os.path.join(out, name + ".pt"))
        with open(os.path.join(out, name + ".manifest.json"), "w") as f:
            json.dump(manifest(fmt, "genuine-gpu", named, spec + " on " + gpu), f, indent=2)
            f.write("\n")

    write("py_dict_cuda0", "pickle", "python torch.save(dict)", lambda p: torch.save(dict(named), p))
    write("py_state_dict_cuda0", "pickle", "python torch.save(module.state_dict())",
          lambda p: torch.save(Holder(named).state_dict(), p))
    write("py_jit_cuda0", "torchscript", "python torch.jit.save(torch.jit.script(module))",
          lambda p: torch.jit.save(torch.jit.script(Holder(named)), p))
    print("wrote", sorted(os.listdir(out)))


if __name__ == "__main__":
    main()
