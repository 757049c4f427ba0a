"""Trains a small torchvision VisionTransformer on Fashion-MNIST and writes
packages/models/trained/vit-fashion-mnist.{json,safetensors} (config and
weights) and vit-fashion-mnist.pytorch.safetensors (PyTorch's own logits and
predictions on the 10,000 test images), plus the bundled sample of the first
1,000 test images (fashion-mnist-sample.safetensors).

Images are grey; torchvision's conv_proj takes 3 channels, so the model is
torchvision's constructor unchanged and the grey channel is replicated to 3:
pixel_values[b, c] = pixels[b] / 255 for c = 0, 1, 2. The config JSON is
exactly torchvision's arguments.

    /usr/bin/python3 tools/train_vit.py [--epochs 4]     (needs dataset-fashion-mnist)
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import TRAINED, fashion_mnist, write_json, write_safetensors  # noqa: E402

CONFIG = {
    "model": "vit",
    "image_size": 28,
    "patch_size": 7,
    "num_layers": 4,
    "num_heads": 4,
    "hidden_dim": 64,
    "mlp_dim": 128,
    "num_classes": 10,
    "naming": "torchvision",
    "layer_norm_eps": 1e-6,
}
LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
SAMPLE = 1000


def pixel_values(u8):
    """uint8 [N, 28, 28] -> float32 [N, 3, 28, 28]: /255, grey replicated to 3 channels."""
    x = torch.from_numpy(np.array(u8)).float() / 255  # a writable copy
    return x.unsqueeze(1).expand(-1, 3, -1, -1).contiguous()


def build():
    c = CONFIG
    return torchvision.models.VisionTransformer(
        image_size=c["image_size"], patch_size=c["patch_size"], num_layers=c["num_layers"], num_heads=c["num_heads"],
        hidden_dim=c["hidden_dim"], mlp_dim=c["mlp_dim"], num_classes=c["num_classes"],
    )


@torch.no_grad()
def evaluate(model, images, batch=1000):
    model.eval()
    return torch.cat([model(pixel_values(images[i : i + batch])) for i in range(0, len(images), batch)])


def export(model, test_x, test_y, epochs):
    """Writes the config, the weights, PyTorch's test results and the bundled sample."""
    logits = evaluate(model, test_x)
    pred = logits.argmax(1).numpy().astype(np.uint8)
    acc = float((pred == test_y).mean())
    print(f"final test accuracy {acc:.4f} ({int((pred == test_y).sum())}/{len(test_y)})")
    name = os.path.join(TRAINED, "vit-fashion-mnist")
    write_json(name + ".json", {**CONFIG, "labels": LABELS, "input": "pixel_values = pixels / 255 with the grey channel replicated to 3 channels"})
    write_safetensors(name + ".safetensors", model.state_dict(), {"format": "pt", "trained_by": "tools/train_vit.py"})
    write_safetensors(
        name + ".pytorch.safetensors",
        {"logits": logits.float(), "predictions": pred},
        {"accuracy": f"{acc:.6f}", "correct": str(int((pred == test_y).sum())), "images": str(len(test_y)), "torch": torch.__version__, "epochs": str(epochs)},
    )
    write_safetensors(
        os.path.join(TRAINED, "fashion-mnist-sample.safetensors"),
        {"images": test_x[:SAMPLE], "labels": test_y[:SAMPLE]},
        {"source": "Fashion-MNIST t10k, the first 1000 images", "license": "MIT (Zalando Research)"},
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (on a busy 2-core machine one thread wastes least)")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    train_x, train_y = fashion_mnist("train")
    test_x, test_y = fashion_mnist("t10k")
    model = build()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.05)
    steps = args.epochs * math.ceil(len(train_x) / args.batch)
    warm = 200
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / steps))))
    labels = torch.from_numpy(train_y.astype(np.int64))
    t0 = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(train_x))
        total = 0.0
        for i in range(0, len(perm), args.batch):
            idx = perm[i : i + args.batch]
            x = pixel_values(train_x[idx.numpy()])
            flip = torch.rand(len(idx)) < 0.5  # horizontal flips: clothes are roughly symmetric
            x[flip] = x[flip].flip(-1)
            loss = torch.nn.functional.cross_entropy(model(x), labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        acc = (evaluate(model, test_x).argmax(1).numpy() == test_y).mean()
        print(f"epoch {epoch + 1}/{args.epochs}: loss {total / len(train_x):.4f}, test accuracy {acc:.4f}, {time.time() - t0:.0f} s", flush=True)

    export(model, test_x, test_y, args.epochs)


if __name__ == "__main__":
    main()
