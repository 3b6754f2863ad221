#!/usr/bin/env python3
"""The Java/PyTorch table of a scripts/bench_grid.sh folder: for each pass (forward, backward),
thread count, N, d and causal, the fast kernel's GFLOP/s and share of the FMA peak measured in the
same run, PyTorch's, and their ratio (> 1: Java faster), as Markdown.

Usage: python3 scripts/bench_ratio.py FOLDER
"""
import csv
import os
import sys


def rows(path):
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return {(r["threads"], r["n"], r["d"], r["causal"]): r for r in csv.DictReader(f)}


def main(folder):
    for p in ["forward", "backward"]:
        java = rows(os.path.join(folder, f"{p}-java.csv"))
        torch = rows(os.path.join(folder, f"{p}-torch.csv"))
        if not java:
            continue
        print(f"\n{p}:\n")
        print("| threads | N | d | causal | Java GFLOP/s (% of peak) | PyTorch GFLOP/s | Java / PyTorch |")
        print("|---|---|---|---|---|---|---|")
        ratios = []
        for key in sorted(java, key=lambda k: (int(k[0]), int(k[1]), int(k[2]), k[3])):
            j = java[key]
            t = torch.get(key)
            jg = float(j["gflop_per_s"])
            pct = j["pct_of_peak"]
            if t:
                tg = float(t["gflop_per_s"])
                ratio = jg / tg
                ratios.append(ratio)
                print(f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | {jg:.1f} ({pct}%) | {tg:.1f} | {ratio:.2f}× |")
            else:
                print(f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | {jg:.1f} ({pct}%) | – | – |")
        if ratios:
            print(f"\n{p}: Java / PyTorch from {min(ratios):.2f}× to {max(ratios):.2f}× over {len(ratios)} cases")


if __name__ == "__main__":
    main(sys.argv[1])
