"""Makes the PyTorch fixtures under packages/models/fixtures: random-weight
ViTs (torchvision's VisionTransformer; timm's names by renaming its
state_dict, since timm's ViT computes the same function) and Transformers
(tools/seq2seq.py) of deliberately odd sizes, with PyTorch's outputs
computed in float64 from the stored float32 weights and inputs.

For each fixture NAME: NAME.json (the model config, plus a "fixture" entry
describing the inputs), NAME.safetensors (the state_dict, F32) and
NAME.io.safetensors (inputs and PyTorch's outputs).

    /usr/bin/python3 tools/make_fixtures.py
"""
import os
import sys

import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import FIXTURES, timm_name, write_json, write_safetensors  # noqa: E402
from seq2seq import Seq2SeqTransformer  # noqa: E402

VITS = {
    # 24/4 = 6x6 patches + the class token = 37 tokens; 3 heads of 8.
    "vit-torchvision-37tok-3head": dict(image_size=24, patch_size=4, num_layers=2, num_heads=3, hidden_dim=24, mlp_dim=40, num_classes=7, batch=2, naming="torchvision"),
    # 15/5 = 3x3 patches + 1 = 10 tokens; 5 heads of 4; one layer; timm names.
    "vit-timm-10tok-5head": dict(image_size=15, patch_size=5, num_layers=1, num_heads=5, hidden_dim=20, mlp_dim=36, num_classes=3, batch=3, naming="timm"),
}
TRANSFORMERS = {
    # vocabularies 41/37, 3 heads, rows of source lengths 11, 6 and 1 (padded).
    "transformer-vocab41-3head": dict(
        config=dict(d_model=18, nhead=3, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=29, src_vocab=41, tgt_vocab=37, pad_id=0, bos_id=1, eos_id=2),
        src_lengths=[11, 6, 1], tgt_len=7, max_new_tokens=6,
    ),
    # one head, one encoder and three decoder layers, a non-zero pad id, targets longer than sources, LayerNorm eps 1e-3.
    "transformer-1head-pad3": dict(
        config=dict(d_model=8, nhead=1, num_encoder_layers=1, num_decoder_layers=3, dim_feedforward=5, src_vocab=11, tgt_vocab=13, pad_id=3, bos_id=4, eos_id=5, layer_norm_eps=1e-3),
        src_lengths=[5, 2], tgt_len=9, max_new_tokens=8,
    ),
}


def perturb(model, g):
    """Moves every parameter off its initial value (LayerNorm ones and zeros, zero biases hide bugs)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            scale = 0.5 if p.dim() == 1 or "token" in name or "pos" in name else 0.1
            p.add_(torch.randn(p.shape, generator=g) * scale)


def make_vit(name, spec, g):
    keys = ["image_size", "patch_size", "num_layers", "num_heads", "hidden_dim", "mlp_dim", "num_classes"]
    config = {"model": "vit", **{k: spec[k] for k in keys}, "naming": spec["naming"], "layer_norm_eps": 1e-6}
    model = torchvision.models.VisionTransformer(**{k: spec[k] for k in keys}).eval()
    perturb(model, g)
    s = spec["image_size"]
    pixels = torch.randn((spec["batch"], 3, s, s), generator=g)
    state = {k: v.float() for k, v in model.state_dict().items()}
    with torch.enable_grad():
        logits = model.double()(pixels.double()).detach()
    if spec["naming"] == "timm":
        state = {timm_name(k): v for k, v in state.items()}
    write_json(os.path.join(FIXTURES, name + ".json"), {**config, "fixture": {"batch": spec["batch"]}})
    write_safetensors(os.path.join(FIXTURES, name + ".safetensors"), state)
    write_safetensors(os.path.join(FIXTURES, name + ".io.safetensors"), {"pixel_values": pixels, "logits": logits.float()}, {"computed_in": "float64", "torch": torch.__version__})


def greedy_margin(model, src, generated):
    """The smallest gap between the best and second-best logit along the greedy path (near-ties would make argmax fragile)."""
    logits = model(src, generated[:, :-1])
    top = logits.topk(2, dim=-1).values
    return (top[..., 0] - top[..., 1]).min().item()


def eos_bias_shift(model, src, n):
    """Raises the generator's eos bias in small steps until some row ends early, so generation's
    pad-after-eos rule is exercised; deterministic, so the fixture is regenerable."""
    c = model.c
    for _ in range(200):
        with torch.enable_grad():
            gen = model.double().generate(src, n).detach()
            margin = greedy_margin(model, src, gen)
        model.float()
        ended = (gen[:, 1:-1] == c["eos_id"]).any(1)
        if ended.any() and margin > 1e-3:
            return
        with torch.no_grad():
            model.generator.bias[c["eos_id"]] += 0.05
    raise RuntimeError("no eos bias gives a row that ends early and one that does not")


def make_transformer(name, spec, g):
    c = {"model": "transformer", **spec["config"]}
    c.setdefault("layer_norm_eps", 1e-5)
    model = Seq2SeqTransformer(c).eval()
    perturb(model, g)
    lengths, t = spec["src_lengths"], spec["tgt_len"]
    b, s = len(lengths), max(lengths)
    special = {c["pad_id"], c["bos_id"], c["eos_id"]}
    # Real tokens avoid the special ids (a pad inside a source would be masked); the padding is pad_id.
    src = torch.full((b, s), c["pad_id"], dtype=torch.long)
    ordinary_src = torch.tensor([i for i in range(c["src_vocab"]) if i not in special])
    for r, n in enumerate(lengths):
        src[r, :n] = ordinary_src[torch.randint(len(ordinary_src), (n,), generator=g)]
    tgt = torch.randint(c["tgt_vocab"], (b, t), generator=g)
    tgt[:, 0] = c["bos_id"]
    eos_bias_shift(model, src, spec["max_new_tokens"])
    state = {k: v.float() for k, v in model.state_dict().items()}
    model = model.double()
    with torch.enable_grad():
        logits = model(src, tgt).detach()
        generated = model.generate(src, spec["max_new_tokens"]).detach()
    write_json(os.path.join(FIXTURES, name + ".json"), {**c, "fixture": {"batch": b, "src_len": s, "tgt_len": t, "max_new_tokens": spec["max_new_tokens"]}})
    write_safetensors(os.path.join(FIXTURES, name + ".safetensors"), state)
    write_safetensors(
        os.path.join(FIXTURES, name + ".io.safetensors"),
        {"src": src, "tgt": tgt, "logits": logits.float(), "generated": generated},
        {"computed_in": "float64", "torch": torch.__version__},
    )


def main():
    torch.manual_seed(2024)  # module initialisation draws from the global generator
    g = torch.Generator().manual_seed(2024)
    torch.set_num_threads(1)
    for name, spec in VITS.items():
        make_vit(name, spec, g)
        print("wrote", name)
    for name, spec in TRANSFORMERS.items():
        make_transformer(name, spec, g)
        print("wrote", name)


if __name__ == "__main__":
    main()
