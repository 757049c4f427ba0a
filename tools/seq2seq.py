"""The sequence-to-sequence Transformer the TypeScript model mirrors: a
PyTorch module with children src_embed (nn.Embedding), tgt_embed
(nn.Embedding), transformer (nn.Transformer, batch_first=True) and generator
(nn.Linear). Embeddings are scaled by sqrt(d_model) and get sinusoidal
position encodings (sin on even, cos on odd dimensions, 10000^(2i/d)); source
keys equal to pad_id are masked out of encoder self-attention and
cross-attention; decoder self-attention is causal.
"""
import math

import torch
from torch import nn


def sinusoidal(t, d, dtype):
    """[t, d]: pe[p, 2i] = sin(p / 10000^(2i/d)), pe[p, 2i+1] = cos(p / 10000^(2i/d)), computed in float64."""
    pos = torch.arange(t, dtype=torch.float64).unsqueeze(1)
    rate = torch.exp(torch.arange(0, d, 2, dtype=torch.float64) * (-math.log(10000.0) / d))
    pe = torch.zeros(t, d, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(pos * rate)
    pe[:, 1::2] = torch.cos(pos * rate)
    return pe.to(dtype)


class Seq2SeqTransformer(nn.Module):
    def __init__(self, c, dropout=0.0):
        super().__init__()
        self.c = c
        self.src_embed = nn.Embedding(c["src_vocab"], c["d_model"])
        self.tgt_embed = nn.Embedding(c["tgt_vocab"], c["d_model"])
        self.transformer = nn.Transformer(
            d_model=c["d_model"], nhead=c["nhead"], num_encoder_layers=c["num_encoder_layers"],
            num_decoder_layers=c["num_decoder_layers"], dim_feedforward=c["dim_feedforward"], dropout=dropout,
            batch_first=True, layer_norm_eps=c.get("layer_norm_eps", 1e-5),
        )
        self.generator = nn.Linear(c["d_model"], c["tgt_vocab"])

    def embed(self, table, tokens):
        d = self.c["d_model"]
        x = table(tokens)
        return x * math.sqrt(d) + sinusoidal(tokens.shape[1], d, x.dtype)

    def forward(self, src, tgt):
        """Logits [B, T, tgt_vocab] of src [B, S] and tgt [B, T] (int64)."""
        pad = src == self.c["pad_id"]
        t = tgt.shape[1]
        causal = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)  # True = masked out
        y = self.transformer(
            self.embed(self.src_embed, src), self.embed(self.tgt_embed, tgt), tgt_mask=causal,
            src_key_padding_mask=pad, memory_key_padding_mask=pad,
        )
        return self.generator(y)

    def generate(self, src, max_new_tokens):
        """Greedy decoding by full recomputation: [B, 1 + N] starting with bos_id; after eos_id a row continues with pad_id.

        Callers choose torch.no_grad(): with gradients enabled PyTorch skips its
        inference fast path (nested tensors), so fixtures see the plain math.
        """
        c = self.c
        out = torch.full((src.shape[0], 1), c["bos_id"], dtype=torch.long)
        done = torch.zeros(src.shape[0], dtype=torch.bool)
        for _ in range(max_new_tokens):
            nxt = self.forward(src, out)[:, -1].argmax(-1)
            nxt = torch.where(done, torch.full_like(nxt, c["pad_id"]), nxt)
            done |= nxt == c["eos_id"]
            out = torch.cat([out, nxt.unsqueeze(1)], 1)
        return out
