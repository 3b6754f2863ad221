#!/usr/bin/env python3
"""The tiny training run of `./flashattn train-demo`, in PyTorch, for its loss curve.

One causal attention layer (one head, d = 32) with token and position embeddings, a residual and
a linear head learns to output the token two positions back (y_t = x_{t-2}, t >= 2) on random
sequences. Data and initial weights come from SplitMix64 with a fixed seed, written out here and in
Java (`cli/.../train/TinyTransformer.java`) the same way, so the two runs start from the same bits;
Adam (lr 1e-2). Writes the loss of each step to
cli/src/main/resources/dev/flashattn4j/cli/train/torch_loss.txt.

    venv/bin/python scripts/train_tiny.py
"""
import math
import pathlib

import torch
import torch.nn.functional as F

V, N, D, B, SEED, STEPS, LR = 12, 12, 32, 32, 20261201, 300, 2e-3
MASK64 = (1 << 64) - 1
OUT = (pathlib.Path(__file__).resolve().parent.parent
       / "cli/src/main/resources/dev/flashattn4j/cli/train/torch_loss.txt")


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def uniform(self, a):
        """A float32 in [-a, a): 53 random bits as a double, then rounded to float."""
        u = (self.next() >> 11) * (1.0 / (1 << 53))
        return float(torch.tensor((2 * u - 1) * a, dtype=torch.float32))

    def token(self):
        return self.next() % V


def weights(rng, rows, cols):
    a = 1 / math.sqrt(rows)
    return torch.tensor([[rng.uniform(a) for _ in range(cols)] for _ in range(rows)],
                        dtype=torch.float32, requires_grad=True)


def main():
    rng = SplitMix64(SEED)
    emb, pos = weights(rng, V, D), weights(rng, N, D)
    wq, wk, wv, wo = (weights(rng, D, D) for _ in range(4))
    wout = weights(rng, D, V)
    params = [emb, pos, wq, wk, wv, wo, wout]
    opt = torch.optim.Adam(params, lr=LR, foreach=False)
    data = SplitMix64(SEED + 1)
    losses = []
    for step in range(STEPS):
        x = torch.tensor([[data.token() for _ in range(N)] for _ in range(B)])
        h0 = emb[x] + pos  # (B, N, D)
        q, k, v = (h0 @ w for w in (wq, wk, wv))
        a = F.scaled_dot_product_attention(q[:, None], k[:, None], v[:, None], is_causal=True)[:, 0]
        h1 = h0 + a @ wo
        logits = h1 @ wout  # (B, N, V)
        loss = F.cross_entropy(logits[:, 2:].reshape(-1, V), x[:, :-2].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with torch.no_grad():
        acc = (logits[:, 2:].argmax(-1) == x[:, :-2]).float().mean().item()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("".join(f"{l!r}\n" for l in losses))
    print(f"loss {losses[0]:.4f} -> {losses[49]:.4f} (step 50) -> {losses[-1]:.4f}; accuracy {acc:.3f}")


if __name__ == "__main__":
    main()
