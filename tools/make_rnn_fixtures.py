"""Makes the PyTorch fixtures of the RNN encoder-decoder (tools/seq2seq_rnn.py)
under packages/models/fixtures/rnn: random weights of deliberately odd sizes
for every cell (GRU, LSTM) and score form (dot, general, additive), each with
a padded source row, and PyTorch's teacher-forced logits and attention
weights computed in float64 from the stored float32 weights, and its greedy
tokens. Also nn.GRU and nn.LSTM alone with two layers, bidirectional and
batch first, under packages/frontend/test/fixtures: their outputs and final
states for a given initial state.

For each model fixture NAME: NAME.json (the config plus a "fixture" entry
describing the inputs), NAME.safetensors (the state_dict, F32) and
NAME.io.safetensors (inputs and PyTorch's outputs).

    /work/pyenv/bin/python tools/make_rnn_fixtures.py   (or /usr/bin/python3)
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import FIXTURES, ROOT, write_json, write_safetensors  # noqa: E402
from seq2seq_rnn import CELLS, Seq2SeqRNN  # noqa: E402

OUT = os.path.join(FIXTURES, "rnn")
CELLS_OUT = os.path.join(ROOT, "packages", "frontend", "test", "fixtures")

# Each: the config (less "model"), the source lengths (padded to the longest), target length, tokens to generate.
MODELS = {
    "gru-dot-vocab17": dict(config=dict(cell="gru", embedding_dim=7, hidden_size=9, attention="dot", src_vocab=17, tgt_vocab=15, pad_id=0, bos_id=1, eos_id=2), src_lengths=[6, 3, 1], tgt_len=5, max_new_tokens=6),
    "gru-general-2layer": dict(config=dict(cell="gru", embedding_dim=5, hidden_size=11, num_layers=2, attention="general", src_vocab=13, tgt_vocab=19, pad_id=3, bos_id=4, eos_id=5), src_lengths=[4, 7], tgt_len=8, max_new_tokens=7),
    "gru-additive-vocab23": dict(config=dict(cell="gru", embedding_dim=6, hidden_size=7, attention="additive", src_vocab=23, tgt_vocab=11, pad_id=0, bos_id=1, eos_id=2), src_lengths=[5, 2, 5], tgt_len=4, max_new_tokens=5),
    "lstm-dot-2layer": dict(config=dict(cell="lstm", embedding_dim=9, hidden_size=6, num_layers=2, attention="dot", src_vocab=11, tgt_vocab=13, pad_id=0, bos_id=1, eos_id=2), src_lengths=[3, 6], tgt_len=6, max_new_tokens=6),
    "lstm-general-vocab29": dict(config=dict(cell="lstm", embedding_dim=7, hidden_size=10, attention="general", src_vocab=29, tgt_vocab=17, pad_id=2, bos_id=0, eos_id=1), src_lengths=[8, 1, 4], tgt_len=5, max_new_tokens=7),
    "lstm-additive-vocab14": dict(config=dict(cell="lstm", embedding_dim=5, hidden_size=8, attention="additive", src_vocab=14, tgt_vocab=14, pad_id=0, bos_id=1, eos_id=2), src_lengths=[2, 5], tgt_len=7, max_new_tokens=6),
}

# nn.GRU / nn.LSTM alone: input size, hidden size, layers, batch, sequence length.
CELL_FIXTURES = {
    "nn-gru-2layer-bidirectional": dict(cell="gru", input_size=5, hidden_size=7, num_layers=2, batch=3, seq_len=4),
    "nn-lstm-2layer-bidirectional": dict(cell="lstm", input_size=6, hidden_size=5, num_layers=2, batch=2, seq_len=5),
}


def perturb(model, g):
    """Moves every parameter off its initial value (zero biases and small uniform weights hide bugs)."""
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * (0.5 if p.dim() == 1 else 0.3))


def end_one_row_early(model, src, n):
    """Raises the generator's eos bias in small steps until some row ends early
    (so generation's pad-after-eos rule is exercised) with clear greedy margins; deterministic."""
    c = model.c
    for _ in range(400):
        with torch.no_grad():
            m = model.double()
            gen, _ = m.generate(src, n)
            logits, _ = m(src, gen[:, :-1])
            top = logits.topk(2, dim=-1).values
            margin = (top[..., 0] - top[..., 1]).min().item()
            model.float()
            ended = (gen[:, 1:-1] == c["eos_id"]).any(1)
            if ended.any() and margin > 1e-3:
                return
            model.generator.bias[c["eos_id"]] += 0.05
    raise RuntimeError("no eos bias gives a row that ends early with clear margins")


def make_model(name, spec, g):
    c = {"model": "seq2seq_rnn", "num_layers": 1, **spec["config"]}
    model = Seq2SeqRNN(c).eval()
    perturb(model, g)
    lengths, t = spec["src_lengths"], spec["tgt_len"]
    b, s = len(lengths), max(lengths)
    special = {c["pad_id"], c["bos_id"], c["eos_id"]}
    ordinary = torch.tensor([i for i in range(c["src_vocab"]) if i not in special])
    src = torch.full((b, s), c["pad_id"], dtype=torch.long)
    for r, n in enumerate(lengths):
        src[r, :n] = ordinary[torch.randint(len(ordinary), (n,), generator=g)]
    tgt = torch.randint(c["tgt_vocab"], (b, t), generator=g)
    tgt[:, 0] = c["bos_id"]
    end_one_row_early(model, src, spec["max_new_tokens"])
    state = {k: v.float() for k, v in model.state_dict().items()}
    model = model.double()
    with torch.no_grad():
        logits, attention = model(src, tgt)
        generated, _ = model.generate(src, spec["max_new_tokens"])
    write_json(os.path.join(OUT, name + ".json"), {**c, "fixture": {"batch": b, "src_len": s, "tgt_len": t, "max_new_tokens": spec["max_new_tokens"]}})
    write_safetensors(os.path.join(OUT, name + ".safetensors"), state)
    write_safetensors(
        os.path.join(OUT, name + ".io.safetensors"),
        {"src": src, "tgt": tgt, "logits": logits.float(), "attention": attention.float(), "generated": generated},
        {"computed_in": "float64", "torch": torch.__version__},
    )


def make_cell(name, spec, g):
    """nn.GRU / nn.LSTM alone (bidirectional, batch first): NAME.safetensors holds the state_dict and the io."""
    rnn = CELLS[spec["cell"]](spec["input_size"], spec["hidden_size"], num_layers=spec["num_layers"], batch_first=True, bidirectional=True)
    perturb(rnn, g)
    state = {k: v.float() for k, v in rnn.state_dict().items()}
    x = torch.randn(spec["batch"], spec["seq_len"], spec["input_size"], generator=g)
    h0 = torch.randn(2 * spec["num_layers"], spec["batch"], spec["hidden_size"], generator=g)
    io = {"input": x, "h0": h0}
    rnn = rnn.double()
    with torch.no_grad():
        if spec["cell"] == "lstm":
            c0 = torch.randn(h0.shape, generator=g)
            io["c0"] = c0
            y, (hn, cn) = rnn(x.double(), (h0.double(), c0.double()))
            io["c_n"] = cn.float()
        else:
            y, hn = rnn(x.double(), h0.double())
    io.update({"output": y.float(), "h_n": hn.float()})
    write_json(os.path.join(CELLS_OUT, name + ".json"), spec)
    write_safetensors(os.path.join(CELLS_OUT, name + ".safetensors"), {**state, **{f"io.{k}": v for k, v in io.items()}}, {"computed_in": "float64", "torch": torch.__version__})


def main():
    torch.manual_seed(2026)  # module initialisation draws from the global generator
    g = torch.Generator().manual_seed(2026)
    torch.set_num_threads(1)
    for name, spec in MODELS.items():
        make_model(name, spec, g)
        print("wrote", name)
    for name, spec in CELL_FIXTURES.items():
        make_cell(name, spec, g)
        print("wrote", name)


if __name__ == "__main__":
    main()
