"""Exports the trained Fashion-MNIST ViT (packages/models/trained/vit-fashion-mnist.*,
torchvision names) to ONNX with the TorchScript exporter, its batch a symbolic
dimension: packages/models/trained/vit-fashion-mnist.onnx, which `pnpm demo`
imports with @tessera/onnx and runs next to the DSL model.

    /work/pyenv/bin/python tools/export_trained_vit_onnx.py
"""
import json
import os
import sys
import warnings

import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torchvision_vit import VisionTransformer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAINED = os.path.join(ROOT, "packages", "models", "trained")


def main():
    c = json.load(open(os.path.join(TRAINED, "vit-fashion-mnist.json")))
    m = VisionTransformer(c["image_size"], c["patch_size"], c["num_layers"], c["num_heads"], c["hidden_dim"], c["mlp_dim"], c["num_classes"])
    m.load_state_dict(load_file(os.path.join(TRAINED, "vit-fashion-mnist.safetensors")))
    m.eval()
    x = torch.zeros(1, 3, c["image_size"], c["image_size"])
    out = os.path.join(TRAINED, "vit-fashion-mnist.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(m, (x,), out, dynamo=False, opset_version=17, input_names=["pixel_values"], output_names=["logits"],
                          dynamic_axes={"pixel_values": {0: "batch"}, "logits": {0: "batch"}})
    print(f"wrote {out} ({os.path.getsize(out) // 1000} KB)")


if __name__ == "__main__":
    main()
