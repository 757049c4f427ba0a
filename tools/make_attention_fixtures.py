"""PyTorch's attention weights for the model fixtures (attention probes):
each fixture's weights and inputs are read back, the model is run in
float64 with every nn.MultiheadAttention asked for its weights
(need_weights=True, average_attn_weights=False), and the weights are
written as NAME.attn.safetensors, one tensor `attn/<module path>`
[B, heads, queries, keys] per attention module (F32, computed in float64).
The ViTs are torchvision's VisionTransformer written out here with its
module names (EncoderBlock: ln_1, self_attention, ln_2, mlp), so torchvision
is not needed; the script checks that it reproduces the fixture's logits.

    /work/pyenv/bin/python tools/make_attention_fixtures.py   # or Debian's /usr/bin/python3
"""
import json
import os
import sys
from collections import OrderedDict

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import FIXTURES, TIMM_NAMES, read_safetensors, write_safetensors  # noqa: E402
from seq2seq import Seq2SeqTransformer  # noqa: E402

TRANSFORMERS = ["transformer-vocab41-3head", "transformer-1head-pad3"]
VITS = ["vit-torchvision-37tok-3head", "vit-timm-10tok-5head"]


class EncoderBlock(nn.Module):
    """torchvision.models.vision_transformer.EncoderBlock (pre-norm, exact GELU)."""

    def __init__(self, c):
        super().__init__()
        d = c["hidden_dim"]
        self.ln_1 = nn.LayerNorm(d, eps=1e-6)
        self.self_attention = nn.MultiheadAttention(d, c["num_heads"], batch_first=True)
        self.ln_2 = nn.LayerNorm(d, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(d, c["mlp_dim"]), nn.GELU(), nn.Dropout(0.0), nn.Linear(c["mlp_dim"], d), nn.Dropout(0.0))

    def forward(self, x):
        y = self.ln_1(x)
        y, _ = self.self_attention(y, y, y, need_weights=False)
        x = x + y
        return x + self.mlp(self.ln_2(x))


class Encoder(nn.Module):
    def __init__(self, c, tokens):
        super().__init__()
        self.pos_embedding = nn.Parameter(torch.zeros(1, tokens, c["hidden_dim"]))
        self.layers = nn.Sequential(OrderedDict((f"encoder_layer_{i}", EncoderBlock(c)) for i in range(c["num_layers"])))
        self.ln = nn.LayerNorm(c["hidden_dim"], eps=1e-6)

    def forward(self, x):
        return self.ln(self.layers(x + self.pos_embedding))


class VisionTransformer(nn.Module):
    """torchvision.models.VisionTransformer's function and state_dict names."""

    def __init__(self, c):
        super().__init__()
        p, d = c["patch_size"], c["hidden_dim"]
        self.patch = p
        self.class_token = nn.Parameter(torch.zeros(1, 1, d))
        self.conv_proj = nn.Conv2d(3, d, kernel_size=p, stride=p)
        self.encoder = Encoder(c, (c["image_size"] // p) ** 2 + 1)
        self.heads = nn.Sequential(OrderedDict(head=nn.Linear(d, c["num_classes"])))

    def forward(self, x):
        x = self.conv_proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        return self.heads(self.encoder(x)[:, 0])


def torchvision_name(name):
    """timm's ViT state_dict name -> torchvision's (the inverse of common.timm_name)."""
    for a, b in TIMM_NAMES:
        name = name.replace(b, a)
    return name


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


def load(model, path, rename=lambda n: n):
    state, _ = read_safetensors(path)
    model.load_state_dict({rename(k): torch.from_numpy(v.copy()) for k, v in state.items()})
    return model.eval()


def write(name, weights, rename=lambda n: n):
    path = os.path.join(FIXTURES, name + ".attn.safetensors")
    write_safetensors(path, {rename(k): v.float() for k, v in sorted(weights.items())}, {"computed_in": "float64", "torch": torch.__version__})
    print("wrote", name, sorted(rename(k) for k in weights))


def main():
    torch.set_num_threads(1)
    for name in TRANSFORMERS + VITS:
        base = os.path.join(FIXTURES, name)
        with open(base + ".json") as f:
            config = json.load(f)
        io, _ = read_safetensors(base + ".io.safetensors")
        timm = config.get("naming") == "timm"
        if config["model"] == "vit":
            model = load(VisionTransformer(config), base + ".safetensors", torchvision_name if timm else lambda n: n)
        else:
            model = load(Seq2SeqTransformer(config), base + ".safetensors")
        weights = record_weights(model.double())
        with torch.enable_grad():  # keeps PyTorch off its fused fast path, which returns no weights
            if config["model"] == "vit":
                logits = model(torch.from_numpy(io["pixel_values"].copy()).double()).detach()
                # This ViT is torchvision's only if it gives the fixture's logits (computed by torchvision).
                assert torch.allclose(logits.float(), torch.from_numpy(io["logits"].copy()), atol=1e-5), name
            else:
                model(torch.from_numpy(io["src"].copy()), torch.from_numpy(io["tgt"].copy()))
        # timm's attention module of block i is blocks.i.attn.
        write(name, weights, (lambda k: k.replace("encoder.layers.encoder_layer_", "blocks.").replace(".self_attention", ".attn")) if timm else lambda k: k)


if __name__ == "__main__":
    main()
