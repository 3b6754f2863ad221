#!/usr/bin/env python3
"""PyTorch's CPU scaled_dot_product_attention on the shapes of `./flashattn bench`.

Prints the same columns as `./flashattn bench` (kernel, threads, B, H, N, d, causal, median ms,
GFLOP/s) so the two can be read side by side; --peak T=GFLOPS,... takes the FMA peaks that
`./flashattn bench` measured in the same session to fill the "% peak" column. float32, random
uniform inputs, torch.set_num_threads(T) for each T; FLOPs = 4·B·H·N²·d, halved when causal.

Usage (needs torch; /work/venv/bin/python has it):
  python scripts/bench_torch.py --n 1024,4096 --d 64,128 --heads 8 --threads 1,2 --csv torch.csv
"""

import argparse
import csv
import os
import platform
import statistics
import sys
import time


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def ints(text):
    return [int(x) for x in text.split(",") if x]


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", default="1024,4096")
    p.add_argument("--d", default="64")
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--causal", default="both", choices=["none", "top-left", "both"])
    p.add_argument("--threads", default=None, help="thread counts (default: 1 and all cores)")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--peak", default="", help="FMA peaks from ./flashattn bench: 1=260,2=510")
    p.add_argument("--csv", default=None)
    p.add_argument("--backward", action="store_true",
                   help="time the backward pass (autograd through SDPA; FLOPs 2.5x the forward's)")
    args = p.parse_args(argv)

    import torch
    import torch.nn.functional as F

    threads = ints(args.threads) if args.threads else sorted({1, os.cpu_count() or 1})
    causals = {"none": [False], "top-left": [True], "both": [False, True]}[args.causal]
    peaks = {}
    for item in filter(None, args.peak.split(",")):
        t, g = item.split("=")
        peaks[int(t)] = float(g)

    print(f"machine: {cpu_model()}, {os.cpu_count()} cores")
    print(f"torch {torch.__version__}, {torch.backends.cpu.get_cpu_capability()}; python {platform.python_version()}")
    header = ("kernel", "threads", "B", "H", "N", "d", "causal", "median ms", "GFLOP/s", "% peak")
    print("%-6s %7s %3s %3s %7s %4s %-12s %11s %9s %7s" % header)
    rows = []
    for d in ints(args.d):
        for n in ints(args.n):
            for is_causal in causals:
                for t in threads:
                    torch.set_num_threads(t)
                    g = torch.Generator().manual_seed(42)
                    shape = (args.batch, args.heads, n, d)
                    q, k, v = (torch.rand(shape, generator=g) * 2 - 1 for _ in range(3))
                    times = []
                    if args.backward:
                        q, k, v = (x.requires_grad_() for x in (q, k, v))
                        do = torch.rand(shape, generator=g) * 2 - 1
                        o = F.scaled_dot_product_attention(q, k, v, is_causal=is_causal)
                        for i in range(args.warmup + args.iters):
                            t0 = time.perf_counter()
                            torch.autograd.grad(o, (q, k, v), do, retain_graph=True)
                            if i >= args.warmup:
                                times.append((time.perf_counter() - t0) * 1e3)
                    else:
                        with torch.inference_mode():
                            for _ in range(args.warmup):
                                F.scaled_dot_product_attention(q, k, v, is_causal=is_causal)
                            for _ in range(args.iters):
                                t0 = time.perf_counter()
                                F.scaled_dot_product_attention(q, k, v, is_causal=is_causal)
                                times.append((time.perf_counter() - t0) * 1e3)
                    ms = statistics.median(times)
                    flops = 4.0 * args.batch * args.heads * n * n * d / (2 if is_causal else 1)
                    if args.backward:
                        flops *= 2.5
                    gflops = flops / (ms / 1e3) / 1e9
                    pct = 100 * gflops / peaks[t] if t in peaks else float("nan")
                    causal = "top-left" if is_causal else "none"
                    print("%-6s %7d %3d %3d %7d %4d %-12s %11.2f %9.1f %6.1f%%"
                          % ("torch" + ("-bwd" if args.backward else ""), t, args.batch, args.heads, n, d, causal, ms, gflops, pct))
                    rows.append(["torch", t, args.batch, args.heads, n, d, causal, f"{ms:.4f}",
                                 f"{min(times):.4f}", f"{max(times):.4f}", f"{gflops:.3f}",
                                 f"{peaks.get(t, float('nan')):.3f}", f"{pct:.2f}", ""])
    if args.csv:
        tmp = args.csv + ".tmp"
        with open(tmp, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["kernel", "threads", "batch", "heads", "n", "d", "causal", "median_ms",
                        "min_ms", "max_ms", "gflop_per_s", "fma_peak_gflop_per_s", "pct_of_peak",
                        "extra_bytes"])
            w.writerows(rows)
        os.replace(tmp, args.csv)
        print(f"wrote {args.csv}")


if __name__ == "__main__":
    main(sys.argv[1:])
