"""PyTorch's own int8 for comparison with Tessera's (issue 16):
torch.ao.quantization.quantize_dynamic (nn.Linear -> int8 weights per
tensor, activations quantized dynamically) on the two trained models, and
the agreement of each with the fp32 results committed beside them:
  - the Fashion-MNIST ViT: agreement of its predictions with PyTorch fp32's
    over the 10,000 test images (needs dataset-fashion-mnist), worst |logit diff|;
  - the digit-reversal Transformer: exact match of greedy generation.

torchvision is not needed: tools/torchvision_vit.py rebuilds the ViT with
torchvision's module structure and parameter names, so quantize_dynamic
sees the same nn.Linear modules.

    /work/pyenv/bin/python tools/int8_pytorch_dynamic.py
"""
import json
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import TRAINED, fashion_mnist, read_safetensors  # noqa: E402
from seq2seq import Seq2SeqTransformer  # noqa: E402
from torchvision_vit import Vit  # noqa: E402


def load(model, path):
    state, _ = read_safetensors(path)
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    return model.eval()


@torch.no_grad()
def vit():
    c = json.load(open(os.path.join(TRAINED, "vit-fashion-mnist.json")))
    model = load(Vit(c), os.path.join(TRAINED, "vit-fashion-mnist.safetensors"))
    ref, _ = read_safetensors(os.path.join(TRAINED, "vit-fashion-mnist.pytorch.safetensors"))
    images, _labels = fashion_mnist("t10k")
    x = torch.from_numpy(np.array(images)).float() / 255
    x = x.unsqueeze(1).expand(-1, 3, -1, -1).contiguous()
    q = torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
    for name, m in [("fp32 (rebuilt)", model), ("quantize_dynamic int8", q)]:
        logits = torch.cat([m(x[i : i + 1000]) for i in range(0, len(x), 1000)]).numpy()
        agree = (logits.argmax(1) == ref["predictions"]).mean()
        worst = np.abs(logits - ref["logits"]).max()
        print(f"ViT {name}: agreement with PyTorch fp32 {100 * agree:.2f}% of {len(x)}, worst |logit diff| {worst:.3g}")


@torch.no_grad()
def transformer():
    c = json.load(open(os.path.join(TRAINED, "transformer-reverse.json")))
    model = load(Seq2SeqTransformer(c), os.path.join(TRAINED, "transformer-reverse.safetensors"))
    ref, _ = read_safetensors(os.path.join(TRAINED, "transformer-reverse.pytorch.safetensors"))
    src = torch.from_numpy(ref["src"].astype(np.int64))
    expected = torch.from_numpy(ref["expected"].astype(np.int64))
    q = torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
    for name, m in [("fp32", model), ("quantize_dynamic int8", q)]:
        gen = m.generate(src, expected.shape[1] - 1)
        em = (gen == expected).all(1).float().mean().item()
        print(f"Transformer {name}: exact match {100 * em:.2f}% of {len(src)}")


if __name__ == "__main__":
    vit()
    transformer()
