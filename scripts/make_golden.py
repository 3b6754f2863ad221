#!/usr/bin/env python3
"""Makes the golden attention cases in core/src/test/resources/golden/ with PyTorch.

Setup (once; torch 2.13 CPU):
    python3 -m venv venv && venv/bin/pip install torch==2.13.0+cpu numpy
Run from the repository root:
    venv/bin/python scripts/make_golden.py

Each case is a folder holding q.npy, k.npy, v.npy, an optional mask.npy, o.npy (the output of
torch.nn.functional.scaled_dot_product_attention, float32), lse.npy (the log-sum-exp of each
row's final scores, computed in float64 with torch.logsumexp from the same inputs, saved as
float32) and case.properties (the options: scale, causal, mask). The project's tests read them
without torch. Inputs are float32 unless the case says otherwise; float16 inputs are upcast to
float32 before SDPA (the project computes in float32); the float64 case runs SDPA in float64.
"""

import json
import math
import pathlib
import shutil

import numpy as np
import torch
import torch.nn.functional as F

OUT = pathlib.Path(__file__).resolve().parent.parent / "core/src/test/resources/golden"


def lse_of(q, k, scale, mask, causal, enable_gqa):
    """log Σ_j exp(s_ij) in float64 with the masks applied; -inf for a row with no key."""
    q, k = q.double(), k.double()
    if enable_gqa and q.shape[-3] != k.shape[-3]:
        k = k.repeat_interleave(q.shape[-3] // k.shape[-3], dim=-3)
    s = (q @ k.transpose(-2, -1)) * scale
    nq, nk = s.shape[-2], s.shape[-1]
    if causal == "top-left":
        s = s.masked_fill(~torch.ones(nq, nk, dtype=torch.bool).tril(), -math.inf)
    if mask is not None:
        s = s.masked_fill(~mask, -math.inf) if mask.dtype == torch.bool else s + mask.double()
    return torch.logsumexp(s, dim=-1)


def bottom_right(nq, nk):
    """Keep-mask of FlashAttention's bottom-right causal alignment: j <= i + nk - nq."""
    return torch.ones(nq, nk, dtype=torch.bool).tril(diagonal=nk - nq)


def case(name, q, k, v, scale=None, causal="none", mask=None, enable_gqa=False, note=""):
    folder = OUT / name
    folder.mkdir(parents=True)
    qc, kc, vc = (t.float() if t.dtype == torch.float16 else t for t in (q, k, v))
    sdpa_mask = mask
    if causal == "bottom-right":
        sdpa_mask = bottom_right(q.shape[-2], k.shape[-2])
    o = F.scaled_dot_product_attention(
        qc,
        kc,
        vc,
        attn_mask=sdpa_mask,
        is_causal=causal == "top-left",
        scale=scale,
        enable_gqa=enable_gqa,
    )
    used_scale = scale if scale is not None else 1.0 / math.sqrt(q.shape[-1])
    lse = lse_of(qc, kc, used_scale, sdpa_mask, causal if causal == "top-left" else "none", enable_gqa)
    for fname, t in (("q", q), ("k", k), ("v", v)):
        np.save(folder / f"{fname}.npy", t.numpy())
    props = {"causal": causal, "note": note}
    if scale is not None:
        props["scale"] = repr(float(np.float32(scale)))
    if mask is not None:
        np.save(folder / "mask.npy", mask.numpy())
        props["mask"] = "mask.npy"
    np.save(folder / "o.npy", o.float().numpy())
    np.save(folder / "lse.npy", lse.float().numpy())
    with open(folder / "case.properties", "w") as f:
        for key, value in props.items():
            f.write(f"{key}={value}\n")
    return folder


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    g = torch.Generator().manual_seed(20260601)

    def randn(*shape, dtype=torch.float32):
        return torch.randn(*shape, generator=g, dtype=torch.float64).to(dtype)

    case("plain", randn(2, 3, 7, 8), randn(2, 3, 9, 8), randn(2, 3, 9, 8), note="default scale 1/sqrt(d)")
    case("scale", randn(1, 2, 6, 5), randn(1, 2, 6, 5), randn(1, 2, 6, 5), scale=0.7, note="explicit scale")
    case("scale_one", randn(6, 3), randn(6, 3), randn(6, 3), scale=1.0, note="the seed notebook: scale 1, rank 2")
    case("causal_top_left", randn(2, 2, 8, 8), randn(2, 2, 8, 8), randn(2, 2, 8, 8), causal="top-left")
    case("causal_top_left_nq_lt_nk", randn(1, 2, 5, 9), randn(1, 2, 9, 9), randn(1, 2, 9, 9), causal="top-left")
    case("causal_bottom_right", randn(1, 2, 5, 9), randn(1, 2, 9, 9), randn(1, 2, 9, 9), causal="bottom-right")
    case("causal_bottom_right_decode", randn(1, 2, 1, 6), randn(1, 2, 9, 6), randn(1, 2, 9, 6), causal="bottom-right")
    case("gqa_8_2", randn(1, 8, 6, 8), randn(1, 2, 7, 8), randn(1, 2, 7, 8), enable_gqa=True, note="GQA 8:2")
    case("mqa_8_1", randn(2, 8, 5, 4), randn(2, 1, 6, 4), randn(2, 1, 6, 4), enable_gqa=True, causal="top-left", note="MQA 8:1, causal")
    m = randn(2, 1, 6, 7)
    m[0, 0, 1, :3] = -math.inf
    m[1, 0, 4, 5] = -math.inf
    case("float_mask", randn(2, 3, 6, 8), randn(2, 3, 7, 8), randn(2, 3, 7, 8), mask=m, note="additive (B,1,N_q,N_k) mask with -inf")
    case("float_mask_keys", randn(2, 2, 4, 6), randn(2, 2, 5, 6), randn(2, 2, 5, 6), mask=randn(1, 5), note="additive mask over keys only, shape (1, N_k)")
    keep = torch.rand(3, 6, 7, generator=g) > 0.3
    keep[:, :, 0] = True
    case("bool_mask", randn(3, 6, 8), randn(3, 7, 8), randn(3, 7, 8), mask=keep, note="boolean keep-mask, rank 3")
    case("nq_1", randn(2, 4, 1, 16), randn(2, 4, 11, 16), randn(2, 4, 11, 16), note="N_q = 1 (decode)")
    case("dv_ne_d", randn(1, 2, 5, 6), randn(1, 2, 8, 6), randn(1, 2, 8, 3), note="d_v = 3, d = 6")
    case("rank2", randn(9, 4), randn(12, 4), randn(12, 4), scale=0.25, note="rank-2 inputs")
    case("rank3", randn(3, 5, 4), randn(3, 5, 4), randn(3, 5, 4), causal="top-left", note="rank-3 inputs")
    case("float16", randn(1, 2, 6, 8, dtype=torch.float16), randn(1, 2, 7, 8, dtype=torch.float16),
         randn(1, 2, 7, 8, dtype=torch.float16), note="float16 inputs, upcast to float32 for SDPA")
    case("float64", randn(1, 2, 6, 8, dtype=torch.float64), randn(1, 2, 7, 8, dtype=torch.float64),
         randn(1, 2, 7, 8, dtype=torch.float64), causal="top-left", note="float64 inputs, SDPA in float64")
    case("large_scores", randn(1, 1, 8, 16) * 4, randn(1, 1, 10, 16) * 4, randn(1, 1, 10, 16), note="large scores: softmax near one-hot")
    print(json.dumps(sorted(p.name for p in OUT.iterdir() if p.is_dir())))


if __name__ == "__main__":
    main()
