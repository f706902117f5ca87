#!/usr/bin/env python3
"""Writes the weight files that tests/embedded_weights.rs and tests/ui/weights embed.

Independent of sinew: the safetensors format is written by hand (8-byte little-endian
header length, JSON header, raw little-endian data), and every value is a closed-form
function of the tensor's name and its row-major (PyTorch) index, which the Rust test
recomputes. Run from the repository root: `python3 tests/embed/make.py`.
"""
import json
import math
import struct
from pathlib import Path

HERE = Path(__file__).parent
UI = HERE.parent / "ui" / "weights"


def value(name, i):
    """The i-th row-major value of tensor `name` (tests/embedded_weights.rs: `value`)."""
    seed = sum(ord(c) for c in name)
    v = math.sin(1.0 + 0.37 * i + 0.011 * seed)
    if name.endswith("running_var"):
        v = abs(v) + 0.5
    return v


def write(path, tensors, dtype="F32", metadata=None):
    """tensors: list of (name, shape) or (name, shape, dtype, raw bytes)."""
    header = {}
    data = b""
    for t in tensors:
        if len(t) == 4:
            name, shape, dt, raw = t
        else:
            name, shape = t
            n = math.prod(shape)
            fmt = "<%d%s" % (n, "f" if dtype == "F32" else "d")
            dt, raw = dtype, struct.pack(fmt, *[value(name, i) for i in range(n)])
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)


MIXED = [
    ("c1.weight", [3, 1, 3, 3]),
    ("bn.weight", [3]),
    ("bn.bias", [3]),
    ("bn.running_mean", [3]),
    ("bn.running_var", [3]),
    ("bn.num_batches_tracked", [], "I64", struct.pack("<q", 12)),
    ("up.weight", [3, 2, 2, 2]),
    ("up.bias", [2]),
    ("d1.weight", [5, 18]),
    ("out.weight", [3, 5]),
    ("out.bias", [3]),
]
# A graph declared with a block: nested PyTorch names, a batch norm inside the block.
GRAPH = [
    ("stem.weight", [2, 1, 3, 3]),
    ("stem.bias", [2]),
    ("b1.c1.weight", [2, 2, 3, 3]),
    ("b1.n1.weight", [2]),
    ("b1.n1.bias", [2]),
    ("b1.n1.running_mean", [2]),
    ("b1.n1.running_var", [2]),
    ("b1.n1.num_batches_tracked", [], "I64", struct.pack("<q", 3)),
    ("side.weight", [2, 1, 1, 1]),
    ("side.bias", [2]),
    ("out.weight", [3, 4]),
    ("out.bias", [3]),
]
MLP = [("hidden.weight", [8, 4]), ("hidden.bias", [8]), ("out.weight", [2, 8]), ("out.bias", [2])]

write(HERE / "mixed.safetensors", MIXED, metadata={"source": "tests/embed/make.py"})
write(HERE / "mlp64.safetensors", MLP, dtype="F64")
write(HERE / "graph.safetensors", GRAPH, metadata={"source": "tests/embed/make.py"})

UI.mkdir(parents=True, exist_ok=True)
# `out.weight` saved from `Dense(8 => 3)` instead of `Dense(8 => 2)`.
write(UI / "wrong_shape.safetensors", MLP[:2] + [("out.weight", [3, 8]), ("out.bias", [2])])
# No `out.bias`.
write(UI / "missing_tensor.safetensors", MLP[:3])
# A layer the declaration does not have.
write(UI / "extra_tensor.safetensors", MLP + [("head.weight", [2, 2])])
# Half precision.
write(UI / "half.safetensors", MLP[:1] + [("hidden.bias", [8], "F16", b"\0" * 16)] + MLP[2:])
# Truncated: the header promises more data than there is.
whole = (HERE / "mlp64.safetensors").read_bytes()
(UI / "truncated.safetensors").write_bytes(whole[:-8])
