"""Makes the Hugging Face fixtures under packages/models/fixtures/hf: small
random-weight transformers models of deliberately odd sizes (seeded), saved
with save_pretrained exactly as transformers writes them (one sharded on
purpose with a tiny max_shard_size), and their outputs computed by PyTorch
in float64 (model.double()) from the stored float32 weights and inputs.

For each fixture NAME: NAME/ (config.json, model.safetensors or the shards
with model.safetensors.index.json, generation_config.json where
transformers writes one) and NAME.io.safetensors (the inputs with
Hugging Face's names, and the outputs, F32 rounded from float64; for
GPT-2 also `prompt` and `generated`, transformers' greedy generate in
float64).

    /work/pyenv/bin/python tools/make_hf_fixtures.py

(torch 2.13, transformers 5.x, safetensors.)
"""
import os
import shutil
import sys

import torch
import transformers
from safetensors.torch import save_file
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    BertModel,
    GPT2Config,
    GPT2LMHeadModel,
    GPT2Model,
    ViTConfig,
    ViTForImageClassification,
    ViTModel,
)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import MODELS  # noqa: E402

OUT = os.path.join(MODELS, "fixtures", "hf")


def perturb(model, g):
    """Moves every parameter off its initial value (LayerNorm ones and zeros, zero biases hide bugs)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            scale = 0.5 if p.dim() == 1 or "token" in name or "position" in name else 0.2
            p.add_(torch.randn(p.shape, generator=g) * scale)


def save(name, model, io, meta=None, shard=None):
    """save_pretrained into OUT/NAME (a tiny max_shard_size makes shards), and the inputs/outputs beside it."""
    folder = os.path.join(OUT, name)
    shutil.rmtree(folder, ignore_errors=True)
    kwargs = {"max_shard_size": shard} if shard else {}
    model.float().save_pretrained(folder, **kwargs)
    if meta is not None:
        meta.pop("tokenizer").save_pretrained(folder)
    meta = {**(meta or {}), "computed_in": "float64", "torch": torch.__version__, "transformers": transformers.__version__}
    save_file({k: v.contiguous() for k, v in io.items()}, os.path.join(OUT, name + ".io.safetensors"), meta)


def f32(t):
    return t.detach().float()


def vit_classifier(g):
    # 15/5 = 3x3 patches + the class token = 10 tokens; 5 heads of 4; 3 labels.
    c = ViTConfig(hidden_size=20, num_hidden_layers=2, num_attention_heads=5, intermediate_size=36, image_size=15, patch_size=5, num_labels=3)
    m = ViTForImageClassification(c).eval()
    perturb(m, g)
    px = torch.randn(2, 3, 15, 15, generator=g)
    with torch.no_grad():
        logits = m.double()(pixel_values=px.double()).logits
    save("vit-classifier-10tok-5head", m, {"pixel_values": px, "logits": f32(logits)})


def vit_model(g):
    # Two channels, 12/4 = 3x3 patches + 1 = 10 tokens, 3 heads of 6, no qkv bias, gelu_new, a narrower pooler.
    c = ViTConfig(
        hidden_size=18, num_hidden_layers=1, num_attention_heads=3, intermediate_size=22, image_size=12, patch_size=4, num_channels=2,
        qkv_bias=False, hidden_act="gelu_new", layer_norm_eps=1e-6, pooler_output_size=7,
    )
    m = ViTModel(c).eval()
    perturb(m, g)
    px = torch.randn(3, 2, 12, 12, generator=g)
    with torch.no_grad():
        out = m.double()(pixel_values=px.double())
    save("vit-model-pooler7-noqkvbias", m, {"pixel_values": px, "last_hidden_state": f32(out.last_hidden_state), "pooler_output": f32(out.pooler_output)})


def token_batch(g, vocab, lengths, t, types=1):
    """Token ids [B, t] with rows of `lengths` real tokens (padded with 0), the attention mask and token types."""
    ids = torch.randint(1, vocab, (len(lengths), t), generator=g)
    mask = torch.zeros(len(lengths), t, dtype=torch.long)
    for r, n in enumerate(lengths):
        mask[r, :n] = 1
        ids[r, n:] = 0
    token_types = torch.randint(0, types, (len(lengths), t), generator=g) * mask
    return ids, mask, token_types


def bert_classifier(g):
    # vocab 53, 3 heads of 7, 4 labels, 3 token types; rows of 9, 5 and 2 real tokens (two padded rows).
    c = BertConfig(vocab_size=53, hidden_size=21, num_hidden_layers=2, num_attention_heads=3, intermediate_size=29, max_position_embeddings=19, type_vocab_size=3, num_labels=4)
    m = BertForSequenceClassification(c).eval()
    perturb(m, g)
    ids, mask, types = token_batch(g, 53, [9, 5, 2], 9, types=3)
    with torch.no_grad():
        logits = m.double()(input_ids=ids, attention_mask=mask, token_type_ids=types).logits
    save("bert-classifier-3head-padded", m, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types, "logits": f32(logits)})


def bert_model(g):
    # relu, 4 heads of 4, LayerNorm eps 1e-5, a padded row; sharded into several files on purpose.
    c = BertConfig(vocab_size=31, hidden_size=16, num_hidden_layers=2, num_attention_heads=4, intermediate_size=23, max_position_embeddings=13, type_vocab_size=2, hidden_act="relu", layer_norm_eps=1e-5)
    m = BertModel(c).eval()
    perturb(m, g)
    ids, mask, types = token_batch(g, 31, [7, 3], 7, types=2)
    with torch.no_grad():
        out = m.double()(input_ids=ids, attention_mask=mask, token_type_ids=types)
    io = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types, "last_hidden_state": f32(out.last_hidden_state), "pooler_output": f32(out.pooler_output)}
    save("bert-model-relu-sharded", m, io, shard="4KB")


WORDS = "the a cat dog sat on mat and ran far to see sun moon star sky red blue old new big small one two three four five six seven eight nine ten up down in out over under near by with from but or not yes no hi ok go come went is was be are".split()


def word_tokenizer(vocab, name, generated):
    """A word-level tokenizer of `vocab` words saved beside the model (tokenizer.json, as transformers writes it),
    and transformers' decoding of each generated row, kept in the fixture's metadata."""
    from tokenizers import Tokenizer, models, pre_tokenizers, decoders
    from transformers import PreTrainedTokenizerFast

    words = (WORDS + [f"w{i}" for i in range(vocab)])[: vocab - 1] + ["<|endoftext|>"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<|endoftext|>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.decoder = decoders.WordPiece(prefix="##")
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>")
    texts = {f"text_{r}": fast.decode(row.tolist()) for r, row in enumerate(generated)}
    return {"tokenizer": fast, **texts}


def greedy_margin(m, generated):
    """The smallest gap between the best and second-best logit along the greedy path (near-ties would make argmax fragile)."""
    with torch.no_grad():
        top = m(input_ids=generated[:, :-1]).logits.topk(2, dim=-1).values
    return (top[..., 0] - top[..., 1]).min().item()


def gpt2_lm(g):
    # vocab 61, 3 heads of 6, 2 blocks, 24 positions, tied lm_head; prompts of 5 tokens, 8 new ones.
    # Weights are drawn again (deterministically) until the greedy path has no near-tie, which would make argmax fragile in f32.
    for attempt in range(50):
        c = GPT2Config(vocab_size=61, n_embd=18, n_layer=2, n_head=3, n_positions=24, bos_token_id=60, eos_token_id=60)
        m = GPT2LMHeadModel(c).eval()
        perturb(m, g)
        ids = torch.randint(0, 60, (2, 7), generator=g)
        prompt = torch.randint(0, 60, (3, 5), generator=g)
        m = m.double()
        with torch.no_grad():
            logits = m(input_ids=ids).logits
            generated = m.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=8, do_sample=False, pad_token_id=60)
        margin = greedy_margin(m, generated)
        print(f"gpt2 greedy (attempt {attempt}): smallest top-2 logit gap {margin:.3g}; generated {generated.tolist()}")
        if margin > 1e-2:
            break
    else:
        raise RuntimeError("no draw without a near-tie on the greedy path")
    save("gpt2-lm-tied-61vocab", m, {"input_ids": ids, "logits": f32(logits), "prompt": prompt, "generated": generated}, word_tokenizer(61, "gpt2-lm-tied-61vocab", generated))


def gpt2_model(g):
    # GPT2Model (no prefix), relu, an explicit n_inner, attention scaled by 1 / (layer + 1) as well.
    c = GPT2Config(vocab_size=29, n_embd=12, n_layer=2, n_head=2, n_positions=11, n_inner=20, activation_function="relu", scale_attn_by_inverse_layer_idx=True, layer_norm_epsilon=1e-4)
    m = GPT2Model(c).eval()
    perturb(m, g)
    ids = torch.randint(0, 29, (2, 11), generator=g)
    with torch.no_grad():
        out = m.double()(input_ids=ids)
    save("gpt2-model-relu-invscale", m, {"input_ids": ids, "last_hidden_state": f32(out.last_hidden_state)})


# (temperature, top_k, top_p) settings of the sampling fixture: each warper alone, and all three together.
WARPS = [(0.7, 0, 1.0), (1.0, 5, 1.0), (1.0, 0, 0.8), (1.3, 7, 0.6), (1.0, 3, 0.5), (0.5, 50, 0.9)]


def sampling(g):
    """transformers' own warpers (in generate's order: temperature, top-k, top-p) on logit rows, some with ties."""
    from transformers.generation.logits_process import LogitsProcessorList, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

    logits = torch.randn(4, 23, generator=g, dtype=torch.float64) * 2
    logits[1] = (logits[1] * 2).round() / 2  # ties between candidates
    logits[2, :5] = logits[2].max()  # a tie at the top
    io = {"logits": logits.float()}
    for i, (t, k, p) in enumerate(WARPS):
        warpers = LogitsProcessorList()
        if t != 1.0:
            warpers.append(TemperatureLogitsWarper(t))
        if k != 0:
            warpers.append(TopKLogitsWarper(top_k=k))
        if p < 1.0:
            warpers.append(TopPLogitsWarper(top_p=p))
        io[f"warped_{i}"] = warpers(None, logits.float().double()).float()
        io[f"setting_{i}"] = torch.tensor([t, k, p], dtype=torch.float32)
    save_file(io, os.path.join(OUT, "sampling.io.safetensors"), {"computed_in": "float64", "transformers": transformers.__version__})


def main():
    os.makedirs(OUT, exist_ok=True)
    sampling(torch.Generator().manual_seed(999))
    for i, make in enumerate([vit_classifier, vit_model, bert_classifier, bert_model, gpt2_lm, gpt2_model]):
        # transformers initialises weights from torch's global generator: seed it too, so the fixtures are regenerable.
        torch.manual_seed(2000 + i)
        make(torch.Generator().manual_seed(1000 + i))


if __name__ == "__main__":
    main()
