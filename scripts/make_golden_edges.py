#!/usr/bin/env python3
"""Golden files for the edges of the semantics (docs/SEMANTICS.md), saved from PyTorch 2.13's SDPA.

Writes core/src/test/resources/golden-edges/<case>/{q,k,v,o}.npy, an optional mask.npy and
case.properties (causal, softcap, note). The soft-capped case has no SDPA equivalent: its o.npy is
PyTorch's softmax(c·tanh(s/c) + mask) @ V written out, as Gemma 2 computes it.

    venv/bin/python scripts/make_golden_edges.py
"""
import math
import pathlib
import shutil

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

OUT = pathlib.Path(__file__).resolve().parent.parent / "core/src/test/resources/golden-edges"


def save(name, q, k, v, o, mask=None, causal="none", softcap=None, note=""):
    d = OUT / name
    d.mkdir(parents=True)
    for n, t in (("q", q), ("k", k), ("v", v), ("o", o)):
        np.save(d / f"{n}.npy", t.float().numpy())
    props = {"causal": causal, "note": note}
    if mask is not None:
        np.save(d / "mask.npy", mask.numpy())
        props["mask"] = "mask.npy"
    if softcap is not None:
        props["softcap"] = repr(softcap)
    with open(d / "case.properties", "w") as f:
        for key, value in props.items():
            f.write(f"{key}={value}\n")


def sdpa(q, k, v, mask=None, causal=False):
    # the math backend: PyTorch's definition. (Its fused CPU kernel differs at one edge: it returns
    # a finite row for a NaN in Q, dropping the NaN from the row's max.)
    with sdpa_kernel(SDPBackend.MATH):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    g = torch.Generator().manual_seed(20261201)

    def randn(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64).float()

    # Hugging Face's padding: transformers fills masked positions with float32's most negative
    # value; row 0 (a padding query of a left-padded batch) is masked on every key
    q, k, v = randn(1, 2, 6, 8), randn(1, 2, 6, 8), randn(1, 2, 6, 8)
    m = torch.zeros(1, 1, 6, 6)
    m[0, 0, 0, :] = torch.finfo(torch.float32).min
    m[0, 0, 2, :2] = torch.finfo(torch.float32).min
    m[0, 0, 3, 4] = 3e38
    save("hf_padding_mask", q, k, v, sdpa(q, k, v, m), mask=m,
         note="-3.4e38 on every key of row 0 (mean of V), on keys 0-1 of row 2, +3e38 on key 4 of row 3")
    # NaN in Q row 2 of head 0: that row is NaN
    q, k, v = randn(1, 2, 5, 8), randn(1, 2, 7, 8), randn(1, 2, 7, 8)
    q[0, 0, 2, 3] = math.nan
    save("nan_in_q", q, k, v, sdpa(q, k, v), note="NaN in q row 2 of head 0")
    # q.k overflowing float32: row 1 sees +inf at key 3
    q, k, v = randn(1, 1, 4, 8), randn(1, 1, 6, 8), randn(1, 1, 6, 8)
    q[0, 0, 1, :] = 1e20
    k[0, 0, 3, :] = 1e20
    save("score_overflow", q, k, v, sdpa(q, k, v), note="q.k = 8e40 overflows to +inf: row 1 NaN")
    # NaN in V at key 5, causal: rows 0-4 cannot see it (PyTorch: NaN there too; ours: finite)
    q, k, v = randn(1, 1, 8, 8), randn(1, 1, 8, 8), randn(1, 1, 8, 8)
    v[0, 0, 5, 1] = math.nan
    save("nan_in_v_causal", q, k, v, sdpa(q, k, v, causal=True), causal="top-left",
         note="NaN in V at key 5: rows >= 5 NaN in both; rows < 5 NaN in PyTorch only")
    # soft cap as Gemma 2 computes it
    q, k, v = randn(1, 2, 5, 16) * 3, randn(1, 2, 9, 16) * 3, randn(1, 2, 9, 16)
    c = 5.0
    s = (q.double() @ k.double().transpose(-2, -1)) / math.sqrt(16)
    s = c * torch.tanh(s / c)
    o = torch.softmax(s, dim=-1) @ v.double()
    save("softcap_5", q, k, v, o, softcap=c, note="c*tanh(s/c), computed in float64")


if __name__ == "__main__":
    main()
