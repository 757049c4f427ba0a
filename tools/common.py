"""Helpers shared by the tools: a minimal safetensors reader/writer (the
`safetensors` package is not in Debian), Fashion-MNIST's idx files, and the
paths the TypeScript side reads.

Run every tool with Debian's torch: /usr/bin/python3 tools/<script>.py
"""
import gzip
import json
import os
import struct

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "packages", "models")
FIXTURES = os.path.join(MODELS, "fixtures")
TRAINED = os.path.join(MODELS, "trained")
FASHION_MNIST = "/usr/share/datasets/fashion-mnist"

_DTYPES = {
    np.dtype("float32"): "F32",
    np.dtype("float16"): "F16",
    np.dtype("int64"): "I64",
    np.dtype("int32"): "I32",
    np.dtype("uint8"): "U8",
    np.dtype("bool"): "BOOL",
}
_NP = {v: k for k, v in _DTYPES.items()}


def to_numpy(t):
    """A torch tensor or array as a contiguous numpy array."""
    if hasattr(t, "detach"):
        t = t.detach().cpu().contiguous().numpy()
    return np.ascontiguousarray(t)


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: array or tensor} as safetensors (little endian, tensors in the given order)."""
    header = {}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        a = to_numpy(t)
        if a.dtype not in _DTYPES:
            raise ValueError(f"{name}: dtype {a.dtype} has no safetensors name here")
        raw = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _DTYPES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)  # align the data to 8 bytes
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """Reads a safetensors file into {name: numpy array} (and its metadata)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, h in header.items():
        b, e = h["data_offsets"]
        out[name] = np.frombuffer(data[base + b : base + e], dtype=_NP[h["dtype"]].newbyteorder("<")).reshape(h["shape"])
    return out, meta


def load_idx(path):
    """An idx file (MNIST's format, gzipped) as a numpy array."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    _zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if dtype != 0x08:
        raise ValueError(f"{path}: expected unsigned bytes (0x08), found type 0x{dtype:02x}")
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return np.frombuffer(data[4 + 4 * ndim :], dtype=np.uint8).reshape(dims)


def fashion_mnist(split):
    """(images uint8 [N, 28, 28], labels uint8 [N]) of 'train' or 't10k'."""
    images = load_idx(os.path.join(FASHION_MNIST, f"{split}-images-idx3-ubyte.gz"))
    labels = load_idx(os.path.join(FASHION_MNIST, f"{split}-labels-idx1-ubyte.gz"))
    return images, labels


def write_json(path, obj):
    """Writes pretty JSON with a final newline."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def write_onnx(base, export, int8):
    """Writes BASE.onnx with export(path), under a temporary name first (so a complete BASE.onnx means that the
    files written before it are there too), and with int8 also BASE.int8.onnx: onnxruntime's quantize_dynamic
    of it (int8 weights, activations quantized at run time: what a transformers.js user runs)."""
    export(base + ".onnx.tmp")
    os.replace(base + ".onnx.tmp", base + ".onnx")
    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(base + ".onnx", base + ".int8.onnx.tmp", weight_type=QuantType.QInt8)
        os.replace(base + ".int8.onnx.tmp", base + ".int8.onnx")


TIMM_NAMES = [
    ("class_token", "cls_token"),
    ("conv_proj.", "patch_embed.proj."),
    ("encoder.pos_embedding", "pos_embed"),
    ("encoder.ln.", "norm."),
    ("encoder.layers.encoder_layer_", "blocks."),
    (".ln_1.", ".norm1."),
    (".ln_2.", ".norm2."),
    (".self_attention.in_proj_weight", ".attn.qkv.weight"),
    (".self_attention.in_proj_bias", ".attn.qkv.bias"),
    (".self_attention.out_proj.", ".attn.proj."),
    (".mlp.0.", ".mlp.fc1."),
    (".mlp.3.", ".mlp.fc2."),
    ("heads.head.", "head."),
]


def timm_name(name):
    """torchvision's ViT state_dict name -> timm's (same tensors, same layouts)."""
    for a, b in TIMM_NAMES:
        name = name.replace(a, b)
    return name
