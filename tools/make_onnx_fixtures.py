"""Exports small random-weight models to ONNX with both of PyTorch's
exporters, for @tessera/onnx's tests (packages/onnx/fixtures, committed):

    NAME.torchscript.onnx   torch.onnx.export(..., dynamo=False), opset 17 (torchvision-vit-opset14: 14, whose
                            layer norms are decomposed; this one has no dynamo export)
    NAME.dynamo.onnx        torch.onnx.export(..., dynamo=True), opset 18
    NAME.io.safetensors     the inputs (by ONNX input name), PyTorch's float64 outputs
                            (`expected.OUTPUT`, stored as float32) and onnxruntime's outputs of each file
                            (`ort.torchscript.OUTPUT`, `ort.dynamo.OUTPUT`)

Models (odd sizes, seeded random weights): torchvision's VisionTransformer
(tools/torchvision_vit.py: no torchvision build matches this torch), the nn.Transformer
seq2seq of tools/seq2seq.py, and Hugging Face's ViTForImageClassification,
BertForSequenceClassification (a padded row in attention_mask) and
GPT2LMHeadModel built from small configs, and a small conv net with the vision ops around
convolutions (ConvNet below).

    /work/pyenv/bin/python tools/make_onnx_fixtures.py [NAME ...]
    /work/pyenv/bin/python tools/make_onnx_fixtures.py --vit-b16 OUT.onnx   # ViT-B/16 for bench/onnx-vit.ts (not committed)
"""
import copy
import io
import os
import sys
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import torch
from safetensors.numpy import save_file
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seq2seq import Seq2SeqTransformer  # noqa: E402
from torchvision_vit import VisionTransformer, randomize  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "packages", "onnx", "fixtures")


class Logits(nn.Module):
    """A Hugging Face model returning its logits tensor (the ONNX graph's one output)."""

    def __init__(self, model, names):
        super().__init__()
        self.model = model
        self.names = names

    def forward(self, *args):
        return self.model(**dict(zip(self.names, args))).logits


def torchvision_vit():
    torch.manual_seed(1)
    m = randomize(VisionTransformer(image_size=20, patch_size=5, num_layers=2, num_heads=3, hidden_dim=24, mlp_dim=37, num_classes=7), 1)
    x = torch.randn(2, 3, 20, 20)
    return m, (x,), ["pixel_values"], ["logits"], 17


class ExportableSeq2Seq(Seq2SeqTransformer):
    """tools/seq2seq.py's model with its causal mask declared (tgt_is_causal): torch.export cannot compare a mask's values."""

    def forward(self, src, tgt):
        pad = src == self.c["pad_id"]
        t = tgt.shape[1]
        causal = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
        y = self.transformer(
            self.embed(self.src_embed, src), self.embed(self.tgt_embed, tgt), tgt_mask=causal, tgt_is_causal=True,
            src_key_padding_mask=pad, memory_key_padding_mask=pad,
        )
        return self.generator(y)


def seq2seq():
    torch.manual_seed(2)
    c = {"src_vocab": 29, "tgt_vocab": 31, "d_model": 24, "nhead": 3, "num_encoder_layers": 2, "num_decoder_layers": 2,
         "dim_feedforward": 37, "pad_id": 0}
    m = randomize(ExportableSeq2Seq(c), 2)
    src = torch.tensor([[5, 9, 3, 17, 2, 8, 11], [4, 21, 6, 13, 0, 0, 0]], dtype=torch.int64)
    tgt = torch.tensor([[1, 7, 12, 3, 25], [1, 30, 2, 9, 14]], dtype=torch.int64)
    return m, (src, tgt), ["src", "tgt"], ["logits"], 17


def hf_vit():
    from transformers import ViTConfig, ViTForImageClassification

    torch.manual_seed(3)
    cfg = ViTConfig(hidden_size=24, num_hidden_layers=2, num_attention_heads=3, intermediate_size=37, image_size=20,
                    patch_size=5, num_labels=7, attn_implementation="eager")
    m = Logits(randomize(ViTForImageClassification(cfg), 3), ["pixel_values"])
    x = torch.randn(2, 3, 20, 20)
    return m, (x,), ["pixel_values"], ["logits"], 17


def hf_bert():
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(4)
    cfg = BertConfig(vocab_size=53, hidden_size=24, num_hidden_layers=2, num_attention_heads=3, intermediate_size=37,
                     max_position_embeddings=32, num_labels=3, attn_implementation="eager")
    m = Logits(randomize(BertForSequenceClassification(cfg), 4), ["input_ids", "attention_mask", "token_type_ids"])
    ids = torch.tensor([[2, 17, 33, 8, 41, 5, 3], [2, 9, 12, 3, 0, 0, 0]], dtype=torch.int64)
    mask = torch.tensor([[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0, 0]], dtype=torch.int64)
    types = torch.tensor([[0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 0, 0, 0, 0]], dtype=torch.int64)
    return m, (ids, mask, types), ["input_ids", "attention_mask", "token_type_ids"], ["logits"], 17


def hf_gpt2():
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(5)
    cfg = GPT2Config(vocab_size=61, n_positions=32, n_embd=24, n_layer=2, n_head=3, use_cache=False, attn_implementation="eager")
    m = Logits(randomize(GPT2LMHeadModel(cfg), 5), ["input_ids", "attention_mask"])
    ids = torch.tensor([[7, 19, 3, 44, 12, 60], [1, 2, 3, 4, 0, 0]], dtype=torch.int64)
    # The TorchScript exporter cannot export the mask transformers builds without one (aten::diff): a right-padded row.
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]], dtype=torch.int64)
    return m, (ids, mask), ["input_ids", "attention_mask"], ["logits"], 17


class ConvNet(nn.Module):
    """The vision ops around convolutions: group and instance norm, PReLU, max and ceil-mode average pooling,
    a transposed convolution, a bilinear resize and a global average pool; its output is the last feature map
    (flattened) next to the logits."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.gn = nn.GroupNorm(2, 8)
        self.act = nn.PReLU(8)
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.up = nn.ConvTranspose2d(8, 6, 3, stride=2, padding=1, output_padding=1, groups=2)
        self.inorm = nn.InstanceNorm2d(6, affine=True)
        self.avg = nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)
        self.fc = nn.Linear(6, 5)

    def forward(self, x):
        h = self.pool(self.act(self.gn(self.conv(x))))
        h = self.inorm(self.up(h))
        h = self.avg(nn.functional.interpolate(h, size=(11, 13), mode="bilinear", align_corners=False))
        logits = self.fc(nn.functional.adaptive_avg_pool2d(h, 1).flatten(1))
        return torch.cat([h.flatten(1), logits], 1)


def convnet():
    torch.manual_seed(2)
    m = ConvNet()
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    x = torch.randn(2, 3, 17, 19)
    return m, (x,), ["pixel_values"], ["logits"], 17


def torchvision_vit_opset14():
    """The same ViT by the TorchScript exporter at opset 14: LayerNormalization decomposed into its arithmetic."""
    m, args, inputs, outputs, _ = torchvision_vit()
    return m, args, inputs, outputs, 14


MODELS = {
    "torchvision-vit": torchvision_vit,
    "torchvision-vit-opset14": torchvision_vit_opset14,
    "seq2seq": seq2seq,
    "hf-vit": hf_vit,
    "hf-bert": hf_bert,
    "hf-gpt2": hf_gpt2,
    "convnet": convnet,
}


def export(model, args, input_names, output_names, dynamo, opset):
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            prog = torch.onnx.export(model, args, dynamo=True, opset_version=opset, input_names=input_names, output_names=output_names)
            prog.save(os.path.join("/tmp", "tessera-onnx-export.onnx"))
            m = onnx.load(os.path.join("/tmp", "tessera-onnx-export.onnx"))
            # The dynamo exporter annotates every node with its PyTorch stack trace: dropped, to keep the fixtures small.
            for n in m.graph.node:
                n.doc_string = ""
                del n.metadata_props[:]
            for vi in list(m.graph.value_info):
                del vi.metadata_props[:]
            return m.SerializeToString()
        torch.onnx.export(model, args, f, dynamo=False, opset_version=opset, input_names=input_names, output_names=output_names)
    return f.getvalue()


def export_vit_b16(path):
    """ViT-B/16 (torchvision's, random weights, batch 1, 224x224) by the TorchScript exporter, for bench/onnx-vit.ts."""
    m = randomize(VisionTransformer(image_size=224, patch_size=16, num_layers=12, num_heads=12, hidden_dim=768, mlp_dim=3072, num_classes=1000), 16).eval()
    # Not under no_grad: nn.MultiheadAttention would take its fused inference path, which the exporter lacks.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(m, (torch.zeros(1, 3, 224, 224),), path, dynamo=False, opset_version=17, input_names=["pixel_values"], output_names=["logits"])
    print(f"wrote {path} ({os.path.getsize(path) // 1_000_000} MB)")


def main(names):
    os.makedirs(OUT, exist_ok=True)
    for name in names or MODELS:
        model, args, input_names, output_names, ts_opset = MODELS[name]()
        model.eval()
        tensors = {n: a.numpy() for n, a in zip(input_names, args)}
        with torch.no_grad():
            m64 = copy.deepcopy(model).double()
            args64 = tuple(a.double() if a.is_floating_point() else a for a in args)
            expected = m64(*args64)
            # Computed in float64, stored as float32 (as tools/make_fixtures.py does: Tessera's safetensors reader has no F64).
            tensors[f"expected.{output_names[0]}"] = expected.numpy().astype(np.float32)
            kinds = (("torchscript", False, ts_opset),) if name.endswith("-opset14") else (("torchscript", False, ts_opset), ("dynamo", True, 18))
            for kind, dynamo, opset in kinds:
                # nn.Transformer's inference fast path (nested tensors) cannot be exported by torch.export: trace it
                # in training mode, which computes the same function (every dropout is 0).
                model.train(dynamo and name == "seq2seq")
                data = export(model, args, input_names, output_names, dynamo, opset)
                model.eval()
                path = os.path.join(OUT, f"{name}.{kind}.onnx")
                with open(path, "wb") as fh:
                    fh.write(data)
                sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
                feeds = {i.name: tensors[i.name] for i in sess.get_inputs()}
                (out,) = sess.run(None, feeds)
                tensors[f"ort.{kind}.{output_names[0]}"] = out
                diff = np.abs(out.astype(np.float64) - expected.numpy()).max()
                print(f"{name}.{kind}.onnx: {len(data) // 1000} KB, opset {opset}, inputs {[i.name for i in sess.get_inputs()]}, ort vs torch64 max diff {diff:.2e}")
        save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, os.path.join(OUT, f"{name}.io.safetensors"),
                  metadata={"expected_computed_in": "float64", "torch": torch.__version__, "onnxruntime": ort.__version__})


if __name__ == "__main__":
    if sys.argv[1:2] == ["--vit-b16"]:
        export_vit_b16(sys.argv[2])
    else:
        main(sys.argv[1:])
