#!/usr/bin/env python3
"""transformers' CPU speed on a model directory, beside `./flashattn bench --model DIR`.

The same measurements as the Java side (cli ModelBench):
  prefill  one forward pass over a prompt of random tokens (logits of its last token only:
           logits_to_keep=1), tokens/s = prompt tokens / time
  decode   one step of one token on a DynamicCache that already holds a context of random K and V
           (N(0, 1)) in every layer, tokens/s = 1 / time per step
for attention eager and sdpa, torch threads 1 and 2, float32 and bfloat16 (torch's bfloat16 runs
the whole model in bfloat16, activations included; the Java side keeps bfloat16 weights and
computes in float32). Each row is the median of its timed runs after a warm-up.

Run: /work/venv/bin/python scripts/bench_model_torch.py /tmp/llama-100m [--csv out.csv]
     [--prompt-tokens 512,2048] [--context 2048,16384] [--threads 1,2] [--iters 3]
"""
import argparse
import platform
import statistics
import time

import torch
import transformers
from transformers import DynamicCache


def median_time(fn, iters, warmup=1):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def prefill(model, n, vocab, iters):
    g = torch.Generator().manual_seed(100)
    ids = torch.randint(vocab, (1, n), generator=g)

    def run():
        with torch.inference_mode():
            model(input_ids=ids, logits_to_keep=1, use_cache=True)

    return n / median_time(run, iters)


def decode(model, context, iters):
    cfg = model.config
    dtype = next(model.parameters()).dtype
    g = torch.Generator().manual_seed(7)
    cache = DynamicCache(config=cfg)
    hkv, d = cfg.num_key_value_heads, cfg.head_dim
    for layer in range(cfg.num_hidden_layers):
        k = torch.randn(1, hkv, context, d, generator=g).to(dtype)
        v = torch.randn(1, hkv, context, d, generator=g).to(dtype)
        cache.update(k, v, layer)
    steps = max(8, iters * 8)
    times = []
    with torch.inference_mode():
        for s in range(steps):
            pos = cache.get_seq_length()
            ids = torch.tensor([[s % cfg.vocab_size]])
            t0 = time.perf_counter()
            model(
                input_ids=ids,
                past_key_values=cache,
                position_ids=torch.tensor([[pos]]),
                cache_position=torch.tensor([pos]),
                use_cache=True,
                logits_to_keep=1,
            )
            times.append(time.perf_counter() - t0)
    return 1 / statistics.median(times[4:])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--prompt-tokens", default="512,2048")
    p.add_argument("--context", default="2048,16384")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--dtypes", default="float32,bfloat16")
    p.add_argument("--attention", default="eager,sdpa")
    p.add_argument("--iters", type=int, default=3)
    p.add_argument("--csv")
    a = p.parse_args()
    ints = lambda s: [int(x) for x in s.split(",")]
    print(f"machine: {platform.processor() or platform.machine()}; torch {torch.__version__},"
          f" transformers {transformers.__version__}")
    print(f"{'dtype':9} {'attn':5} {'threads':>7}  {'phase':7} {'tokens':>7}  {'tokens/s':>12}")
    rows = []
    for dtype in a.dtypes.split(","):
        for attn in a.attention.split(","):
            model = transformers.AutoModelForCausalLM.from_pretrained(
                a.model, dtype=getattr(torch, dtype), attn_implementation=attn
            ).eval()
            vocab = model.config.vocab_size
            for t in ints(a.threads):
                torch.set_num_threads(t)
                for n in ints(a.prompt_tokens):
                    r = (dtype, attn, t, "prefill", n, prefill(model, n, vocab, a.iters))
                    rows.append(r)
                    print(f"{r[0]:9} {r[1]:5} {r[2]:7d}  {r[3]:7} {r[4]:7d}  {r[5]:12.1f}", flush=True)
                for c in ints(a.context):
                    r = (dtype, attn, t, "decode", c, decode(model, c, a.iters))
                    rows.append(r)
                    print(f"{r[0]:9} {r[1]:5} {r[2]:7d}  {r[3]:7} {r[4]:7d}  {r[5]:12.1f}", flush=True)
    if a.csv:
        with open(a.csv, "w") as f:
            f.write("dtype,attention,threads,phase,tokens,tokens_per_s\n")
            for r in rows:
                f.write(f"{r[0]},{r[1]},{r[2]},{r[3]},{r[4]},{r[5]:.3f}\n")


if __name__ == "__main__":
    main()
