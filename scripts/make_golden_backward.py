#!/usr/bin/env python3
"""Golden gradients from PyTorch 2.13's autograd through scaled_dot_product_attention.

Writes core/src/test/resources/golden-backward/<case>/{q,k,v,do,dq,dk,dv}.npy, an optional
mask.npy and case.properties (causal, scale, softcap, note). Inputs and SDPA run in float64, so
the files hold the exact gradients rounded once to float32; dK and dV of GQA cases sum over the
query heads of each group (enable_gqa=True).

    venv/bin/python scripts/make_golden_backward.py
"""
import math
import pathlib
import shutil

import numpy as np
import torch
import torch.nn.functional as F

OUT = pathlib.Path(__file__).resolve().parent.parent / "core/src/test/resources/golden-backward"


def bottom_right(nq, nk):
    return torch.ones(nq, nk, dtype=torch.bool).tril(diagonal=nk - nq)


def case(name, q, k, v, do, causal="none", mask=None, scale=None, softcap=None, window=None,
         note=""):
    d = OUT / name
    d.mkdir(parents=True)
    q64, k64, v64 = (t.double().requires_grad_() for t in (q, k, v))
    nq, nk = q.shape[-2], k.shape[-2]
    gqa = q.shape[-3] != k.shape[-3]
    used = scale if scale is not None else 1 / math.sqrt(q.shape[-1])
    if softcap is not None or window is not None:
        # written out: SDPA has neither; the same formula the project documents
        kk, vv = k64, v64
        if gqa:
            rep = q.shape[-3] // k.shape[-3]
            kk, vv = k64.repeat_interleave(rep, dim=-3), v64.repeat_interleave(rep, dim=-3)
        s = (q64 @ kk.transpose(-2, -1)) * used
        if softcap is not None:
            s = softcap * torch.tanh(s / softcap)
        keep = torch.ones(nq, nk, dtype=torch.bool)
        if window is not None:
            i = torch.arange(nq)[:, None] + (nk - nq)
            j = torch.arange(nk)[None, :]
            keep = (j >= i - window[0]) & (j <= i + window[1])
        if causal == "top-left":
            keep = keep & torch.ones(nq, nk, dtype=torch.bool).tril()
        s = s.masked_fill(~keep, -math.inf)
        o = torch.softmax(s, dim=-1) @ vv
    else:
        m = mask
        if causal == "bottom-right":
            m = bottom_right(nq, nk)
        if isinstance(m, torch.Tensor) and m.dtype != torch.bool:
            m = m.double()
        o = F.scaled_dot_product_attention(q64, k64, v64, attn_mask=m, is_causal=causal == "top-left",
                                           scale=scale, enable_gqa=gqa)
    o.backward(do.double())
    for n, t in (("q", q), ("k", k), ("v", v), ("do", do), ("dq", q64.grad), ("dk", k64.grad),
                 ("dv", v64.grad)):
        np.save(d / f"{n}.npy", t.detach().float().numpy())
    props = {"causal": causal, "note": note}
    if mask is not None:
        np.save(d / "mask.npy", mask.numpy())
        props["mask"] = "mask.npy"
    if scale is not None:
        props["scale"] = repr(float(np.float32(scale)))
    if softcap is not None:
        props["softcap"] = repr(softcap)
    if window is not None:
        props["window"] = f"{window[0]},{window[1]}"
    with open(d / "case.properties", "w") as f:
        for key, value in props.items():
            f.write(f"{key}={value}\n")


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    g = torch.Generator().manual_seed(20261202)

    def randn(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64).float()

    case("plain", randn(2, 3, 7, 8), randn(2, 3, 9, 8), randn(2, 3, 9, 8), randn(2, 3, 7, 8))
    case("scale", randn(1, 2, 6, 5), randn(1, 2, 6, 5), randn(1, 2, 6, 5), randn(1, 2, 6, 5), scale=0.7)
    case("causal_top_left", randn(1, 2, 9, 8), randn(1, 2, 9, 8), randn(1, 2, 9, 8), randn(1, 2, 9, 8),
         causal="top-left")
    case("causal_bottom_right", randn(1, 2, 5, 8), randn(1, 2, 11, 8), randn(1, 2, 11, 8),
         randn(1, 2, 5, 8), causal="bottom-right", note="N_q < N_k")
    case("gqa_6_2", randn(1, 6, 7, 16), randn(1, 2, 10, 16), randn(1, 2, 10, 16), randn(1, 6, 7, 16),
         note="dK, dV summed over each group of 3")
    case("mqa_causal", randn(2, 4, 6, 8), randn(2, 1, 6, 8), randn(2, 1, 6, 8), randn(2, 4, 6, 8),
         causal="top-left")
    m = randn(1, 1, 6, 7)
    m[0, 0, 1, :3] = -math.inf
    case("float_mask", randn(2, 2, 6, 8), randn(2, 2, 7, 8), randn(2, 2, 7, 8), randn(2, 2, 6, 8), mask=m)
    keep = torch.rand(2, 1, 6, 7, generator=g) > 0.3
    keep[:, :, :, 0] = True
    case("bool_mask", randn(2, 2, 6, 8), randn(2, 2, 7, 8), randn(2, 2, 7, 8), randn(2, 2, 6, 8), mask=keep)
    case("dv_ne_d", randn(1, 2, 5, 6), randn(1, 2, 8, 6), randn(1, 2, 8, 3), randn(1, 2, 5, 3))
    case("softcap", randn(1, 2, 6, 16) * 3, randn(1, 2, 8, 16) * 3, randn(1, 2, 8, 16),
         randn(1, 2, 6, 16), softcap=5.0, note="c*tanh(s/c): tanh's derivative")
    case("window", randn(1, 2, 9, 8), randn(1, 2, 9, 8), randn(1, 2, 9, 8), randn(1, 2, 9, 8),
         window=(3, 1), note="sliding window (3, 1), bottom-right aligned")
    case("odd_shapes", randn(1, 3, 13, 5), randn(1, 3, 17, 5), randn(1, 3, 17, 7), randn(1, 3, 13, 7),
         causal="top-left")


if __name__ == "__main__":
    main()
