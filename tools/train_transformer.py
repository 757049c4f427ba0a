"""Trains the small sequence-to-sequence Transformer (tools/seq2seq.py) to
reverse digit strings and writes packages/models/trained/
transformer-reverse.{json,safetensors} and transformer-reverse.pytorch.safetensors:
the test sources, PyTorch's greedy outputs and its teacher-forced logits
along them, and the exact-match score.

Tokens: 0 pad, 1 bos, 2 eos, 3 + digit. A source is 1..10 digits padded
with pad to 10; the target is bos, the digits reversed, eos.

    /usr/bin/python3 tools/train_transformer.py [--steps 1500] [--init W.safetensors --lr 1e-3]

The committed weights took two runs (training stops early once the
validation set is 99.5% right): 1500 steps from scratch (93.4% exact match),
then --init with those weights --steps 2000 --lr 1e-3, which stopped at
step 1600 with 98.6% exact match on the 500 test sequences.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import TRAINED, read_safetensors, write_json, write_safetensors  # noqa: E402
from seq2seq import Seq2SeqTransformer  # noqa: E402

CONFIG = {
    "model": "transformer",
    "d_model": 48,
    "nhead": 3,
    "num_encoder_layers": 2,
    "num_decoder_layers": 2,
    "dim_feedforward": 96,
    "src_vocab": 13,
    "tgt_vocab": 13,
    "pad_id": 0,
    "bos_id": 1,
    "eos_id": 2,
    "layer_norm_eps": 1e-5,
}
MAX_LEN = 10
MAX_NEW = MAX_LEN + 1
TEST = 500


def batch(rng, n):
    """Random sources [n, MAX_LEN] (padded) and targets [n, MAX_LEN + 2] (bos, reversed digits, eos, pads)."""
    src = np.zeros((n, MAX_LEN), np.int64)
    tgt = np.zeros((n, MAX_LEN + 2), np.int64)
    for i in range(n):
        k = rng.integers(1, MAX_LEN + 1)
        digits = rng.integers(0, 10, k) + 3
        src[i, :k] = digits
        tgt[i, 0] = 1
        tgt[i, 1 : k + 1] = digits[::-1]
        tgt[i, k + 1] = 2
    return torch.from_numpy(src), torch.from_numpy(tgt)


def training_step(model, logits, tgt, opt, sched):
    """One optimiser step on the cross-entropy of teacher-forced logits [B, T-1, V] against tgt[:, 1:] (padding
    ignored), gradients clipped to norm 1; returns the loss."""
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt[:, 1:].reshape(-1), ignore_index=CONFIG["pad_id"])
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    sched.step()
    return loss


def export(model, test_src, test_tgt, step):
    """Scores greedy decoding on the test set and writes the config, the weights and PyTorch's results."""
    model.eval()
    with torch.no_grad():
        gen = model.generate(test_src, MAX_NEW)
    expected = torch.cat([test_tgt, torch.zeros(TEST, 1 + MAX_NEW - test_tgt.shape[1], dtype=torch.long)], 1)
    exact = (gen == expected).all(1)
    em = exact.float().mean().item()
    print(f"final exact match {em:.4f} ({int(exact.sum())}/{TEST})")
    with torch.no_grad():
        logits = model(test_src, gen[:, :-1])  # teacher-forced along PyTorch's own greedy output
    name = os.path.join(TRAINED, "transformer-reverse")
    write_json(name + ".json", {**CONFIG, "task": "reverse a string of 1-10 digits; tokens 0 pad, 1 bos, 2 eos, 3 + digit", "max_new_tokens": MAX_NEW})
    write_safetensors(name + ".safetensors", model.state_dict(), {"format": "pt", "trained_by": "tools/train_transformer.py"})
    write_safetensors(
        name + ".pytorch.safetensors",
        {"src": test_src, "expected": expected, "generated": gen, "logits": logits.float()},
        {"exact_match": f"{em:.6f}", "correct": str(int(exact.sum())), "sequences": str(TEST), "torch": torch.__version__, "steps": step},
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--init", help="start from these weights (a safetensors state_dict), e.g. to train a written model further")
    ap.add_argument("--lr", type=float, default=2e-3)
    args = ap.parse_args()
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    test_src, test_tgt = batch(np.random.default_rng(12345), TEST)
    val_src, val_tgt = batch(np.random.default_rng(777), 200)  # for early stopping; the test set only scores
    model = Seq2SeqTransformer(CONFIG)
    if args.init:
        state, _ = read_safetensors(args.init)
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 200) * max(0.05, 1 - s / args.steps))
    t0 = time.time()
    for step in range(1, args.steps + 1):
        model.train()
        src, tgt = batch(rng, args.batch)
        loss = training_step(model, model(src, tgt[:, :-1]), tgt, opt, sched)
        if step % 100 == 0 or step == args.steps:
            model.eval()
            with torch.no_grad():
                gen = model.generate(val_src, MAX_NEW)
            em = (gen[:, : MAX_LEN + 2] == val_tgt).all(1).float().mean().item()
            print(f"step {step}: loss {loss.item():.4f}, validation exact match {em:.3f}, {time.time() - t0:.0f} s", flush=True)
            if em >= 0.995:
                break

    export(model, test_src, test_tgt, f"{step} from {os.path.basename(args.init)}" if args.init else str(step))


if __name__ == "__main__":
    main()
