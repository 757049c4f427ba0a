"""PyTorch's attention weights for the Transformer fixtures (attention
probes): each fixture's weights and inputs are read back, the model is run
in float64 with every nn.MultiheadAttention asked for its weights
(need_weights=True, average_attn_weights=False), and the weights are
written as NAME.attn.safetensors, one tensor `attn/<module path>`
[B, heads, queries, keys] per attention module (F32, computed in float64).
The ViT fixtures need torchvision, which the shared environment lacks.

    /work/pyenv/bin/python tools/make_attention_fixtures.py
"""
import json
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import FIXTURES, read_safetensors, write_safetensors  # noqa: E402
from seq2seq import Seq2SeqTransformer  # noqa: E402

NAMES = ["transformer-vocab41-3head", "transformer-1head-pad3"]


def record_weights(model):
    """Makes every MultiheadAttention of `model` return and record its per-head weights; returns {path: weights}."""
    weights = {}
    for path, m in model.named_modules():
        if not isinstance(m, nn.MultiheadAttention):
            continue

        def forward(*args, _orig=m.forward, _path=path, **kwargs):
            kwargs["need_weights"] = True
            kwargs["average_attn_weights"] = False
            out, w = _orig(*args, **kwargs)
            weights["attn/" + _path] = w.detach()
            return out, w

        m.forward = forward
    return weights


def main():
    torch.set_num_threads(1)
    for name in NAMES:
        base = os.path.join(FIXTURES, name)
        with open(base + ".json") as f:
            config = json.load(f)
        model = Seq2SeqTransformer(config).eval()
        state, _ = read_safetensors(base + ".safetensors")
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
        io, _ = read_safetensors(base + ".io.safetensors")
        weights = record_weights(model.double())
        with torch.enable_grad():  # keeps PyTorch off its fused fast path, which returns no weights
            model(torch.from_numpy(io["src"].copy()), torch.from_numpy(io["tgt"].copy()))
        write_safetensors(base + ".attn.safetensors", {k: v.float() for k, v in sorted(weights.items())}, {"computed_in": "float64", "torch": torch.__version__})
        print("wrote", name, sorted(weights))


if __name__ == "__main__":
    main()
