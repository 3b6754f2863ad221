#!/usr/bin/env python3
"""PyTorch's CPU scaled_dot_product_attention on the decode step of `./flashattn bench-decode`.

One new token a sequence attends to a contiguous cache of L keys: q [B, H_q, 1, d], K and V
[B, H_kv, L, d], enable_gqa=True (H_q = 32, H_kv = 8, d = 128 by default), float32 or bfloat16
(PyTorch has no int8 or paged cache here; float16 runs too, slowly, on CPUs without AVX512-FP16).
Prints the same columns as `./flashattn bench-decode` (storage, cache_len, batch, median_ms,
min_ms, steps, kv_GB/s) so the two can be read side by side. Each case: 0.2 s of warm-up, then at
least 5 steps and 1 s; the median.

Usage (needs torch):
  python scripts/bench_decode_torch.py --cache-len 2048,32768 --batch 1,16 --storage float32,bfloat16 --threads 2
  ATEN_CPU_CAPABILITY=avx2 python scripts/bench_decode_torch.py ...   # beside -XX:UseAVX=2
"""

import argparse
import statistics
import sys
import time


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cache-len", default="2048,32768")
    p.add_argument("--batch", default="1,16")
    p.add_argument("--storage", default="float32,bfloat16")
    p.add_argument("--heads", type=int, default=32)
    p.add_argument("--kv-heads", type=int, default=8)
    p.add_argument("--d", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--max-gb", type=float, default=5.0)
    a = p.parse_args(argv)

    import torch
    import torch.nn.functional as F

    torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, CPU capability {torch.backends.cpu.get_cpu_capability()}, "
          f"{a.threads} thread(s); H_q = {a.heads}, H_kv = {a.kv_heads}, d = {a.d}")
    print(f"{'storage':<9}{'cache_len':>10}{'batch':>7}{'median_ms':>12}{'min_ms':>10}{'steps':>8}{'kv_GB/s':>11}")
    dtypes = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
    g = torch.Generator().manual_seed(1)
    for batch in [int(x) for x in a.batch.split(",")]:
        for length in [int(x) for x in a.cache_len.split(",")]:
            for name in a.storage.split(","):
                dt = dtypes[name]
                nbytes = batch * length * a.kv_heads * 2 * a.d * torch.finfo(dt).bits // 8
                if nbytes > a.max_gb * 1e9:
                    print(f"{name:<9}{length:>10}{batch:>7}   skipped: {nbytes / 1e9:.1f} GB over --max-gb")
                    continue
                q = torch.rand(batch, a.heads, 1, a.d, generator=g).mul_(2).sub_(1).to(dt)
                k = torch.rand(batch, a.kv_heads, length, a.d, generator=g).mul_(4).sub_(2).to(dt)
                v = torch.rand(batch, a.kv_heads, length, a.d, generator=g).mul_(2).sub_(1).to(dt)
                with torch.no_grad():
                    start = time.perf_counter()
                    while time.perf_counter() - start < 0.2:
                        F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
                    times = []
                    start = time.perf_counter()
                    while len(times) < 5 or time.perf_counter() - start < 1.0:
                        t = time.perf_counter()
                        F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
                        times.append(time.perf_counter() - t)
                med = statistics.median(times)
                print(f"{name:<9}{length:>10}{batch:>7}{med * 1e3:>12.3f}{min(times) * 1e3:>10.3f}"
                      f"{len(times):>8}{nbytes / med / 1e9:>11.2f}")
                del q, k, v


if __name__ == "__main__":
    main(sys.argv[1:])
