"""Exports committed Hugging Face fixture folders to ONNX, so a test can run the same weights through both paths.

The folders are packages/models/fixtures/hf/<name> (written by tools/make_hf_fixtures.py). Each is loaded with
transformers' from_pretrained and exported by PyTorch's TorchScript exporter (opset 17), logits only, to
packages/onnx/fixtures/hf-folder-<name>.torchscript.onnx. packages/cli/test/onnx-hf-paths.test.ts then runs
`tessera run --model DIR` and `tessera run --model FILE.onnx` on the folder's inputs and compares them.

    /work/pyenv/bin/python tools/export_hf_folders_onnx.py
"""
from pathlib import Path

import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoModelForImageClassification, AutoModelForSequenceClassification

ROOT = Path(__file__).resolve().parent.parent
HF = ROOT / 'packages/models/fixtures/hf'
OUT = ROOT / 'packages/onnx/fixtures'

FOLDERS = {
    'vit-classifier-10tok-5head': (AutoModelForImageClassification, ['pixel_values']),
    'bert-classifier-3head-padded': (AutoModelForSequenceClassification, ['input_ids', 'attention_mask', 'token_type_ids']),
    # The TorchScript exporter cannot export the causal mask transformers builds without an attention_mask (aten::diff):
    # exported with one, which the test feeds as all ones (what the folder path computes).
    'gpt2-lm-tied-61vocab': (AutoModelForCausalLM, ['input_ids', 'attention_mask']),
}


class Logits(torch.nn.Module):
    """The model with its inputs by name, returning logits alone (what the exporter can name)."""

    def __init__(self, model, names):
        super().__init__()
        self.model, self.names = model, names

    def forward(self, *args):
        kwargs = dict(zip(self.names, args))
        if 'pixel_values' not in kwargs:
            kwargs['use_cache'] = False
        return self.model(**kwargs).logits


def main():
    for name, (auto, inputs) in FOLDERS.items():
        model = auto.from_pretrained(HF / name, attn_implementation='eager').eval()
        io = load_file(HF / f'{name}.io.safetensors')
        args = tuple(io[k] if k in io else torch.ones_like(io['input_ids']) for k in inputs)
        path = OUT / f'hf-folder-{name}.torchscript.onnx'
        with torch.no_grad():
            torch.onnx.export(Logits(model, inputs), args, str(path), input_names=inputs, output_names=['logits'], opset_version=17, dynamo=False)
        print(f'{path.relative_to(ROOT)}: {path.stat().st_size} bytes')


if __name__ == '__main__':
    main()
