#!/usr/bin/env python3
"""Writes core/src/main/java/dev/flashattn4j/kernel/PanelBlocks.java: the register blocks of
PanelKernel, one method per shape, unrolled by hand as the JIT needs them (a vector held in an
array, or passed to a method that is not inlined, lives on the heap).

Each block computes, for x < X values of b and V vectors of rows starting at row r,

    out[o0 + x*ld + r + v*L ...] = alpha * out[...] (or 0) + sum_{t < nt} b[...] * a[t*ld + r + v*L ...]

with one FMA chain per output over t in order, so every block gives the bits of the scalar twin.
Three ways to index b:
  scores      b[b0 + x*sx + t]     (K's rows, the reduction runs along a row: stride 1)
  accumulate  b[b0 + t*st + x]     (V's rows, the x values are one row's neighbours)
  any         b[b0 + x*sx + t*st]  (the tails)
The first two give the JIT indices it can prove in bounds once per loop, so the loop keeps only
the checks of the panel's loads and fewer integer registers, which a 16-register machine needs.

Usage: python3 scripts/gen_panel_blocks.py [OUT]   (then the build formats the file;
`make check-generated` compares the committed file with a fresh one)
"""

import os
import sys

MAIN = [(6, 2), (4, 4)]
# Panel strides (B_r, or d padded) that get a block of their own with the stride written in: the
# JIT can then prove the panel's loads in bounds once per loop (it cannot for a variable stride),
# which frees the loop of two checks and two integer registers: +5-7% on a 6 x 2 block (AVX2); on
# the 4 x 4 block (AVX-512) llvm-mca puts the step at 9.4 cycles on Sapphire Rapids against 10.4
# with the variable stride (8 for the FMAs alone). docs/BENCHMARKS.md has both.
LD_CONSTANTS = [64, 128]
CONSTANT_LD_BLOCKS = [(6, 2), (4, 4)]
TAILS = [(6, 1), (4, 1), (2, 1), (1, 1), (4, 2), (2, 2), (1, 2), (2, 4), (1, 4)]


def step(X, V, mode, declare, indent="      "):
    """One step t of the reduction: V panel loads, X broadcasts, X*V FMAs."""
    L = []
    decl = "FloatVector " if declare else ""
    for v in range(V):
        L.append(f"{indent}{decl}a{v} = FloatVector.fromArray(SPECIES, a, ai + {v} * l);")
    for x in range(X):
        index = {"accumulate": f"bt + {x}", "scores": f"b{x} + t", "any": f"b{x} + bt"}[mode]
        L.append(f"{indent}{decl if x == 0 else ''}x = FloatVector.broadcast(SPECIES, b[{index}]);")
        for v in range(V):
            L.append(f"{indent}c{x}{v} = a{v}.fma(x, c{x}{v});")
    return L


def block(X, V, mode, ld=None):
    name = f"block{X}x{V}" + {"any": "", "scores": "Scores", "accumulate": "Accumulate"}[mode]
    strides = {"any": "int sx, int st,", "scores": "int sx,", "accumulate": "int st,"}[mode]
    if ld is None:
        L = [f"  static void {name}(float[] a, int ld, int r, float[] b, int b0, {strides} int nt,"
             f" float[] out, int o0, float[] alpha) {{",
             "    final int l = LANES;"]
    else:
        L = [f"  private static void {name}Ld{ld}(float[] a, int r, float[] b, int b0, {strides}"
             f" int nt, float[] out, int o0, float[] alpha) {{",
             "    final int l = LANES;",
             f"    final int ld = {ld};"]
    for x in range(X):
        L.append(f"    int p{x} = o0 + {x} * ld + r;")
    for x in range(X):
        for v in range(V):
            L.append(f"    FloatVector c{x}{v} = init(out, p{x} + {v} * l, alpha, r + {v} * l);")
    if mode != "accumulate":
        for x in range(1, X):
            L.append(f"    int b{x} = b0 + {x} * sx;")
    if mode == "accumulate":
        L.append("    for (int t = 0, ai = r, bt = b0; t < nt; t++, ai += ld, bt += st) {")
    elif mode == "scores":
        L.append("    for (int t = 0, ai = r; t < nt; t++, ai += ld) {")
    else:
        L.append("    for (int t = 0, ai = r, bt = 0; t < nt; t++, ai += ld, bt += st) {")
    L += step(X, V, mode, declare=True)
    L.append("    }")
    for x in range(X):
        for v in range(V):
            L.append(f"    c{x}{v}.intoArray(out, p{x} + {v} * l);")
    L.append("  }")
    text = "\n".join(L)
    for old, new in [(" + 0 * ld", ""), (" + 0 * l", ""), (" + 1 * sx", " + sx"), (" + 1 * l", " + l"),
                     (" + 1 * ld", " + ld"), ("bt + 0]", "bt]"), (" + 0]", "]")]:
        text = text.replace(old, new)
    return text


def by_stride(X, V, mode):
    """Picks the block whose panel stride is a constant when ld is one of LD_CONSTANTS."""
    name = f"block{X}x{V}" + {"scores": "Scores", "accumulate": "Accumulate"}[mode]
    strides = {"scores": "int sx,", "accumulate": "int st,"}[mode]
    stride = {"scores": "sx", "accumulate": "st"}[mode]
    method = {"scores": "scores", "accumulate": "accumulate"}[mode] + f"{X}x{V}"
    L = [f"  /** {name} with the panel stride ld; a constant stride for ld = "
         + ", ".join(str(c) for c in LD_CONSTANTS) + ". */",
         f"  static void {method}(float[] a, int ld, int r, float[] b, int b0, {strides} int nt,"
         f" float[] out, int o0, float[] alpha) {{",
         "    switch (ld) {"]
    for c in LD_CONSTANTS:
        L.append(f"      case {c} -> {name}Ld{c}(a, r, b, b0, {stride}, nt, out, o0, alpha);")
    L.append(f"      default -> {name}(a, ld, r, b, b0, {stride}, nt, out, o0, alpha);")
    L.append("    }")
    L.append("  }")
    return "\n".join(L)


def dispatch():
    L = ["  /** Runs the tail block of x values by vs vectors ({@code any} indexing). */",
         "  static void tail(int xs, int vs, float[] a, int ld, int r, float[] b, int b0, int sx, int st,"
         " int nt, float[] out, int o0, float[] alpha) {",
         "    switch (xs * 8 + vs) {"]
    for X, V in TAILS:
        L.append(f"      case {X * 8 + V} -> block{X}x{V}(a, ld, r, b, b0, sx, st, nt, out, o0, alpha);")
    L.append('      default -> throw new IllegalStateException("no tail block " + xs + "x" + vs);')
    L.append("    }")
    L.append("  }")
    return "\n".join(L)


HEADER = """package dev.flashattn4j.kernel;

import static dev.flashattn4j.internal.Simd.LANES;
import static dev.flashattn4j.internal.Simd.SPECIES;

import jdk.incubator.vector.FloatVector;

/**
 * The register blocks of {@link PanelKernel}, written out by {@code scripts/gen_panel_blocks.py}
 * (edit the script, not this file). A block {@code blockXxV} keeps X·V accumulators: X values of b
 * by V vectors of rows; its reduction loop loads V vectors of the panel, broadcasts X scalars of b
 * and issues X·V FMAs. {@code Scores} blocks read b along a row (Sᵀ = K Qᵀ), {@code Accumulate}
 * blocks read X neighbours of one row (Oᵀ += Vᵀ Pᵀ), the others take both strides (tails). The
 * main blocks also come with the panel stride ld written in as a constant ({@code Ld64}, {@code
 * Ld128}), picked by {@code scores6x2}, {@code accumulate6x2}, {@code scores4x4} and {@code
 * accumulate4x4}: the JIT proves the panel's loads in bounds once per loop only when the stride is a
 * constant.
 */
final class PanelBlocks {

  private PanelBlocks() {}

  private static FloatVector init(float[] out, int o, float[] alpha, int r) {
    if (alpha == null) {
      return FloatVector.zero(SPECIES);
    }
    return FloatVector.fromArray(SPECIES, out, o).mul(FloatVector.fromArray(SPECIES, alpha, r));
  }

"""


def main():
    parts = [dispatch()]
    for X, V in MAIN:
        for mode in ["scores", "accumulate"]:
            if (X, V) in CONSTANT_LD_BLOCKS:
                parts.append(by_stride(X, V, mode))
                for c in LD_CONSTANTS:
                    parts.append(block(X, V, mode, c))
            parts.append(block(X, V, mode))
    for X, V in TAILS:
        parts.append(block(X, V, "any"))
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "core", "src", "main", "java", "dev", "flashattn4j", "kernel",
                        "PanelBlocks.java")
    if len(sys.argv) > 1:  # scripts/check-generated.sh writes elsewhere and compares
        path = sys.argv[1]
    with open(path, "w") as f:
        f.write(HEADER + "\n\n".join(parts) + "\n}\n")


if __name__ == "__main__":
    main()
