#!/usr/bin/env python3
"""Does a case's speed depend on what ran before it in the same JVM?

Runs every case of a grid alone (a fresh JVM per case, as a forked JMH run would), then the whole
grid in one JVM in shuffled orders, and prints each case's GFLOP/s both ways and their ratio. A
case is flagged when the grid's figure is more than --tolerance below the case alone. Each figure
is the best of --repeats runs (separate JVMs for the alone runs, different shuffles for the grid),
so that a moment when another process held the core does not count against either side.

Needs only the project's ./flashattn (and Python's standard library).

Usage:
  python3 scripts/bench_history.py [--n 1024,4096] [--d 64,128] [--threads 1,2]
      [--causal both] [--heads 8] [--repeats 2] [--tolerance 0.10] [--csv OUT.csv]
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
LAUNCHER = os.path.join(HERE, "..", "flashattn")


def bench(args, extra):
    """Runs ./flashattn bench with these flags; returns {(threads, n, d, causal): gflops}."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "rows.csv")
        cmd = [LAUNCHER, "bench", "--kernel", "fast", "--heads", str(args.heads), "--iters",
               str(args.iters), "--no-progress", "--csv", out] + extra
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            sys.exit("failed: " + " ".join(cmd) + "\n" + done.stderr)
        header = done.stdout.splitlines()[:2]
        with open(out, newline="") as f:
            rows = {(int(r["threads"]), int(r["n"]), int(r["d"]), r["causal"]):
                    float(r["gflop_per_s"]) for r in csv.DictReader(f)}
        return rows, header


def main(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", default="1024,4096")
    p.add_argument("--d", default="64,128")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--causal", default="both")
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--tolerance", type=float, default=0.10)
    p.add_argument("--csv", default=None)
    args = p.parse_args(argv)
    grid = ["--n", args.n, "--d", args.d, "--threads", args.threads, "--causal", args.causal]

    together = {}
    header = []
    for seed in range(1, args.repeats + 1):
        rows, header = bench(args, grid + ["--shuffle", str(seed)])
        for key, g in rows.items():
            together[key] = max(together.get(key, 0.0), g)
    alone = {}
    for key in sorted(together):
        t, n, d, causal = key
        for _ in range(args.repeats):
            rows, _ = bench(args, ["--n", str(n), "--d", str(d), "--threads", str(t),
                                   "--causal", causal])
            alone[key] = max(alone.get(key, 0.0), rows[key])

    print("\n".join(header))
    print(f"best of {args.repeats}: alone = one JVM per case; grid = all {len(together)} cases in"
          f" one JVM, shuffled (seeds 1..{args.repeats})")
    print("%7s %6s %4s %-9s %12s %12s %7s" % ("threads", "N", "d", "causal", "alone GF/s",
                                                "grid GF/s", "ratio"))
    worst = 1.0
    out = []
    for key in sorted(together):
        t, n, d, causal = key
        ratio = together[key] / alone[key]
        worst = min(worst, ratio)
        flag = "" if ratio >= 1 - args.tolerance else "  <-- slower in the grid"
        print("%7d %6d %4d %-9s %12.1f %12.1f %7.3f%s" % (t, n, d, causal, alone[key],
                                                         together[key], ratio, flag))
        out.append([t, n, d, causal, f"{alone[key]:.3f}", f"{together[key]:.3f}", f"{ratio:.4f}"])
    print(f"worst ratio {worst:.3f} (tolerance {1 - args.tolerance:.2f})")
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["threads", "n", "d", "causal", "alone_gflop_per_s", "grid_gflop_per_s",
                        "ratio"])
            w.writerows(out)
    return 0 if worst >= 1 - args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
