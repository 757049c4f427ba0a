"""Exports the benchmark Transformer (tools/seq2seq.py's nn.Transformer
seq2seq, which packages/models/src/transformer mirrors) with seeded random
weights, so that every runtime of bench/transformer.ts runs the same function:

    NAME.onnx               the model for onnxruntime (TorchScript exporter, opset 17): inputs src [1, S] and
                            tgt [1, T] (int64), output logits [1, T, tgt_vocab]
    NAME.safetensors        the same weights as a state_dict (F32)
    NAME.json               the Tessera model config (`tessera bench --config`)
    NAME.io.safetensors     the seeded src and tgt (I64), PyTorch's float64 logits (stored as F32) and its greedy
                            output `generated` [1, 1 + T] (bos, then T tokens)
    NAME.int8.onnx          with --int8: onnxruntime's quantize_dynamic of NAME.onnx (QInt8 weights)

The model is the base model of "Attention Is All You Need" (d_model 512, 8
heads, feed-forward 2048, 6 encoder and 6 decoder layers; post-norm, as
nn.Transformer's default) with 8000-token source and target vocabularies:
56 M parameters (225 MB as F32). The files are not committed: bench/transformer.ts
runs this script when they are missing and writes them under bench/.models
(git-ignored).

    /work/pyenv/bin/python tools/export_transformer_onnx.py [--out DIR] [--seed N] [--int8]
"""
import argparse
import math
import os
import sys
import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ROOT, write_json, write_onnx, write_safetensors  # noqa: E402
from seq2seq import Seq2SeqTransformer  # noqa: E402

NAME = "transformer-base"
# Vaswani et al. 2017, table 3 "base"; the vocabularies are ours (theirs was a shared 37000-token BPE).
CONFIG = {
    "model": "transformer",
    "d_model": 512,
    "nhead": 8,
    "num_encoder_layers": 6,
    "num_decoder_layers": 6,
    "dim_feedforward": 2048,
    "src_vocab": 8000,
    "tgt_vocab": 8000,
    "pad_id": 0,
    "bos_id": 1,
    "eos_id": 2,
    "layer_norm_eps": 1e-5,
}
# Source and target lengths of the benchmarked forward pass (batch 1); bench/transformer.ts reads them from the io file.
SRC_LEN = 32
TGT_LEN = 32
OPSET = 17


def build(seed):
    """The seq2seq Transformer with seeded weights: nn.Transformer's own init (Xavier), embeddings at the paper's
    scale, and every vector (biases, LayerNorms) moved off its 0 or 1, which would hide a dropped bias or scale."""
    torch.manual_seed(seed)
    model = Seq2SeqTransformer(CONFIG).eval()
    g = torch.Generator().manual_seed(seed + 1)
    d = CONFIG["d_model"]
    with torch.no_grad():
        # N(0, 1/d): after the sqrt(d) scaling the embeddings are of the size of the position encodings.
        for table in (model.src_embed, model.tgt_embed):
            table.weight.copy_(torch.randn(table.weight.shape, generator=g) / math.sqrt(d))
        for p in model.parameters():
            if p.dim() == 1:
                p.add_(torch.randn(p.shape, generator=g) * 0.02)
    return model


def tokens(seed):
    """A full source of ordinary tokens (no padding: the same work in every runtime) and a target starting with bos."""
    g = torch.Generator().manual_seed(seed + 2)
    first = max(CONFIG["pad_id"], CONFIG["bos_id"], CONFIG["eos_id"]) + 1
    src = torch.randint(first, CONFIG["src_vocab"], (1, SRC_LEN), generator=g)
    tgt = torch.randint(first, CONFIG["tgt_vocab"], (1, TGT_LEN), generator=g)
    tgt[:, 0] = CONFIG["bos_id"]
    return src, tgt


def export(out, seed, int8):
    model = build(seed)
    src, tgt = tokens(seed)
    base = os.path.join(out, NAME)
    state = {k: v.float() for k, v in model.state_dict().items()}
    # float64, with gradients on: under no_grad nn.Transformer takes its fused inference path.
    m64 = Seq2SeqTransformer(CONFIG).double().eval()
    m64.load_state_dict({k: v.double() for k, v in state.items()})
    with torch.enable_grad():
        logits = m64(src, tgt).detach()
        generated = m64.generate(src, TGT_LEN).detach()
    del m64
    # The benchmark times a fixed number of generated tokens: a row that emitted eos would stop early.
    if (generated[:, 1:] == CONFIG["eos_id"]).any():
        raise SystemExit(f"seed {seed}: greedy decoding emits eos within {TGT_LEN} tokens; choose another --seed")
    write_json(base + ".json", CONFIG)
    write_safetensors(base + ".safetensors", state, {"seed": seed, "torch": torch.__version__})
    write_safetensors(
        base + ".io.safetensors",
        {"src": src, "tgt": tgt, "logits": logits.float(), "generated": generated},
        {"computed_in": "float64", "torch": torch.__version__},
    )
    # Written last: a complete NAME.onnx means the whole set is there. Not under no_grad (nn.Transformer's fused
    # inference path has no ONNX export); the TorchScript exporter, as tools/make_onnx_fixtures.py uses for this model.
    def onnx_export(path):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (src, tgt), path, dynamo=False, opset_version=OPSET, input_names=["src", "tgt"], output_names=["logits"], do_constant_folding=True)

    write_onnx(base, onnx_export, int8)
    params = sum(p.numel() for p in model.parameters())
    print(f"{NAME}: {params / 1e6:.1f} M parameters, src {SRC_LEN} and tgt {TGT_LEN} tokens -> {base}.{{onnx,safetensors,json,io.safetensors{',int8.onnx' if int8 else ''}}}")


def main():
    ap = argparse.ArgumentParser(description="Export the benchmark Transformer (the base model) to ONNX and safetensors with seeded random weights.")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", ".models"), help="output folder (default bench/.models)")
    ap.add_argument("--seed", type=int, default=7, help="weight seed (default 7)")
    ap.add_argument("--int8", action="store_true", help="also NAME.int8.onnx: onnxruntime.quantization.quantize_dynamic of NAME.onnx (needs onnxruntime)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    export(args.out, args.seed, args.int8)


if __name__ == "__main__":
    main()
