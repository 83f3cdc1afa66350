#!/usr/bin/env python3
"""Writes the hostile checkpoint corpus of tests/badinput (Python's standard
library only; nothing here imports torch).

    make_bad_checkpoints.py PICKLE_FIXTURE TORCHSCRIPT_FIXTURE SAFETENSORS_FIXTURE OUT_DIR MARKER

PICKLE_FIXTURE, TORCHSCRIPT_FIXTURE and SAFETENSORS_FIXTURE are real
checkpoints made by the harness (fixtures generate); every input is derived
from one of them, written opcode by opcode, or (safetensors_*) written
header field by header field. MARKER is a path that the code-running pickles
try to create: a test proves that nothing ran by its absence. Prints one
line per input: its file name.
"""
import json
import os
import pickle
import random
import struct
import sys
import zipfile
import zlib


def long1(n):
    """LONG1: a signed 64-bit integer, negative or huge."""
    data = n.to_bytes(8, "little", signed=True)  # LibTorch reads only 8-byte LONG1
    return b"\x8a" + bytes([len(data)]) + data


def text(s):
    data = s.encode("utf-8", "surrogateescape")
    return b"X" + struct.pack("<I", len(data)) + data


def glob(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def tensor_pickle(numel=4, offset=0, size=(4,), stride=(1,), location="cpu", storage="FloatStorage", key="0"):
    """{'w': tensor} as torch.save writes it (protocol 2), with every field
    of the storage and the tensor given."""
    out = b"\x80\x02" + b"}" + b"(" + text("w") + glob("torch._utils", "_rebuild_tensor_v2")
    out += b"(" + b"(" + text("storage") + glob("torch", storage) + text(key) + text(location) + long1(numel)
    out += b"t" + b"Q"  # TUPLE, BINPERSID
    out += long1(offset) + b"(" + b"".join(long1(s) for s in size) + b"t"
    out += b"(" + b"".join(long1(s) for s in stride) + b"t"
    out += b"\x89" + glob("collections", "OrderedDict") + b")" + b"R"  # NEWFALSE, OrderedDict()
    out += b"t" + b"R" + b"u" + b"."  # TUPLE, REDUCE, SETITEMS, STOP
    return out


def code_pickle(module, name, argument):
    """A pickle whose loading calls module.name(argument) (REDUCE)."""
    return b"\x80\x02" + glob(module, name) + text(argument) + b"\x85" + b"R" + b"."  # TUPLE1, REDUCE, STOP


def write_zip(path, entries, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name), data, compress_type=compression)


def handmade(pkl, storage=b"\0" * 16, extra=()):
    return [("archive/data.pkl", pkl), ("archive/data/0", storage), ("archive/version", b"3\n")] + list(extra)


def safetensors_file(entries, data_bytes, length=None):
    """A safetensors file: the 8-byte header length (or `length`), the JSON
    header of `entries` (name -> (dtype, shape, [begin, end])), then
    `data_bytes` zero bytes."""
    header = json.dumps({n: {"dtype": d, "shape": s, "data_offsets": o} for n, (d, s, o) in entries.items()}).encode()
    header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header) if length is None else length) + header + bytes(data_bytes)


def hand_zip(records, lying_extra=None, fake_header_for=None):
    """A zip archive written field by field, each record's data aligned to 64
    as PyTorch's writer aligns it. records: (name, data, deflated). With
    lying_extra=(name, n), that record's local header overstates its extra
    field by n bytes; with fake_header_for=name, that (deflated) record's
    extra field hides a local header that claims "stored"."""
    out, central = b"", b""
    for name, data, deflated in records:
        n = name.encode()
        stored = zlib.compress(data)[2:-4] if deflated else data
        tail = b""
        if name == fake_header_for:
            tail = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, 0, 0, 0, len(n), 0) + n
        payload = b"Z" * (-(len(out) + 30 + len(n) + 4 + len(tail)) % 64) + tail
        extra = struct.pack("<HH", 0x4642, len(payload)) + payload
        claimed = len(extra) + (lying_extra[1] if lying_extra and lying_extra[0] == name else 0)
        crc, local = zlib.crc32(data), len(out)
        method = 8 if deflated else 0
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc, len(stored), len(data), len(n), claimed)
        out += n + extra + stored
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, crc, len(stored), len(data),
                               len(n), 0, 0, 0, 0, 0, local) + n
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(records), len(records), len(central), len(out), 0)
    return out + central + end


def main():
    pickle_fixture, script_fixture, safetensors_fixture, out, marker = sys.argv[1:6]
    os.makedirs(out, exist_ok=True)
    real = open(pickle_fixture, "rb").read()
    entries = [(i.filename, zipfile.ZipFile(pickle_fixture).read(i.filename))
               for i in zipfile.ZipFile(pickle_fixture).infolist()]
    script = [(i.filename, zipfile.ZipFile(script_fixture).read(i.filename))
              for i in zipfile.ZipFile(script_fixture).infolist()]
    rng = random.Random(20261202)
    made = {}

    def raw(name, data):
        made[name] = lambda path: open(path, "wb").write(data)

    def zipped(name, items, compression=zipfile.ZIP_STORED):
        made[name] = lambda path: write_zip(path, items, compression)

    def flipped(data, start, end, count=8):
        b = bytearray(data)
        for _ in range(count):
            b[rng.randrange(start, end)] ^= 0xFF
        return bytes(b)

    raw("empty", b"")
    raw("one_byte", b"P")
    raw("random_bytes", bytes(rng.randrange(256) for _ in range(4096)))
    raw("text", b"this is not a checkpoint\n" * 40)
    # Before 1.6, torch.save wrote pickles one after another: the magic
    # number, the protocol version, sys_info, then the data.
    raw("legacy_torch_save", pickle.dumps(0x1950A86A20F9469CFC6C, 2) + pickle.dumps(1001, 2) + b"\x80\x02}.")
    for percent in (10, 50, 99):
        raw("truncated_%d_percent" % percent, real[: len(real) * percent // 100])
    zipped("empty_zip", [])
    zipped("zip_without_data_pkl", [e for e in entries if not e[0].endswith("data.pkl")])
    zipped("zip_without_storage_record", [e for e in entries if not e[0].endswith("data/0")])
    zipped("record_shorter_than_tensor", [(n, d[:12] if n.endswith("data/0") else d) for n, d in entries])
    zipped("deflate_compressed", entries, zipfile.ZIP_DEFLATED)
    zipped("duplicate_entries", entries + [e for e in entries if e[0].endswith("data.pkl")])
    zipped("path_traversal_names", [("../../" + n, d) for n, d in entries])
    raw("corrupted_central_directory", flipped(real, real.find(b"PK\x01\x02"), len(real) - 22, 32))
    pkl_name, pkl = next(e for e in entries if e[0].endswith("data.pkl"))
    zipped("bitflip_data_pkl", [(n, flipped(d, 0, len(d)) if n == pkl_name else d) for n, d in entries])
    raw("bitflip_zip_header", flipped(real, 4, 30, 6))
    zipped("pickle_without_stop", [(n, d[:-1] if n == pkl_name else d) for n, d in entries])
    zipped("pickle_unknown_protocol", [(n, b"\x80\x09" + d[2:] if n == pkl_name else d) for n, d in entries])
    zipped("zip_without_version", [e for e in entries if not e[0].endswith("version")])
    for module, name, argument in (("os", "system", "touch " + marker),
                                   ("builtins", "eval", "open(%r, 'w')" % marker),
                                   ("subprocess", "Popen", "touch " + marker)):
        zipped("pickle_%s_%s" % (module, name.lower()), handmade(code_pickle(module, name, argument)))
    zipped("pickle_nested_100k", handmade(b"\x80\x02" + b"]" * 100000 + b"a" * 99999 + b"."))
    zipped("handmade_valid", handmade(tensor_pickle()))  # the control: it must load
    zipped("storage_2pow60_elements", handmade(tensor_pickle(numel=2**60, size=(2**60,))))
    zipped("negative_size", handmade(tensor_pickle(size=(-4,))))
    zipped("negative_stride", handmade(tensor_pickle(stride=(-1,))))
    zipped("offset_past_end", handmade(tensor_pickle(offset=1000)))
    zipped("storage_larger_than_record", handmade(tensor_pickle(numel=1024, size=(1024,))))
    zipped("unknown_storage_dtype", handmade(tensor_pickle(storage="Float128Storage")))
    for label, location in (("minus_one", "cuda:-1"), ("huge_index", "cuda:99999999999"), ("tpu", "tpu:0"),
                            ("abc", "cuda:abc"), ("empty", "")):
        zipped("device_" + label, handmade(tensor_pickle(location=location)))
    zipped("torchscript_corrupted_constants", [(n, b"\x80\x02garbage" if n.endswith("constants.pkl") else d)
                                               for n, d in script])
    zipped("torchscript_corrupted_code", [(n, b"def forward(self:\n  return ((" if n.endswith("__torch__.py") else d)
                                          for n, d in script])
    # Structures the harness's readers walk, and zip headers that disagree
    # with the central directory (what zero_copy aliases by).
    def archive(pkl, storages, **lies):
        return hand_zip([("archive/data.pkl", pkl, False), ("archive/version", b"3\n", False)]
                        + [("archive/data/" + key, data, deflated) for key, data, deflated in storages], **lies)

    floats = struct.pack("<4f", 1, 2, 3, 4)
    TENSOR = slice(10, -2)  # tensor_pickle()'s value of "w": after PROTO, EMPTY_DICT, MARK, "w"; before SETITEMS, STOP
    raw("pickle_dict_contains_itself", archive(b"\x80\x02}q\x00(" + text("w") + tensor_pickle()[TENSOR]
                                                + text("self") + b"h\x00u.", [("0", floats, False)]))
    shared = b"\x80\x02}(" + text("junk") + b"(}(" + text("t") + tensor_pickle()[TENSOR] + b"uq\x01"
    for level in range(1, 41):  # each level holds the one below twice: 2^40 paths, 41 dicts
        shared += b"}(" + text("a") + b"h" + bytes([level]) + text("b") + b"h" + bytes([level]) + b"uq" + bytes([level + 1])
    raw("pickle_shared_dicts_2pow40", archive(shared + b"t" + text("root") + b"h\x29u.", [("0", floats, False)]))
    big = 1 << 16
    raw("zip_fake_stored_header_in_extra",
        archive(b"\x80\x02}(" + text("w") + tensor_pickle(numel=big, size=(big,))[TENSOR] + b"u.",
                [("0", bytes(4 * big), True)], fake_header_for="archive/data/0"))
    raw("zip_local_extra_length_lies",
        archive(b"\x80\x02}(" + text("w") + tensor_pickle(numel=big, size=(big,))[TENSOR] + b"u.",
                [("0", floats * (big // 4), False)], lying_extra=("archive/data/0", 3968)))
    # safetensors: headers that lie (the control, safetensors_valid, must load).
    f32 = lambda n, begin: ("F32", [n], [begin, begin + 4 * n])  # noqa: E731
    raw("safetensors_valid", safetensors_file({"w": f32(4, 0)}, 16))
    raw("safetensors_offsets_past_end", safetensors_file({"w": f32(1024, 0)}, 16))
    raw("safetensors_overlapping", safetensors_file({"w": f32(4, 0), "v": f32(4, 8)}, 24))
    raw("safetensors_hole", safetensors_file({"w": f32(4, 8)}, 24))
    raw("safetensors_shape_disagrees", safetensors_file({"w": ("F32", [8], [0, 16])}, 16))
    raw("safetensors_fp8", safetensors_file({"w": ("F8_E4M3", [4], [0, 4])}, 4))
    raw("safetensors_header_2pow40", safetensors_file({"w": f32(4, 0)}, 16, length=1 << 40))
    raw("safetensors_header_not_json", struct.pack("<Q", 16) + b"{not json at all" + bytes(16))
    real_st = open(safetensors_fixture, "rb").read()
    raw("safetensors_truncated_50_percent", real_st[: len(real_st) // 2])
    for name in sorted(made):
        made[name](os.path.join(out, name + ".pt"))
        print(name + ".pt")


if __name__ == "__main__":
    main()
