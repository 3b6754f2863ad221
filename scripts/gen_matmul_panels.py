#!/usr/bin/env python3
"""Writes model/src/main/java/dev/flashattn4j/model/MatMulPanels.java: the register blocks of the
model's MatMul (y = x·Wᵀ), one method per (rows, weight type: float32, bfloat16, Q8_0), unrolled by hand as the JIT needs
them (a vector held in an array, or passed to a method that is not inlined, lives on the heap).

A block panelR keeps R × 2 accumulators: R rows of x by one panel of W (2 vectors of outputs);
each step k loads the panel's 2 vectors of W[k] (widened from bfloat16 for the Bf16 blocks; for
the Q8 blocks widened from int8 and multiplied by the block's 2 vectors of scales, q·d, which is
exact in float32), broadcasts x[r][k] for each row and issues 2·R FMAs. Every output is one FMA chain over k
ascending, so every block gives the bits of the scalar twin. 6 rows (12 accumulators) is the main
block; 4 and 1 take the rest of a chunk. The stores are written out in each block. The float32
blocks read their panel from (wf, base): the matrix's own array, or a Q8_0 panel that MatMul has
dequantised into a thread's scratch for a chunk of many rows (prefill).

Usage: python3 scripts/gen_matmul_panels.py [OUT]   (then the build formats the file;
`make check-generated` compares the committed file with a fresh one)
"""

import os
import sys

# 6 rows (12 accumulators) fit 16 vector registers; 12 rows (24) were measured on Zen 5 (AVX-512,
# 32 registers) and gave 0.97-1.0x the speed of 6 (the 12 row bases of x spill to the stack), so
# they are not generated (docs/BENCHMARKS.md, issue 18).
ROWS = [6, 4, 1]


def panel(rows, kind):
    bf16 = kind == "bf16"
    q8 = kind == "q8"
    name = f"panel{rows}" + {"f32": "", "bf16": "Bf16", "q8": "Q8"}[kind]
    if kind == "f32":
        # the float32 blocks take their panel from an array and offset: the matrix's own, or a
        # Q8_0 panel dequantised into scratch (MatMul, prefill)
        L = [f"  static void {name}(float[] x, int t, PackedMatrix w, int p, float[] wf, int base, float[] y, float[] bias, float[] tail) {{",
             "    int k = w.inputs();"]
    else:
        L = [f"  static void {name}(float[] x, int t, PackedMatrix w, int p, float[] y, float[] bias, float[] tail) {{",
             "    int k = w.inputs();"]
    if bf16:
        L.append("    short[] ws = w.bf16();")
    elif q8:
        L.append("    byte[] wq = w.q8();")
        L.append("    float[] sc = w.scales();")
        L.append("    int blocks = w.blocks();")
        L.append("    int sBase = p * P * blocks;")
    if kind != "f32":
        L.append("    int base = p * P * k;")
    L.append("    int x0 = t * k;")
    for r in range(1, rows):
        L.append(f"    int x{r} = x{r - 1} + k;")
    L.append("    FloatVector a0 = FloatVector.zero(Simd.FLOATS);")
    L.append("    FloatVector b0 = a0;")
    for r in range(1, rows):
        L.append(f"    FloatVector a{r} = a0;")
        L.append(f"    FloatVector b{r} = a0;")
    ind = "      " if q8 else "    "
    if q8:
        L.append("    for (int b = 0; b < blocks; b++) {")
        L.append("      FloatVector s0 = FloatVector.fromArray(Simd.FLOATS, sc, sBase + b * P);")
        L.append("      FloatVector s1 = FloatVector.fromArray(Simd.FLOATS, sc, sBase + b * P + L);")
        L.append("      int end = Math.min(k, (b + 1) * Q8Rows.BLOCK);")
        L.append("      for (int i = b * Q8Rows.BLOCK; i < end; i++) {")
        L.append("        FloatVector w0 = Simd.widenQ8(wq, base + i * P).mul(s0);")
        L.append("        FloatVector w1 = Simd.widenQ8(wq, base + i * P + L).mul(s1);")
    else:
        L.append("    for (int i = 0; i < k; i++) {")
    if q8:
        pass
    elif bf16:
        L.append("      FloatVector w0 = Simd.widen(ShortVector.fromArray(Simd.SHORTS, ws, base + i * P));")
        L.append("      FloatVector w1 = Simd.widen(ShortVector.fromArray(Simd.SHORTS, ws, base + i * P + L));")
    else:
        L.append("      FloatVector w0 = FloatVector.fromArray(Simd.FLOATS, wf, base + i * P);")
        L.append("      FloatVector w1 = FloatVector.fromArray(Simd.FLOATS, wf, base + i * P + L);")
    for r in range(rows):
        L.append(f"  {ind}{'FloatVector ' if r == 0 else ''}v = FloatVector.broadcast(Simd.FLOATS, x[x{r} + i]);")
        L.append(f"  {ind}a{r} = w0.fma(v, a{r});")
        L.append(f"  {ind}b{r} = w1.fma(v, b{r});")
    if q8:
        L.append("      }")
    L.append("    }")
    # the stores written out here: a vector passed to a method the JIT does not inline is boxed,
    # and with 12 rows C2 ran out of inlining budget for twelve calls and boxed in the loop
    L.append("    int o = w.outputs();")
    L.append("    int col = p * P;")
    L.append("    if (col + P <= o && bias == null) {")
    L.append("      int at = t * o + col;")
    for r in range(rows):
        L.append(f"      a{r}.intoArray(y, at);")
        L.append(f"      b{r}.intoArray(y, at + L);")
        if r + 1 < rows:
            L.append("      at += o;")
    L.append("    } else {")
    for r in range(rows):
        L.append(f"      a{r}.intoArray(tail, 0);")
        L.append(f"      b{r}.intoArray(tail, L);")
        L.append(f"      MatMul.storeTail(y, t{' + ' + str(r) if r else ''}, w, p, bias, tail);")
    L.append("    }")
    L.append("  }")
    return "\n".join(L)


HEADER = """package dev.flashattn4j.model;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;

/**
 * The register blocks of {@link MatMul}, written out by {@code scripts/gen_matmul_panels.py} (edit
 * the script, not this file). A block {@code panelR} keeps R × 2 accumulators: R rows of x by one
 * panel of W (2 vectors of outputs); each step k loads the panel's two vectors of W (widened from
 * bfloat16 in the {@code Bf16} blocks; in the {@code Q8} blocks widened from int8 and multiplied by
 * the 32-row block's two vectors of scales: q·d, exact in float32), broadcasts x[r][k] for each row
 * and issues 2·R FMAs. Every output is one FMA chain over k ascending, so all blocks give the bits
 * of the scalar twin. 6 rows (12 accumulators) is the main block, 4 and 1 the tails of a chunk.
 */
final class MatMulPanels {

  private static final int L = Simd.LANES;
  private static final int P = PackedMatrix.PANEL;

  private MatMulPanels() {}

"""


def main():
    parts = [panel(r, kind) for r in ROWS for kind in ("f32", "bf16", "q8")]
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "model", "src", "main", "java", "dev", "flashattn4j", "model",
                        "MatMulPanels.java")
    if len(sys.argv) > 1:  # scripts/check-generated.sh writes elsewhere and compares
        path = sys.argv[1]
    with open(path, "w") as f:
        f.write(HEADER + "\n\n".join(parts) + "\n}\n")


if __name__ == "__main__":
    main()
