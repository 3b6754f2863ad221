#!/usr/bin/env python3
"""Markdown tables for docs/BENCHMARKS.md from docs/bench/java.csv and docs/bench/torch.csv.

For each shape: the fast kernel's median and best GFLOP/s and % of the FMA peak of the same run,
PyTorch's, their ratio, and the 2-thread speedup. Standard library only.
Usage: python3 scripts/bench_report.py [docs/bench]
"""

import csv
import os
import sys


def load(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def main(argv):
    d = argv[0] if argv else "docs/bench"
    java = load(os.path.join(d, "java.csv"))
    torch = {(r["threads"], r["n"], r["d"], r["causal"]): r for r in load(os.path.join(d, "torch.csv"))}
    fast = {(r["threads"], r["n"], r["d"], r["causal"]): r for r in java if r["kernel"] == "fast"}

    def gf(r, col):
        flops = 4.0 * int(r["batch"]) * int(r["heads"]) * int(r["n"]) ** 2 * int(r["d"])
        if r["causal"] != "none":
            flops /= 2
        return flops / (float(r[col]) / 1e3) / 1e9

    print("| T | N | d | causal | fast median GFLOP/s (% peak) | fast best GFLOP/s (% peak) "
          "| torch median GFLOP/s | fast / torch (median) | spread (max−min)/median |")
    print("|---|---|---|---|---|---|---|---|---|")
    for key, r in fast.items():
        peak = float(r["fma_peak_gflop_per_s"])
        t = torch.get(key)
        med, best = gf(r, "median_ms"), gf(r, "min_ms")
        spread = (float(r["max_ms"]) - float(r["min_ms"])) / float(r["median_ms"])
        tg = gf(t, "median_ms") if t else float("nan")
        print(f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | {med:.1f} ({100 * med / peak:.1f}%) "
              f"| {best:.1f} ({100 * best / peak:.1f}%) | {tg:.1f} | {med / tg:.2f}× | {spread:.2f} |")
    print()
    print("| N | d | causal | 2 threads / 1 thread, fast (median) | (best) | torch (median) |")
    print("|---|---|---|---|---|---|")
    for (t, n, dd, c), r in fast.items():
        if t != "1" or ("2", n, dd, c) not in fast:
            continue
        r2 = fast[("2", n, dd, c)]
        s_med = float(r["median_ms"]) / float(r2["median_ms"])
        s_best = float(r["min_ms"]) / float(r2["min_ms"])
        t1, t2 = torch.get(("1", n, dd, c)), torch.get(("2", n, dd, c))
        s_t = float(t1["median_ms"]) / float(t2["median_ms"]) if t1 and t2 else float("nan")
        print(f"| {n} | {dd} | {c} | {s_med:.2f}× | {s_best:.2f}× | {s_t:.2f}× |")


if __name__ == "__main__":
    main(sys.argv[1:])
