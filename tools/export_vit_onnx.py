"""Exports the benchmark ViTs (torchvision's VisionTransformer: ViT-Ti/16,
ViT-S/16, ViT-B/16; batch 1, 224x224, 1000 classes) with seeded random
weights, so that every runtime of bench/vit.ts runs the same function:

    NAME.onnx               the model for onnxruntime (opset 14)
    NAME.safetensors        the same weights as a torchvision state_dict (F32)
    NAME.json               the Tessera model config
    NAME.io.safetensors     one seeded input (pixel_values) and PyTorch's float32 logits
    NAME.int8.onnx          with --int8: onnxruntime's quantize_dynamic of NAME.onnx (QInt8 weights)

The files are large (ViT-B/16: ~330 MB each for the ONNX file and the
weights) and are not committed: bench/vit.ts runs this script when they
are missing and writes them under bench/.models (git-ignored).

    /usr/bin/python3 tools/export_vit_onnx.py [--out DIR] [--seed N] [--int8] [NAME ...]
    (without torchvision, tools/torchvision_vit.py stands in for its ViT; --int8 needs
    onnxruntime, e.g. /work/pyenv/bin/python)
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ROOT, write_json, write_onnx, write_safetensors  # noqa: E402

try:
    from torchvision.models import VisionTransformer
except ImportError:  # the same structure and names, without torchvision (tools/torchvision_vit.py)
    from torchvision_vit import Vit

    def VisionTransformer(**c):
        return Vit({**c, "layer_norm_eps": 1e-6})

# Dosovitskiy et al. and DeiT (Ti); the same presets as VIT_PRESETS in packages/models/src/vit/config.ts.
PRESETS = {
    "vit-ti-16": dict(num_heads=3, hidden_dim=192, mlp_dim=768),
    "vit-s-16": dict(num_heads=6, hidden_dim=384, mlp_dim=1536),
    "vit-b-16": dict(num_heads=12, hidden_dim=768, mlp_dim=3072),
}
BASE = dict(image_size=224, patch_size=16, num_layers=12, num_classes=1000)
OPSET = 14


def build(name, seed):
    """torchvision's ViT with seeded weights: its own init, then the parts it leaves at zero or one randomised."""
    torch.manual_seed(seed)
    model = VisionTransformer(**BASE, **PRESETS[name]).eval()
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        # torchvision zero-initialises the head (all logits would be equal) and the class token;
        # biases and LayerNorms start at 0 and 1, which would hide a dropped bias or scale.
        head = model.heads.head
        head.weight.copy_(torch.randn(head.weight.shape, generator=g) * 0.02)
        model.class_token.copy_(torch.randn(model.class_token.shape, generator=g) * 0.02)
        for pname, p in model.named_parameters():
            if p.dim() == 1:
                p.add_(torch.randn(p.shape, generator=g) * 0.02)
    for m in model.modules():
        if isinstance(m, torch.nn.MultiheadAttention):
            # torch 1.13 takes a fused fast path (not exportable) when dropout is exactly 0; in eval mode
            # dropout is not applied at all, so 1e-12 changes nothing but the path taken.
            m.dropout = 1e-12
    return model


def export(name, out, seed, int8):
    model = build(name, seed)
    s = BASE["image_size"]
    g = torch.Generator().manual_seed(seed + 2)
    pixels = torch.rand((1, 3, s, s), generator=g)
    with torch.no_grad():
        logits = model(pixels)
    base = os.path.join(out, name)
    config = {"model": "vit", **BASE, **PRESETS[name], "naming": "torchvision", "layer_norm_eps": 1e-6}
    write_json(base + ".json", config)
    write_safetensors(base + ".safetensors", {k: v.float() for k, v in model.state_dict().items()}, {"seed": seed, "torch": torch.__version__})
    write_safetensors(base + ".io.safetensors", {"pixel_values": pixels, "logits": logits}, {"computed_in": "float32", "torch": torch.__version__})
    # Written last: a complete NAME.onnx means the whole set is there.
    write_onnx(
        base,
        lambda path: torch.onnx.export(
            model,
            (pixels,),
            path,
            input_names=["pixel_values"],
            output_names=["logits"],
            opset_version=OPSET,
            do_constant_folding=True,
            # torch 2.9+ defaults to the dynamo exporter; the TorchScript one writes opset 14 as before.
            **({"dynamo": False} if "dynamo" in torch.onnx.export.__code__.co_varnames else {}),
        ),
        int8,
    )
    params = sum(p.numel() for p in model.parameters())
    print(f"{name}: {params / 1e6:.1f} M parameters -> {base}.{{onnx,safetensors,json,io.safetensors}}")


def main():
    ap = argparse.ArgumentParser(description="Export the benchmark ViTs to ONNX and safetensors with seeded random weights.")
    ap.add_argument("names", nargs="*", default=list(PRESETS), help=f"models to export (default all: {', '.join(PRESETS)})")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", ".models"), help="output folder (default bench/.models)")
    ap.add_argument("--seed", type=int, default=7, help="weight seed (default 7)")
    ap.add_argument("--int8", action="store_true", help="also NAME.int8.onnx: onnxruntime.quantization.quantize_dynamic of NAME.onnx (needs onnxruntime)")
    args = ap.parse_args()
    for n in args.names:
        if n not in PRESETS:
            ap.error(f"unknown model '{n}' (expected one of {', '.join(PRESETS)})")
    os.makedirs(args.out, exist_ok=True)
    for n in args.names:
        export(n, args.out, args.seed, args.int8)


if __name__ == "__main__":
    main()
