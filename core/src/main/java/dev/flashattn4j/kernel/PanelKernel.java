package dev.flashattn4j.kernel;

import static dev.flashattn4j.kernel.Simd.LANES;
import static dev.flashattn4j.kernel.Simd.SPECIES;

import jdk.incubator.vector.FloatVector;

/**
 * The register-blocked micro-kernel behind both matrix products of the forward pass. The rows of
 * the Q block are the vector lanes: a panel {@code A} is stored t-major with the rows contiguous
 * ({@code a[t·ld + r]}), so every product streams whole vectors of rows and broadcasts one scalar
 * of the other operand, read in place from the caller's tensor with explicit strides:
 *
 * <pre>
 *   out[x·ld + r] = α[r]·out[x·ld + r] + Σ_{t &lt; nt} b[bOff + x·sx + t·st] · a[t·ld + r]
 * </pre>
 *
 * for x in [0, nx) and r in [0, rows). With A = Qᵀ (t = head dim), b = K (sx = K's row stride, st =
 * 1) it is Sᵀ = K Qᵀ; with A = Pᵀ (t = key) and b = V (sx = 1, st = V's row stride) it is Oᵀ += Vᵀ
 * Pᵀ, with the online-softmax rescale α fused into the load of the accumulators. Neither K nor V is
 * copied or transposed, and any head dimension works without a tail loop, because the vector
 * dimension is the rows.
 *
 * <p>The vector path keeps 4 × 4 accumulators (4 values of x by 4 vectors of rows): per step t it
 * loads 4 vectors of A, broadcasts 4 scalars of b and issues 16 FMAs. Tails in x and in row vectors
 * fall back to 4 × 1, 1 × 4 and 1 × 1 blocks. {@link #scalar} is the twin without vectors.
 */
final class PanelKernel {

  private static final int X = 4;
  private static final int RV = 4;

  private PanelKernel() {}

  /**
   * Runs the product above.
   *
   * @param a the panel A, {@code a[t·ld + r]} for t &lt; nt and r &lt; rows
   * @param ld the row count of the panel's storage (a multiple of the lane count)
   * @param rows rows to compute, a multiple of {@link Simd#LANES}, at most {@code ld}
   * @param b the other operand, read at {@code bOff + x·sx + t·st}
   * @param nx the number of output rows x
   * @param nt the length of the reduction
   * @param out the output, {@code out[x·ld + r]}
   * @param alpha per-row factor on the old output (length ≥ rows), or null to overwrite it
   */
  static void run(
      float[] a,
      int ld,
      int rows,
      float[] b,
      int bOff,
      int sx,
      int st,
      int nx,
      int nt,
      float[] out,
      float[] alpha) {
    int x = 0;
    for (; x + X <= nx; x += X) {
      int r = 0;
      for (; r + RV * LANES <= rows; r += RV * LANES) {
        block4x4(a, ld, r, b, bOff + x * sx, sx, st, nt, out, x * ld, alpha);
      }
      for (; r < rows; r += LANES) {
        block4x1(a, ld, r, b, bOff + x * sx, sx, st, nt, out, x * ld, alpha);
      }
    }
    for (; x < nx; x++) {
      int r = 0;
      for (; r + RV * LANES <= rows; r += RV * LANES) {
        block1x4(a, ld, r, b, bOff + x * sx, st, nt, out, x * ld, alpha);
      }
      for (; r < rows; r += LANES) {
        block1x1(a, ld, r, b, bOff + x * sx, st, nt, out, x * ld, alpha);
      }
    }
  }

  private static FloatVector init(float[] out, int o, float[] alpha, int r) {
    if (alpha == null) {
      return FloatVector.zero(SPECIES);
    }
    return FloatVector.fromArray(SPECIES, out, o).mul(FloatVector.fromArray(SPECIES, alpha, r));
  }

  private static void block4x4(
      float[] a,
      int ld,
      int r,
      float[] b,
      int b0,
      int sx,
      int st,
      int nt,
      float[] out,
      int o0,
      float[] alpha) {
    final int l = LANES;
    int o1 = o0 + ld;
    int o2 = o1 + ld;
    int o3 = o2 + ld;
    FloatVector c00 = init(out, o0 + r, alpha, r);
    FloatVector c01 = init(out, o0 + r + l, alpha, r + l);
    FloatVector c02 = init(out, o0 + r + 2 * l, alpha, r + 2 * l);
    FloatVector c03 = init(out, o0 + r + 3 * l, alpha, r + 3 * l);
    FloatVector c10 = init(out, o1 + r, alpha, r);
    FloatVector c11 = init(out, o1 + r + l, alpha, r + l);
    FloatVector c12 = init(out, o1 + r + 2 * l, alpha, r + 2 * l);
    FloatVector c13 = init(out, o1 + r + 3 * l, alpha, r + 3 * l);
    FloatVector c20 = init(out, o2 + r, alpha, r);
    FloatVector c21 = init(out, o2 + r + l, alpha, r + l);
    FloatVector c22 = init(out, o2 + r + 2 * l, alpha, r + 2 * l);
    FloatVector c23 = init(out, o2 + r + 3 * l, alpha, r + 3 * l);
    FloatVector c30 = init(out, o3 + r, alpha, r);
    FloatVector c31 = init(out, o3 + r + l, alpha, r + l);
    FloatVector c32 = init(out, o3 + r + 2 * l, alpha, r + 2 * l);
    FloatVector c33 = init(out, o3 + r + 3 * l, alpha, r + 3 * l);
    int b1 = b0 + sx;
    int b2 = b1 + sx;
    int b3 = b2 + sx;
    for (int t = 0, ai = r, bt = 0; t < nt; t++, ai += ld, bt += st) {
      FloatVector a0 = FloatVector.fromArray(SPECIES, a, ai);
      FloatVector a1 = FloatVector.fromArray(SPECIES, a, ai + l);
      FloatVector a2 = FloatVector.fromArray(SPECIES, a, ai + 2 * l);
      FloatVector a3 = FloatVector.fromArray(SPECIES, a, ai + 3 * l);
      FloatVector x0 = FloatVector.broadcast(SPECIES, b[b0 + bt]);
      c00 = a0.fma(x0, c00);
      c01 = a1.fma(x0, c01);
      c02 = a2.fma(x0, c02);
      c03 = a3.fma(x0, c03);
      FloatVector x1 = FloatVector.broadcast(SPECIES, b[b1 + bt]);
      c10 = a0.fma(x1, c10);
      c11 = a1.fma(x1, c11);
      c12 = a2.fma(x1, c12);
      c13 = a3.fma(x1, c13);
      FloatVector x2 = FloatVector.broadcast(SPECIES, b[b2 + bt]);
      c20 = a0.fma(x2, c20);
      c21 = a1.fma(x2, c21);
      c22 = a2.fma(x2, c22);
      c23 = a3.fma(x2, c23);
      FloatVector x3 = FloatVector.broadcast(SPECIES, b[b3 + bt]);
      c30 = a0.fma(x3, c30);
      c31 = a1.fma(x3, c31);
      c32 = a2.fma(x3, c32);
      c33 = a3.fma(x3, c33);
    }
    c00.intoArray(out, o0 + r);
    c01.intoArray(out, o0 + r + l);
    c02.intoArray(out, o0 + r + 2 * l);
    c03.intoArray(out, o0 + r + 3 * l);
    c10.intoArray(out, o1 + r);
    c11.intoArray(out, o1 + r + l);
    c12.intoArray(out, o1 + r + 2 * l);
    c13.intoArray(out, o1 + r + 3 * l);
    c20.intoArray(out, o2 + r);
    c21.intoArray(out, o2 + r + l);
    c22.intoArray(out, o2 + r + 2 * l);
    c23.intoArray(out, o2 + r + 3 * l);
    c30.intoArray(out, o3 + r);
    c31.intoArray(out, o3 + r + l);
    c32.intoArray(out, o3 + r + 2 * l);
    c33.intoArray(out, o3 + r + 3 * l);
  }

  private static void block4x1(
      float[] a,
      int ld,
      int r,
      float[] b,
      int b0,
      int sx,
      int st,
      int nt,
      float[] out,
      int o0,
      float[] alpha) {
    int o1 = o0 + ld;
    int o2 = o1 + ld;
    int o3 = o2 + ld;
    FloatVector c0 = init(out, o0 + r, alpha, r);
    FloatVector c1 = init(out, o1 + r, alpha, r);
    FloatVector c2 = init(out, o2 + r, alpha, r);
    FloatVector c3 = init(out, o3 + r, alpha, r);
    int b1 = b0 + sx;
    int b2 = b1 + sx;
    int b3 = b2 + sx;
    for (int t = 0, ai = r, bt = 0; t < nt; t++, ai += ld, bt += st) {
      FloatVector a0 = FloatVector.fromArray(SPECIES, a, ai);
      c0 = a0.fma(FloatVector.broadcast(SPECIES, b[b0 + bt]), c0);
      c1 = a0.fma(FloatVector.broadcast(SPECIES, b[b1 + bt]), c1);
      c2 = a0.fma(FloatVector.broadcast(SPECIES, b[b2 + bt]), c2);
      c3 = a0.fma(FloatVector.broadcast(SPECIES, b[b3 + bt]), c3);
    }
    c0.intoArray(out, o0 + r);
    c1.intoArray(out, o1 + r);
    c2.intoArray(out, o2 + r);
    c3.intoArray(out, o3 + r);
  }

  private static void block1x4(
      float[] a,
      int ld,
      int r,
      float[] b,
      int b0,
      int st,
      int nt,
      float[] out,
      int o0,
      float[] alpha) {
    final int l = LANES;
    FloatVector c0 = init(out, o0 + r, alpha, r);
    FloatVector c1 = init(out, o0 + r + l, alpha, r + l);
    FloatVector c2 = init(out, o0 + r + 2 * l, alpha, r + 2 * l);
    FloatVector c3 = init(out, o0 + r + 3 * l, alpha, r + 3 * l);
    for (int t = 0, ai = r, bt = b0; t < nt; t++, ai += ld, bt += st) {
      FloatVector x0 = FloatVector.broadcast(SPECIES, b[bt]);
      c0 = FloatVector.fromArray(SPECIES, a, ai).fma(x0, c0);
      c1 = FloatVector.fromArray(SPECIES, a, ai + l).fma(x0, c1);
      c2 = FloatVector.fromArray(SPECIES, a, ai + 2 * l).fma(x0, c2);
      c3 = FloatVector.fromArray(SPECIES, a, ai + 3 * l).fma(x0, c3);
    }
    c0.intoArray(out, o0 + r);
    c1.intoArray(out, o0 + r + l);
    c2.intoArray(out, o0 + r + 2 * l);
    c3.intoArray(out, o0 + r + 3 * l);
  }

  private static void block1x1(
      float[] a,
      int ld,
      int r,
      float[] b,
      int b0,
      int st,
      int nt,
      float[] out,
      int o0,
      float[] alpha) {
    FloatVector c0 = init(out, o0 + r, alpha, r);
    for (int t = 0, ai = r, bt = b0; t < nt; t++, ai += ld, bt += st) {
      c0 = FloatVector.fromArray(SPECIES, a, ai).fma(FloatVector.broadcast(SPECIES, b[bt]), c0);
    }
    c0.intoArray(out, o0 + r);
  }

  /**
   * The scalar twin of {@link #run}: the same product, one float at a time ({@code rows} may be any
   * count).
   */
  static void scalar(
      float[] a,
      int ld,
      int rows,
      float[] b,
      int bOff,
      int sx,
      int st,
      int nx,
      int nt,
      float[] out,
      float[] alpha) {
    for (int x = 0; x < nx; x++) {
      int o = x * ld;
      if (alpha == null) {
        for (int r = 0; r < rows; r++) {
          out[o + r] = 0f;
        }
      } else {
        for (int r = 0; r < rows; r++) {
          out[o + r] *= alpha[r];
        }
      }
      for (int t = 0, ai = 0, bi = bOff + x * sx; t < nt; t++, ai += ld, bi += st) {
        float bv = b[bi];
        for (int r = 0; r < rows; r++) {
          out[o + r] = Math.fma(a[ai + r], bv, out[o + r]);
        }
      }
    }
  }
}
