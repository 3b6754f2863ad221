#!/usr/bin/env python3
"""The results section of docs/BENCHMARKS.md, from what scripts/bench_all.sh wrote in docs/bench.

For each shape: the fast kernel's median and best GFLOP/s and % of the FMA peak of the same run,
PyTorch's, their ratio, and the 2-thread speedup; the paper and naive rows; the 256-bit, scalar,
N = 65,536, exp and options runs; the machine's load. Standard library only.
Usage: python3 scripts/bench_report.py [docs/bench]
"""

import csv
import os
import re
import sys


def load(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def text(d, name):
    path = os.path.join(d, name)
    return open(path).read() if os.path.exists(path) else ""


def fast_line(txt):
    """The numbers of the first `fast` row of a ./flashattn bench table, and the header lines."""
    rows = [l.split() for l in txt.splitlines() if l.startswith("fast ")]
    head = [l for l in txt.splitlines() if l.startswith(("FMA peak", "FMA rate", "JDK"))]
    return (rows[0] if rows else None), head


def main(argv):
    d = argv[0] if argv else "docs/bench"
    load_txt = text(d, "load.txt").strip().splitlines()
    if load_txt:
        print("Load before and after: " + "; ".join(l.strip() for l in load_txt if "load" in l) + "\n")
    jt = text(d, "java.txt")
    for l in jt.splitlines():
        if l.startswith(("FMA peak", "FMA rate")):
            print("- " + l)
    print()
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
    print()
    print("| kernel | N | d | causal | median ms | GFLOP/s | % peak | extra memory per call |")
    print("|---|---|---|---|---|---|---|---|")
    for r in java:
        if r["kernel"] == "fast":
            continue
        print(f"| {r['kernel']} | {r['n']} | {r['d']} | {r['causal']} | {float(r['median_ms']):.1f} "
              f"| {float(r['gflop_per_s']):.1f} | {float(r['pct_of_peak']):.1f}% "
              f"| {int(r['extra_bytes']) / 2**20:.1f} MiB |")
    skipped = [l for l in jt.splitlines() if l.startswith("skipped:")]
    if skipped:
        print()
        print("Skipped: " + "; ".join(l[len("skipped: "):] for l in skipped) + ".")
    print()
    for name, what in (("java-256bit.txt", "256-bit vectors"), ("java-scalar.txt", "scalar twins")):
        row, head = fast_line(text(d, name))
        if row:
            print(f"- {what}: T={row[1]} N={row[4]} d={row[5]} {row[6]}: {row[7]} ms, {row[8]} GFLOP/s, "
                  f"{row[9]} of the peak; extra memory {row[10]} {row[11]}. "
                  + " ".join(h for h in head if h.startswith("FMA peak")))
    long_rows = [l.split() for l in text(d, "java-64k.txt").splitlines() if l.startswith("fast ")]
    by_n = {int(r[4]): r for r in long_rows}
    for n, r in sorted(by_n.items()):
        print(f"- H = 1, d = 64, -Xmx150m, T={r[1]}, N = {n:,}: {r[7]} ms, {r[8]} GFLOP/s, {r[9]} of the "
              f"peak; extra memory {r[10]} {r[11]}")
    if 4096 in by_n and 65536 in by_n:
        ratio = float(by_n[65536][8]) / float(by_n[4096][8])
        print(f"- N = 65,536 keeps {100 * ratio:.0f}% of the N = 4096 rate (same run, same H = 1)")
    for name, title in (("c-yardsticks.txt", "Independent yardsticks (C, scripts/c/)"),
                        ("decode.txt", "Decode step (`./flashattn bench-decode`, H_q = 32, H_kv = 8, "
                                       "d = 128, batch 1)"),
                        ("history.txt", "History (`scripts/bench_history.py`): each case alone "
                                        "against the whole grid in one JVM, shuffled")):
        body = text(d, name).strip()
        if body:
            print()
            print(title + ":")
            print()
            print("```")
            print(body)
            print("```")
    exp = text(d, "exp.txt")
    for l in exp.splitlines():
        m = re.match(r"ExpBenchmark\.(\w+)\s+avgt\s+\d+\s+([\d.]+)\s+±\s+([\d.]+)", l)
        if m:
            print(f"- ExpBenchmark.{m.group(1)}: {m.group(2)} ± {m.group(3)} ns per 8192 floats")
    opts = []
    for l in text(d, "options.txt").splitlines():
        m = re.match(r"OptionsBenchmark\.forward\s+(\w+)\s+avgt\s+\d+\s+([\d.]+)\s+±\s+([\d.]+)", l)
        if m:
            opts.append((m.group(1), float(m.group(2)), float(m.group(3))))
    if opts:
        plain = dict((o, t) for o, t, _ in opts).get("plain")
        print()
        print("Cost of each option (`OptionsBenchmark`, 1 thread, H = 8, N = 2048, d = 64):")
        print()
        print("| option | ms per call | vs plain |")
        print("|---|---|---|")
        for o, t, e in opts:
            rel = f"{t / plain:.2f}×" if plain else ""
            print(f"| {o} | {t:.1f} ± {e:.1f} | {rel} |")


if __name__ == "__main__":
    main(sys.argv[1:])
