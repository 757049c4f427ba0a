"""The RNN encoder-decoder with attention the TypeScript model
(packages/models/src/rnn) mirrors: Luong et al. (2015) without input
feeding, as one PyTorch module with children src_embed (nn.Embedding),
encoder (nn.GRU or nn.LSTM, batch_first), tgt_embed (nn.Embedding), decoder
(same cell, batch_first, starting from the encoder's final state), attn (the
score function), combine (nn.Linear(2H, H)) and generator (nn.Linear(H,
tgt_vocab)).

The encoder runs over the whole padded source (no packing): its final state
has read the padding too, and the TypeScript model does the same. Source
positions equal to pad_id are masked out of the attention softmax.

Scores r_i between the decoder state h and encoder state s_i:
  dot       r_i = h . s_i
  general   r_i = h . W s_i                      (attn.W: Linear(H, H, bias=False))
  additive  r_i = v . tanh(W_q h + W_k s_i)      (attn.W_q, attn.W_k: Linear(H, H); attn.v: Linear(H, 1, bias=False))
Then a = softmax(r), c = sum_i a_i s_i, h~ = tanh(combine([c; h])), logits = generator(h~).
"""
import torch
from torch import nn

CELLS = {"gru": nn.GRU, "lstm": nn.LSTM}


class Attention(nn.Module):
    def __init__(self, kind, h):
        super().__init__()
        self.kind = kind
        if kind == "general":
            self.W = nn.Linear(h, h, bias=False)
        elif kind == "additive":
            self.W_q = nn.Linear(h, h)
            self.W_k = nn.Linear(h, h)
            self.v = nn.Linear(h, 1, bias=False)
        elif kind != "dot":
            raise ValueError(f"unknown attention {kind!r}")

    def scores(self, h, s):
        """r [B, T, S] of decoder states h [B, T, H] and encoder states s [B, S, H]."""
        if self.kind == "dot":
            return h @ s.transpose(1, 2)
        if self.kind == "general":
            return h @ self.W(s).transpose(1, 2)
        return self.v(torch.tanh(self.W_q(h).unsqueeze(2) + self.W_k(s).unsqueeze(1))).squeeze(-1)

    def forward(self, h, s, pad):
        """Context [B, T, H] and weights [B, T, S]; pad [B, S] is True where the source is padding."""
        r = self.scores(h, s).masked_fill(pad.unsqueeze(1), float("-inf"))
        a = torch.softmax(r, -1)
        return a @ s, a


class Seq2SeqRNN(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        e, h, layers = c["embedding_dim"], c["hidden_size"], c.get("num_layers", 1)
        cell = CELLS[c["cell"]]
        self.src_embed = nn.Embedding(c["src_vocab"], e)
        self.encoder = cell(e, h, num_layers=layers, batch_first=True)
        self.tgt_embed = nn.Embedding(c["tgt_vocab"], e)
        self.decoder = cell(e, h, num_layers=layers, batch_first=True)
        self.attn = Attention(c["attention"], h)
        self.combine = nn.Linear(2 * h, h)
        self.generator = nn.Linear(h, c["tgt_vocab"])

    def encode(self, src):
        """Encoder states [B, S, H] and final state (h, or (h, c) for an LSTM)."""
        return self.encoder(self.src_embed(src))

    def attend(self, y, memory, src):
        """Logits [B, T, V] and attention weights [B, T, S] of decoder outputs y [B, T, H]."""
        ctx, a = self.attn(y, memory, src == self.c["pad_id"])
        return self.generator(torch.tanh(self.combine(torch.cat([ctx, y], -1)))), a

    def forward(self, src, tgt):
        """Logits [B, T, tgt_vocab] and attention weights [B, T, S] of src [B, S] and tgt [B, T] (teacher forcing)."""
        memory, state = self.encode(src)
        y, _ = self.decoder(self.tgt_embed(tgt), state)
        return self.attend(y, memory, src)

    def generate(self, src, max_new_tokens):
        """Greedy decoding, one decoder step per token carrying the recurrent state: [B, 1 + N] starting with
        bos_id (after eos_id a row continues with pad_id), and each step's attention weights [B, N, S]."""
        c = self.c
        memory, state = self.encode(src)
        token = torch.full((src.shape[0], 1), c["bos_id"], dtype=torch.long)
        out, weights = [token], []
        done = torch.zeros(src.shape[0], dtype=torch.bool)
        for _ in range(max_new_tokens):
            y, state = self.decoder(self.tgt_embed(token), state)
            logits, a = self.attend(y, memory, src)
            nxt = logits[:, -1].argmax(-1)
            nxt = torch.where(done, torch.full_like(nxt, c["pad_id"]), nxt)
            done |= nxt == c["eos_id"]
            token = nxt.unsqueeze(1)
            out.append(token)
            weights.append(a)
        return torch.cat(out, 1), torch.cat(weights, 1)
