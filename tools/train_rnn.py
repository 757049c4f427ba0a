"""Trains the RNN encoder-decoder with attention (tools/seq2seq_rnn.py: GRU
cells, general attention) on the Transformer's digit-reversal task
(tools/train_transformer.py: tokens 0 pad, 1 bos, 2 eos, 3 + digit; sources
of 1..10 digits padded to 10) and writes packages/models/trained/
rnn-reverse.{json,safetensors} and rnn-reverse.pytorch.safetensors: the 500
test sources (the Transformer's), PyTorch's greedy outputs, the exact-match
score and, for the first 100 sequences (to keep the file small), its attention
weights and teacher-forced logits along its greedy outputs. Training stops early once the validation set is 99.5% right.

    /work/pyenv/bin/python tools/train_rnn.py [--steps 3000]

(the committed model: torch 2.13, 300 steps, 20 s on one core; Debian's
/usr/bin/python3 with torch 1.13 trains the same way.)
"""
import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import TRAINED, write_json, write_safetensors  # noqa: E402
from seq2seq_rnn import Seq2SeqRNN  # noqa: E402
from train_transformer import MAX_NEW, TEST, batch, training_step  # noqa: E402

DETAILED = 100  # test sequences whose attention weights and logits are written

CONFIG = {
    "model": "seq2seq_rnn",
    "cell": "gru",
    "embedding_dim": 16,
    "hidden_size": 48,
    "num_layers": 1,
    "attention": "general",
    "src_vocab": 13,
    "tgt_vocab": 13,
    "pad_id": 0,
    "bos_id": 1,
    "eos_id": 2,
}


def exact_match(model, src, tgt):
    """Greedy outputs of src, and which rows equal tgt (padded with pad to 1 + MAX_NEW)."""
    with torch.no_grad():
        gen, weights = model.generate(src, MAX_NEW)
    expected = torch.cat([tgt, torch.zeros(tgt.shape[0], 1 + MAX_NEW - tgt.shape[1], dtype=torch.long)], 1)
    return gen, weights, expected, (gen == expected).all(1)


def export(model, test_src, test_tgt, step):
    """Scores greedy decoding on the test set and writes the config, the weights and PyTorch's results."""
    model.eval()
    gen, weights, expected, exact = exact_match(model, test_src, test_tgt)
    em = exact.float().mean().item()
    print(f"final exact match {em:.4f} ({int(exact.sum())}/{TEST})")
    with torch.no_grad():
        logits, _ = model(test_src[:DETAILED], gen[:DETAILED, :-1])  # teacher-forced along PyTorch's own greedy output
    name = os.path.join(TRAINED, "rnn-reverse")
    write_json(name + ".json", {**CONFIG, "task": "reverse a string of 1-10 digits; tokens 0 pad, 1 bos, 2 eos, 3 + digit", "max_new_tokens": MAX_NEW})
    write_safetensors(name + ".safetensors", model.state_dict(), {"format": "pt", "trained_by": "tools/train_rnn.py"})
    write_safetensors(
        name + ".pytorch.safetensors",
        {"src": test_src, "expected": expected, "generated": gen, "attention": weights[:DETAILED].float(), "logits": logits.float()},
        {"exact_match": f"{em:.6f}", "correct": str(int(exact.sum())), "sequences": str(TEST), "torch": torch.__version__, "steps": step},
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)  # a shared machine; this model is small
    rng = np.random.default_rng(0)
    test_src, test_tgt = batch(np.random.default_rng(12345), TEST)
    val_src, val_tgt = batch(np.random.default_rng(777), 200)  # for early stopping; the test set only scores
    model = Seq2SeqRNN(CONFIG)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.05, 1 - s / args.steps))
    t0 = time.time()
    for step in range(1, args.steps + 1):
        model.train()
        src, tgt = batch(rng, args.batch)
        loss = training_step(model, model(src, tgt[:, :-1])[0], tgt, opt, sched)
        if step % 100 == 0 or step == args.steps:
            model.eval()
            em = exact_match(model, val_src, val_tgt)[3].float().mean().item()
            print(f"step {step}: loss {loss.item():.4f}, validation exact match {em:.3f}, {time.time() - t0:.0f} s", flush=True)
            if em >= 0.995:
                break
    export(model, test_src, test_tgt, str(step))


if __name__ == "__main__":
    main()
