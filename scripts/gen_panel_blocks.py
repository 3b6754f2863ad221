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

Usage: python3 scripts/gen_panel_blocks.py   (then the build formats the file)
"""

import os

MAIN = [(6, 2), (4, 4)]
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


def block(X, V, mode):
    name = f"block{X}x{V}" + {"any": "", "scores": "Scores", "accumulate": "Accumulate"}[mode]
    strides = {"any": "int sx, int st,", "scores": "int sx,", "accumulate": "int st,"}[mode]
    L = [f"  static void {name}(float[] a, int ld, int r, float[] b, int b0, {strides} int nt,"
         f" float[] out, int o0, float[] alpha) {{",
         "    final int l = LANES;"]
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

import static dev.flashattn4j.kernel.Simd.LANES;
import static dev.flashattn4j.kernel.Simd.SPECIES;

import jdk.incubator.vector.FloatVector;

/**
 * The register blocks of {@link PanelKernel}, written out by {@code scripts/gen_panel_blocks.py}
 * (edit the script, not this file). A block {@code blockXxV} keeps X·V accumulators: X values of b
 * by V vectors of rows; its reduction loop loads V vectors of the panel, broadcasts X scalars of b
 * and issues X·V FMAs. {@code Scores} blocks read b along a row (Sᵀ = K Qᵀ), {@code Accumulate}
 * blocks read X neighbours of one row (Oᵀ += Vᵀ Pᵀ), the others take both strides (tails).
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
        parts.append(block(X, V, "scores"))
        parts.append(block(X, V, "accumulate"))
    for X, V in TAILS:
        parts.append(block(X, V, "any"))
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "core", "src", "main", "java", "dev", "flashattn4j", "kernel",
                        "PanelBlocks.java")
    with open(path, "w") as f:
        f.write(HEADER + "\n\n".join(parts) + "\n}\n")


if __name__ == "__main__":
    main()
