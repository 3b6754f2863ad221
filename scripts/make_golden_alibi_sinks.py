#!/usr/bin/env python3
"""Golden files for ALiBi and attention sinks, computed by Hugging Face transformers' own code.

- bloom_alibi*: BLOOM's `build_alibi_tensor` (slopes and biases) added to q.k/sqrt(d) as
  BloomAttention does (baddbmm), a causal mask, softmax, P.V. BLOOM adds slope*j, which differs
  from FlashAttention's -slope*|i - j| by a constant per row: the same O.
- gpt_oss_sinks*: gpt-oss's `eager_attention_forward` with per-head sink logits (module.sinks),
  a causal additive mask (and a sliding window in one case), GQA through repeat_kv.

Writes core/src/test/resources/golden-alibi-sinks/<case>/{q,k,v,o}.npy and case.properties
(causal, alibi slopes or sinks, window). Needs torch and transformers:
    venv/bin/pip install transformers      (5.x)
    venv/bin/python scripts/make_golden_alibi_sinks.py
"""
import math
import pathlib
import shutil
import types

import numpy as np
import torch
from transformers.models.bloom.modeling_bloom import build_alibi_tensor
from transformers.models.gpt_oss import modeling_gpt_oss

OUT = pathlib.Path(__file__).resolve().parent.parent / "core/src/test/resources/golden-alibi-sinks"


def save(name, q, k, v, o, props):
    d = OUT / name
    d.mkdir(parents=True)
    for n, t in (("q", q), ("k", k), ("v", v), ("o", o)):
        np.save(d / f"{n}.npy", t.detach().float().contiguous().numpy())
    with open(d / "case.properties", "w") as f:
        for key, value in props.items():
            f.write(f"{key}={value}\n")


def bloom(name, b, h, n, d, g):
    q, k, v = (torch.randn(b, h, n, d, generator=g) for _ in range(3))
    alibi = build_alibi_tensor(torch.ones(b, n, dtype=torch.long), h, torch.float32)  # (B*H, 1, N)
    alibi = alibi.view(b, h, 1, n)
    slopes = (alibi[0, :, 0, 1] - alibi[0, :, 0, 0]).tolist()
    scores = alibi + (q @ k.transpose(-1, -2)) / math.sqrt(d)
    causal = torch.ones(n, n, dtype=torch.bool).tril()
    scores = scores.masked_fill(~causal, torch.finfo(torch.float32).min)
    o = torch.softmax(scores, dim=-1) @ v
    save(name, q, k, v, o, {"causal": "top-left", "alibi": ",".join(repr(s) for s in slopes),
                            "note": f"BLOOM's build_alibi_tensor for {h} heads"})


def gpt_oss(name, b, h, hkv, n, d, g, window=None):
    q = torch.randn(b, h, n, d, generator=g)
    k = torch.randn(b, hkv, n, d, generator=g)
    v = torch.randn(b, hkv, n, d, generator=g)
    sinks = torch.randn(h, generator=g) * 2
    module = types.SimpleNamespace(sinks=sinks, num_key_value_groups=h // hkv, training=False)
    i = torch.arange(n)[:, None]
    j = torch.arange(n)[None, :]
    keep = j <= i
    if window is not None:
        keep = keep & (j > i - window)  # gpt-oss's sliding window: the last `window` tokens
    mask = torch.zeros(n, n).masked_fill(~keep, float("-inf")).view(1, 1, n, n)
    o, _ = modeling_gpt_oss.eager_attention_forward(module, q, k, v, mask, 1 / math.sqrt(d))
    o = o.transpose(1, 2)  # back to (B, H, N, d)
    props = {"causal": "top-left", "sinks": ",".join(repr(float(s)) for s in sinks),
             "note": f"gpt-oss eager_attention_forward, GQA {h}:{hkv}"}
    if window is not None:
        props["window"] = f"{window - 1},0"
    save(name, q, k, v, o, props)


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    g = torch.Generator().manual_seed(20261203)
    bloom("bloom_alibi_8_heads", 1, 8, 13, 16, g)
    bloom("bloom_alibi_6_heads", 2, 6, 9, 8, g)  # not a power of two: BLOOM's extra slopes
    gpt_oss("gpt_oss_sinks", 1, 8, 2, 11, 16, g)
    gpt_oss("gpt_oss_sinks_window", 1, 4, 1, 14, 8, g, window=4)


if __name__ == "__main__":
    main()
