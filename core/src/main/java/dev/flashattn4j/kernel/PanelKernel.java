package dev.flashattn4j.kernel;

import static dev.flashattn4j.internal.Simd.LANES;

import dev.flashattn4j.config.MicroKernel;
import dev.flashattn4j.internal.Simd;

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
 * 1) it is Sᵀ = K Qᵀ ({@link #scores}); with A = Pᵀ (t = key) and b = V (sx = 1, st = V's row
 * stride) it is Oᵀ = α·Oᵀ + Vᵀ Pᵀ ({@link #accumulate}), the online-softmax rescale α fused into
 * the load of the accumulators. Neither K nor V is copied or transposed, and any head dimension
 * works without a tail loop, because the vector dimension is the rows.
 *
 * <p>The vector path keeps a {@link MicroKernel} block of accumulators in registers: X values of b
 * by V vectors of rows (6 × 2 for 16 vector registers, 4 × 4 for 32; {@link PanelBlocks}). Each
 * product has its own copy of the block, with the stride that is 1 written into the index, so that
 * the JIT checks b's bounds once per loop instead of once per load and keeps the loop's integers in
 * registers. Tails run smaller blocks: 4, 2 and 1 values of b by V vectors, then X, 4, 2 or 1
 * values by one vector. Every block sums each output over t in order with one FMA chain, so every
 * shape gives the same bits as {@link #scalar}, the twin without vectors.
 */
final class PanelKernel {

  private PanelKernel() {}

  /**
   * Sᵀ = K Qᵀ: {@code s[j·ld + r] = Σ_{c < d} k[kOff + j·kStride + c] · qt[c·ld + r]}.
   *
   * @param qt the Qᵀ panel, {@code qt[c·ld + r]} for c &lt; d, r &lt; rows
   * @param rows rows to compute, a multiple of {@link Simd#LANES}, at most {@code ld}
   * @param keys the keys of the tile (output rows j)
   */
  static void scores(
      MicroKernel shape,
      float[] qt,
      int ld,
      int rows,
      float[] k,
      int kOff,
      int kStride,
      int keys,
      int d,
      float[] s) {
    scores(shape, qt, ld, rows, k, kOff, kStride, keys, d, s, 0, null);
  }

  /**
   * {@link #scores} into {@code out} from {@code outOff} on, each output first scaled by α: {@code
   * out[outOff + x·ld + r] = α[r]·out[…] + Σ_{t < nt} b[bOff + x·sx + t] · a[t·ld + r]}. With α = 1
   * it adds the product to what is there (the backward's dK and dV), in one FMA chain per output
   * that starts from the old value.
   *
   * @param alpha per-row factor on the old outputs (length ≥ rows), or null to overwrite them
   */
  static void scores(
      MicroKernel shape,
      float[] a,
      int ld,
      int rows,
      float[] b,
      int bOff,
      int sx,
      int nx,
      int nt,
      float[] out,
      int outOff,
      float[] alpha) {
    int xs = shape.x();
    int span = shape.vectors() * LANES;
    int x = 0;
    for (; x + xs <= nx; x += xs) {
      int b0 = bOff + x * sx;
      int o0 = outOff + x * ld;
      int r = 0;
      for (; r + span <= rows; r += span) {
        switch (shape) {
          case X6V2 -> PanelBlocks.scores6x2(a, ld, r, b, b0, sx, nt, out, o0, alpha);
          case X4V4 -> PanelBlocks.scores4x4(a, ld, r, b, b0, sx, nt, out, o0, alpha);
        }
      }
      tailRows(xs, a, ld, r, rows, b, b0, sx, 1, nt, out, o0, alpha);
    }
    tailX(shape, x, a, ld, rows, b, bOff, sx, 1, nx, nt, out, outOff, alpha);
  }

  /**
   * Oᵀ = α·Oᵀ + Vᵀ Pᵀ: {@code ot[c·ld + r] = α[r]·ot[c·ld + r] + Σ_{j < keys} v[vOff + j·vStride +
   * c] · pt[j·ld + r]}.
   *
   * @param pt the Pᵀ tile, {@code pt[j·ld + r]} for j &lt; keys, r &lt; rows
   * @param rows rows to compute, a multiple of {@link Simd#LANES}, at most {@code ld}
   * @param alpha per-row factor on the old Oᵀ (length ≥ rows), or null to overwrite it
   */
  static void accumulate(
      MicroKernel shape,
      float[] pt,
      int ld,
      int rows,
      float[] v,
      int vOff,
      int vStride,
      int dv,
      int keys,
      float[] ot,
      float[] alpha) {
    int xs = shape.x();
    int span = shape.vectors() * LANES;
    int x = 0;
    for (; x + xs <= dv; x += xs) {
      int b0 = vOff + x;
      int o0 = x * ld;
      int r = 0;
      for (; r + span <= rows; r += span) {
        switch (shape) {
          case X6V2 -> PanelBlocks.accumulate6x2(pt, ld, r, v, b0, vStride, keys, ot, o0, alpha);
          case X4V4 -> PanelBlocks.accumulate4x4(pt, ld, r, v, b0, vStride, keys, ot, o0, alpha);
        }
      }
      tailRows(xs, pt, ld, r, rows, v, b0, 1, vStride, keys, ot, o0, alpha);
    }
    tailX(shape, x, pt, ld, rows, v, vOff, 1, vStride, dv, keys, ot, 0, alpha);
  }

  /** Rows [r, rows) of a block of xs values of b: one vector at a time, xs·1 accumulators. */
  private static void tailRows(
      int xs,
      float[] a,
      int ld,
      int r,
      int rows,
      float[] b,
      int b0,
      int sx,
      int st,
      int nt,
      float[] out,
      int o0,
      float[] alpha) {
    for (; r < rows; r += LANES) {
      PanelBlocks.tail(xs, 1, a, ld, r, b, b0, sx, st, nt, out, o0, alpha);
    }
  }

  /** The values of b from x on, fewer than the shape's X: blocks of 4, 2 and 1 values. */
  private static void tailX(
      MicroKernel shape,
      int x,
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
      int outOff,
      float[] alpha) {
    int vs = shape.vectors();
    int span = vs * LANES;
    for (int xs = 4; xs >= 1; xs /= 2) {
      for (; x + xs <= nx; x += xs) {
        int b0 = bOff + x * sx;
        int o0 = outOff + x * ld;
        int r = 0;
        for (; r + span <= rows; r += span) {
          PanelBlocks.tail(xs, vs, a, ld, r, b, b0, sx, st, nt, out, o0, alpha);
        }
        tailRows(xs, a, ld, r, rows, b, b0, sx, st, nt, out, o0, alpha);
      }
    }
  }

  /**
   * The scalar twin of {@link #scores} and {@link #accumulate}: the same product, one float at a
   * time ({@code rows} may be any count).
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
    product(a, ld, rows, b, bOff, sx, st, nx, nt, out, 0, alpha, SKIP_NONE);
  }

  /** {@link #scalar} into {@code out} from {@code outOff} on (the twin of the offset scores). */
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
      int outOff,
      float[] alpha) {
    product(a, ld, rows, b, bOff, sx, st, nx, nt, out, outOff, alpha, SKIP_NONE);
  }

  /**
   * {@link #scalar} without the terms whose a is exactly 0: for a P tile, the keys a row cannot see
   * (and weights that underflowed), so that a NaN or ±∞ in such a key's value row never reaches the
   * row. Otherwise the same order of FMAs, so the same bits as {@link #scalar} on finite b.
   */
  static void scalarSkippingZeros(
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
    product(a, ld, rows, b, bOff, sx, st, nx, nt, out, 0, alpha, SKIP_A);
  }

  /**
   * {@link #scalar} into {@code out} from {@code outOff} on, without the terms whose b is exactly
   * 0: for the backward's dV += Pᵀ·dO and dK += dSᵀ·Q, where b is a P or dS tile, so that a NaN or
   * ±∞ in a query row or dO row never reaches a key the row cannot see.
   */
  static void scalarSkippingZeroB(
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
      int outOff,
      float[] alpha) {
    product(a, ld, rows, b, bOff, sx, st, nx, nt, out, outOff, alpha, SKIP_B);
  }

  private static final int SKIP_NONE = 0;
  private static final int SKIP_A = 1;
  private static final int SKIP_B = 2;

  private static void product(
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
      int outOff,
      float[] alpha,
      int skip) {
    for (int x = 0; x < nx; x++) {
      int o = outOff + x * ld;
      for (int r = 0; r < rows; r++) {
        out[o + r] = alpha == null ? 0f : out[o + r] * alpha[r];
      }
      for (int t = 0, ai = 0, bi = bOff + x * sx; t < nt; t++, ai += ld, bi += st) {
        float bv = b[bi];
        if (skip == SKIP_B && bv == 0f) {
          continue;
        }
        for (int r = 0; r < rows; r++) {
          float p = a[ai + r];
          if (skip != SKIP_A || p != 0f) {
            out[o + r] = Math.fma(p, bv, out[o + r]);
          }
        }
      }
    }
  }
}
