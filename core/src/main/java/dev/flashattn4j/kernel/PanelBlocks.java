package dev.flashattn4j.kernel;

import static dev.flashattn4j.internal.Simd.LANES;
import static dev.flashattn4j.internal.Simd.SPECIES;

import jdk.incubator.vector.FloatVector;

/**
 * The register blocks of {@link PanelKernel}, written out by {@code scripts/gen_panel_blocks.py}
 * (edit the script, not this file). A block {@code blockXxV} keeps X·V accumulators: X values of b
 * by V vectors of rows; its reduction loop loads V vectors of the panel, broadcasts X scalars of b
 * and issues X·V FMAs. {@code Scores} blocks read b along a row (Sᵀ = K Qᵀ), {@code Accumulate}
 * blocks read X neighbours of one row (Oᵀ += Vᵀ Pᵀ), the others take both strides (tails). The main
 * blocks also come with the panel stride ld written in as a constant ({@code Ld64}, {@code Ld128}),
 * picked by {@code scores6x2}, {@code accumulate6x2}, {@code scores4x4} and {@code accumulate4x4}:
 * the JIT proves the panel's loads in bounds once per loop only when the stride is a constant.
 */
final class PanelBlocks {

  private PanelBlocks() {}

  private static FloatVector init(float[] out, int o, float[] alpha, int r) {
    if (alpha == null) {
      return FloatVector.zero(SPECIES);
    }
    return FloatVector.fromArray(SPECIES, out, o).mul(FloatVector.fromArray(SPECIES, alpha, r));
  }

  /** Runs the tail block of x values by vs vectors ({@code any} indexing). */
  static void tail(
      int xs,
      int vs,
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
    switch (xs * 8 + vs) {
      case 49 -> block6x1(a, ld, r, b, b0, sx, st, nt, out, o0, alpha);
      case 33 -> block4x1(a, ld, r, b, b0, sx, st, nt, out, o0, alpha);
      case 17 -> block2x1(a, ld, r, b, b0, sx, st, nt, out, o0, alpha);
      case 9 -> block1x1(a, ld, r, b, b0, sx, st, nt, out, o0, alpha);
      case 34 -> block4x2(a, ld, r, b, b0, sx, st, nt, out, o0, alpha);
      case 18 -> block2x2(a, ld, r, b, b0, sx, st, nt, out, o0, alpha);
      case 10 -> block1x2(a, ld, r, b, b0, sx, st, nt, out, o0, alpha);
      case 20 -> block2x4(a, ld, r, b, b0, sx, st, nt, out, o0, alpha);
      case 12 -> block1x4(a, ld, r, b, b0, sx, st, nt, out, o0, alpha);
      default -> throw new IllegalStateException("no tail block " + xs + "x" + vs);
    }
  }

  /** block6x2Scores with the panel stride ld; a constant stride for ld = 64, 128. */
  static void scores6x2(
      float[] a,
      int ld,
      int r,
      float[] b,
      int b0,
      int sx,
      int nt,
      float[] out,
      int o0,
      float[] alpha) {
    switch (ld) {
      case 64 -> block6x2ScoresLd64(a, r, b, b0, sx, nt, out, o0, alpha);
      case 128 -> block6x2ScoresLd128(a, r, b, b0, sx, nt, out, o0, alpha);
      default -> block6x2Scores(a, ld, r, b, b0, sx, nt, out, o0, alpha);
    }
  }

  private static void block6x2ScoresLd64(
      float[] a, int r, float[] b, int b0, int sx, int nt, float[] out, int o0, float[] alpha) {
    final int l = LANES;
    final int ld = 64;
    int p0 = o0 + r;
    int p1 = o0 + ld + r;
    int p2 = o0 + 2 * ld + r;
    int p3 = o0 + 3 * ld + r;
    int p4 = o0 + 4 * ld + r;
    int p5 = o0 + 5 * ld + r;
    FloatVector c00 = init(out, p0, alpha, r);
    FloatVector c01 = init(out, p0 + l, alpha, r + l);
    FloatVector c10 = init(out, p1, alpha, r);
    FloatVector c11 = init(out, p1 + l, alpha, r + l);
    FloatVector c20 = init(out, p2, alpha, r);
    FloatVector c21 = init(out, p2 + l, alpha, r + l);
    FloatVector c30 = init(out, p3, alpha, r);
    FloatVector c31 = init(out, p3 + l, alpha, r + l);
    FloatVector c40 = init(out, p4, alpha, r);
    FloatVector c41 = init(out, p4 + l, alpha, r + l);
    FloatVector c50 = init(out, p5, alpha, r);
    FloatVector c51 = init(out, p5 + l, alpha, r + l);
    int b1 = b0 + sx;
    int b2 = b0 + 2 * sx;
    int b3 = b0 + 3 * sx;
    int b4 = b0 + 4 * sx;
    int b5 = b0 + 5 * sx;
    for (int t = 0, ai = r; t < nt; t++, ai += ld) {
      FloatVector a0 = FloatVector.fromArray(SPECIES, a, ai);
      FloatVector a1 = FloatVector.fromArray(SPECIES, a, ai + l);
      FloatVector x = FloatVector.broadcast(SPECIES, b[b0 + t]);
      c00 = a0.fma(x, c00);
      c01 = a1.fma(x, c01);
      x = FloatVector.broadcast(SPECIES, b[b1 + t]);
      c10 = a0.fma(x, c10);
      c11 = a1.fma(x, c11);
      x = FloatVector.broadcast(SPECIES, b[b2 + t]);
      c20 = a0.fma(x, c20);
      c21 = a1.fma(x, c21);
      x = FloatVector.broadcast(SPECIES, b[b3 + t]);
      c30 = a0.fma(x, c30);
      c31 = a1.fma(x, c31);
      x = FloatVector.broadcast(SPECIES, b[b4 + t]);
      c40 = a0.fma(x, c40);
      c41 = a1.fma(x, c41);
      x = FloatVector.broadcast(SPECIES, b[b5 + t]);
      c50 = a0.fma(x, c50);
      c51 = a1.fma(x, c51);
    }
    c00.intoArray(out, p0);
    c01.intoArray(out, p0 + l);
    c10.intoArray(out, p1);
    c11.intoArray(out, p1 + l);
    c20.intoArray(out, p2);
    c21.intoArray(out, p2 + l);
    c30.intoArray(out, p3);
    c31.intoArray(out, p3 + l);
    c40.intoArray(out, p4);
    c41.intoArray(out, p4 + l);
    c50.intoArray(out, p5);
    c51.intoArray(out, p5 + l);
  }

  private static void block6x2ScoresLd128(
      float[] a, int r, float[] b, int b0, int sx, int nt, float[] out, int o0, float[] alpha) {
    final int l = LANES;
    final int ld = 128;
    int p0 = o0 + r;
    int p1 = o0 + ld + r;
    int p2 = o0 + 2 * ld + r;
    int p3 = o0 + 3 * ld + r;
    int p4 = o0 + 4 * ld + r;
    int p5 = o0 + 5 * ld + r;
    FloatVector c00 = init(out, p0, alpha, r);
    FloatVector c01 = init(out, p0 + l, alpha, r + l);
    FloatVector c10 = init(out, p1, alpha, r);
    FloatVector c11 = init(out, p1 + l, alpha, r + l);
    FloatVector c20 = init(out, p2, alpha, r);
    FloatVector c21 = init(out, p2 + l, alpha, r + l);
    FloatVector c30 = init(out, p3, alpha, r);
    FloatVector c31 = init(out, p3 + l, alpha, r + l);
    FloatVector c40 = init(out, p4, alpha, r);
    FloatVector c41 = init(out, p4 + l, alpha, r + l);
    FloatVector c50 = init(out, p5, alpha, r);
    FloatVector c51 = init(out, p5 + l, alpha, r + l);
    int b1 = b0 + sx;
    int b2 = b0 + 2 * sx;
    int b3 = b0 + 3 * sx;
    int b4 = b0 + 4 * sx;
    int b5 = b0 + 5 * sx;
    for (int t = 0, ai = r; t < nt; t++, ai += ld) {
      FloatVector a0 = FloatVector.fromArray(SPECIES, a, ai);
      FloatVector a1 = FloatVector.fromArray(SPECIES, a, ai + l);
      FloatVector x = FloatVector.broadcast(SPECIES, b[b0 + t]);
      c00 = a0.fma(x, c00);
      c01 = a1.fma(x, c01);
      x = FloatVector.broadcast(SPECIES, b[b1 + t]);
      c10 = a0.fma(x, c10);
      c11 = a1.fma(x, c11);
      x = FloatVector.broadcast(SPECIES, b[b2 + t]);
      c20 = a0.fma(x, c20);
      c21 = a1.fma(x, c21);
      x = FloatVector.broadcast(SPECIES, b[b3 + t]);
      c30 = a0.fma(x, c30);
      c31 = a1.fma(x, c31);
      x = FloatVector.broadcast(SPECIES, b[b4 + t]);
      c40 = a0.fma(x, c40);
      c41 = a1.fma(x, c41);
      x = FloatVector.broadcast(SPECIES, b[b5 + t]);
      c50 = a0.fma(x, c50);
      c51 = a1.fma(x, c51);
    }
    c00.intoArray(out, p0);
    c01.intoArray(out, p0 + l);
    c10.intoArray(out, p1);
    c11.intoArray(out, p1 + l);
    c20.intoArray(out, p2);
    c21.intoArray(out, p2 + l);
    c30.intoArray(out, p3);
    c31.intoArray(out, p3 + l);
    c40.intoArray(out, p4);
    c41.intoArray(out, p4 + l);
    c50.intoArray(out, p5);
    c51.intoArray(out, p5 + l);
  }

  static void block6x2Scores(
      float[] a,
      int ld,
      int r,
      float[] b,
      int b0,
      int sx,
      int nt,
      float[] out,
      int o0,
      float[] alpha) {
    final int l = LANES;
    int p0 = o0 + r;
    int p1 = o0 + ld + r;
    int p2 = o0 + 2 * ld + r;
    int p3 = o0 + 3 * ld + r;
    int p4 = o0 + 4 * ld + r;
    int p5 = o0 + 5 * ld + r;
    FloatVector c00 = init(out, p0, alpha, r);
    FloatVector c01 = init(out, p0 + l, alpha, r + l);
    FloatVector c10 = init(out, p1, alpha, r);
    FloatVector c11 = init(out, p1 + l, alpha, r + l);
    FloatVector c20 = init(out, p2, alpha, r);
    FloatVector c21 = init(out, p2 + l, alpha, r + l);
    FloatVector c30 = init(out, p3, alpha, r);
    FloatVector c31 = init(out, p3 + l, alpha, r + l);
    FloatVector c40 = init(out, p4, alpha, r);
    FloatVector c41 = init(out, p4 + l, alpha, r + l);
    FloatVector c50 = init(out, p5, alpha, r);
    FloatVector c51 = init(out, p5 + l, alpha, r + l);
    int b1 = b0 + sx;
    int b2 = b0 + 2 * sx;
    int b3 = b0 + 3 * sx;
    int b4 = b0 + 4 * sx;
    int b5 = b0 + 5 * sx;
    for (int t = 0, ai = r; t < nt; t++, ai += ld) {
      FloatVector a0 = FloatVector.fromArray(SPECIES, a, ai);
      FloatVector a1 = FloatVector.fromArray(SPECIES, a, ai + l);
      FloatVector x = FloatVector.broadcast(SPECIES, b[b0 + t]);
      c00 = a0.fma(x, c00);
      c01 = a1.fma(x, c01);
      x = FloatVector.broadcast(SPECIES, b[b1 + t]);
      c10 = a0.fma(x, c10);
      c11 = a1.fma(x, c11);
      x = FloatVector.broadcast(SPECIES, b[b2 + t]);
      c20 = a0.fma(x, c20);
      c21 = a1.fma(x, c21);
      x = FloatVector.broadcast(SPECIES, b[b3 + t]);
      c30 = a0.fma(x, c30);
      c31 = a1.fma(x, c31);
      x = FloatVector.broadcast(SPECIES, b[b4 + t]);
      c40 = a0.fma(x, c40);
      c41 = a1.fma(x, c41);
      x = FloatVector.broadcast(SPECIES, b[b5 + t]);
      c50 = a0.fma(x, c50);
      c51 = a1.fma(x, c51);
    }
    c00.intoArray(out, p0);
    c01.intoArray(out, p0 + l);
    c10.intoArray(out, p1);
    c11.intoArray(out, p1 + l);
    c20.intoArray(out, p2);
    c21.intoArray(out, p2 + l);
    c30.intoArray(out, p3);
    c31.intoArray(out, p3 + l);
    c40.intoArray(out, p4);
    c41.intoArray(out, p4 + l);
    c50.intoArray(out, p5);
    c51.intoArray(out, p5 + l);
  }

  /** block6x2Accumulate with the panel stride ld; a constant stride for ld = 64, 128. */
  static void accumulate6x2(
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
    switch (ld) {
      case 64 -> block6x2AccumulateLd64(a, r, b, b0, st, nt, out, o0, alpha);
      case 128 -> block6x2AccumulateLd128(a, r, b, b0, st, nt, out, o0, alpha);
      default -> block6x2Accumulate(a, ld, r, b, b0, st, nt, out, o0, alpha);
    }
  }

  private static void block6x2AccumulateLd64(
      float[] a, int r, float[] b, int b0, int st, int nt, float[] out, int o0, float[] alpha) {
    final int l = LANES;
    final int ld = 64;
    int p0 = o0 + r;
    int p1 = o0 + ld + r;
    int p2 = o0 + 2 * ld + r;
    int p3 = o0 + 3 * ld + r;
    int p4 = o0 + 4 * ld + r;
    int p5 = o0 + 5 * ld + r;
    FloatVector c00 = init(out, p0, alpha, r);
    FloatVector c01 = init(out, p0 + l, alpha, r + l);
    FloatVector c10 = init(out, p1, alpha, r);
    FloatVector c11 = init(out, p1 + l, alpha, r + l);
    FloatVector c20 = init(out, p2, alpha, r);
    FloatVector c21 = init(out, p2 + l, alpha, r + l);
    FloatVector c30 = init(out, p3, alpha, r);
    FloatVector c31 = init(out, p3 + l, alpha, r + l);
    FloatVector c40 = init(out, p4, alpha, r);
    FloatVector c41 = init(out, p4 + l, alpha, r + l);
    FloatVector c50 = init(out, p5, alpha, r);
    FloatVector c51 = init(out, p5 + l, alpha, r + l);
    for (int t = 0, ai = r, bt = b0; t < nt; t++, ai += ld, bt += st) {
      FloatVector a0 = FloatVector.fromArray(SPECIES, a, ai);
      FloatVector a1 = FloatVector.fromArray(SPECIES, a, ai + l);
      FloatVector x = FloatVector.broadcast(SPECIES, b[bt]);
      c00 = a0.fma(x, c00);
      c01 = a1.fma(x, c01);
      x = FloatVector.broadcast(SPECIES, b[bt + 1]);
      c10 = a0.fma(x, c10);
      c11 = a1.fma(x, c11);
      x = FloatVector.broadcast(SPECIES, b[bt + 2]);
      c20 = a0.fma(x, c20);
      c21 = a1.fma(x, c21);
      x = FloatVector.broadcast(SPECIES, b[bt + 3]);
      c30 = a0.fma(x, c30);
      c31 = a1.fma(x, c31);
      x = FloatVector.broadcast(SPECIES, b[bt + 4]);
      c40 = a0.fma(x, c40);
      c41 = a1.fma(x, c41);
      x = FloatVector.broadcast(SPECIES, b[bt + 5]);
      c50 = a0.fma(x, c50);
      c51 = a1.fma(x, c51);
    }
    c00.intoArray(out, p0);
    c01.intoArray(out, p0 + l);
    c10.intoArray(out, p1);
    c11.intoArray(out, p1 + l);
    c20.intoArray(out, p2);
    c21.intoArray(out, p2 + l);
    c30.intoArray(out, p3);
    c31.intoArray(out, p3 + l);
    c40.intoArray(out, p4);
    c41.intoArray(out, p4 + l);
    c50.intoArray(out, p5);
    c51.intoArray(out, p5 + l);
  }

  private static void block6x2AccumulateLd128(
      float[] a, int r, float[] b, int b0, int st, int nt, float[] out, int o0, float[] alpha) {
    final int l = LANES;
    final int ld = 128;
    int p0 = o0 + r;
    int p1 = o0 + ld + r;
    int p2 = o0 + 2 * ld + r;
    int p3 = o0 + 3 * ld + r;
    int p4 = o0 + 4 * ld + r;
    int p5 = o0 + 5 * ld + r;
    FloatVector c00 = init(out, p0, alpha, r);
    FloatVector c01 = init(out, p0 + l, alpha, r + l);
    FloatVector c10 = init(out, p1, alpha, r);
    FloatVector c11 = init(out, p1 + l, alpha, r + l);
    FloatVector c20 = init(out, p2, alpha, r);
    FloatVector c21 = init(out, p2 + l, alpha, r + l);
    FloatVector c30 = init(out, p3, alpha, r);
    FloatVector c31 = init(out, p3 + l, alpha, r + l);
    FloatVector c40 = init(out, p4, alpha, r);
    FloatVector c41 = init(out, p4 + l, alpha, r + l);
    FloatVector c50 = init(out, p5, alpha, r);
    FloatVector c51 = init(out, p5 + l, alpha, r + l);
    for (int t = 0, ai = r, bt = b0; t < nt; t++, ai += ld, bt += st) {
      FloatVector a0 = FloatVector.fromArray(SPECIES, a, ai);
      FloatVector a1 = FloatVector.fromArray(SPECIES, a, ai + l);
      FloatVector x = FloatVector.broadcast(SPECIES, b[bt]);
      c00 = a0.fma(x, c00);
      c01 = a1.fma(x, c01);
      x = FloatVector.broadcast(SPECIES, b[bt + 1]);
      c10 = a0.fma(x, c10);
      c11 = a1.fma(x, c11);
      x = FloatVector.broadcast(SPECIES, b[bt + 2]);
      c20 = a0.fma(x, c20);
      c21 = a1.fma(x, c21);
      x = FloatVector.broadcast(SPECIES, b[bt + 3]);
      c30 = a0.fma(x, c30);
      c31 = a1.fma(x, c31);
      x = FloatVector.broadcast(SPECIES, b[bt + 4]);
      c40 = a0.fma(x, c40);
      c41 = a1.fma(x, c41);
      x = FloatVector.broadcast(SPECIES, b[bt + 5]);
      c50 = a0.fma(x, c50);
      c51 = a1.fma(x, c51);
    }
    c00.intoArray(out, p0);
    c01.intoArray(out, p0 + l);
    c10.intoArray(out, p1);
    c11.intoArray(out, p1 + l);
    c20.intoArray(out, p2);
    c21.intoArray(out, p2 + l);
    c30.intoArray(out, p3);
    c31.intoArray(out, p3 + l);
    c40.intoArray(out, p4);
    c41.intoArray(out, p4 + l);
    c50.intoArray(out, p5);
    c51.intoArray(out, p5 + l);
  }

  static void block6x2Accumulate(
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
    int p0 = o0 + r;
    int p1 = o0 + ld + r;
    int p2 = o0 + 2 * ld + r;
    int p3 = o0 + 3 * ld + r;
    int p4 = o0 + 4 * ld + r;
    int p5 = o0 + 5 * ld + r;
    FloatVector c00 = init(out, p0, alpha, r);
    FloatVector c01 = init(out, p0 + l, alpha, r + l);
    FloatVector c10 = init(out, p1, alpha, r);
    FloatVector c11 = init(out, p1 + l, alpha, r + l);
    FloatVector c20 = init(out, p2, alpha, r);
    FloatVector c21 = init(out, p2 + l, alpha, r + l);
    FloatVector c30 = init(out, p3, alpha, r);
    FloatVector c31 = init(out, p3 + l, alpha, r + l);
    FloatVector c40 = init(out, p4, alpha, r);
    FloatVector c41 = init(out, p4 + l, alpha, r + l);
    FloatVector c50 = init(out, p5, alpha, r);
    FloatVector c51 = init(out, p5 + l, alpha, r + l);
    for (int t = 0, ai = r, bt = b0; t < nt; t++, ai += ld, bt += st) {
      FloatVector a0 = FloatVector.fromArray(SPECIES, a, ai);
      FloatVector a1 = FloatVector.fromArray(SPECIES, a, ai + l);
      FloatVector x = FloatVector.broadcast(SPECIES, b[bt]);
      c00 = a0.fma(x, c00);
      c01 = a1.fma(x, c01);
      x = FloatVector.broadcast(SPECIES, b[bt + 1]);
      c10 = a0.fma(x, c10);
      c11 = a1.fma(x, c11);
      x = FloatVector.broadcast(SPECIES, b[bt + 2]);
      c20 = a0.fma(x, c20);
      c21 = a1.fma(x, c21);
      x = FloatVector.broadcast(SPECIES, b[bt + 3]);
      c30 = a0.fma(x, c30);
      c31 = a1.fma(x, c31);
      x = FloatVector.broadcast(SPECIES, b[bt + 4]);
      c40 = a0.fma(x, c40);
      c41 = a1.fma(x, c41);
      x = FloatVector.broadcast(SPECIES, b[bt + 5]);
      c50 = a0.fma(x, c50);
      c51 = a1.fma(x, c51);
    }
    c00.intoArray(out, p0);
    c01.intoArray(out, p0 + l);
    c10.intoArray(out, p1);
    c11.intoArray(out, p1 + l);
    c20.intoArray(out, p2);
    c21.intoArray(out, p2 + l);
    c30.intoArray(out, p3);
    c31.intoArray(out, p3 + l);
    c40.intoArray(out, p4);
    c41.intoArray(out, p4 + l);
    c50.intoArray(out, p5);
    c51.intoArray(out, p5 + l);
  }

  /** block4x4Scores with the panel stride ld; a constant stride for ld = 64, 128. */
  static void scores4x4(
      float[] a,
      int ld,
      int r,
      float[] b,
      int b0,
      int sx,
      int nt,
      float[] out,
      int o0,
      float[] alpha) {
    switch (ld) {
      case 64 -> block4x4ScoresLd64(a, r, b, b0, sx, nt, out, o0, alpha);
      case 128 -> block4x4ScoresLd128(a, r, b, b0, sx, nt, out, o0, alpha);
      default -> block4x4Scores(a, ld, r, b, b0, sx, nt, out, o0, alpha);
    }
  }

  private static void block4x4ScoresLd64(
      float[] a, int r, float[] b, int b0, int sx, int nt, float[] out, int o0, float[] alpha) {
    final int l = LANES;
    final int ld = 64;
    int p0 = o0 + r;
    int p1 = o0 + ld + r;
    int p2 = o0 + 2 * ld + r;
    int p3 = o0 + 3 * ld + r;
    FloatVector c00 = init(out, p0, alpha, r);
    FloatVector c01 = init(out, p0 + l, alpha, r + l);
    FloatVector c02 = init(out, p0 + 2 * l, alpha, r + 2 * l);
    FloatVector c03 = init(out, p0 + 3 * l, alpha, r + 3 * l);
    FloatVector c10 = init(out, p1, alpha, r);
    FloatVector c11 = init(out, p1 + l, alpha, r + l);
    FloatVector c12 = init(out, p1 + 2 * l, alpha, r + 2 * l);
    FloatVector c13 = init(out, p1 + 3 * l, alpha, r + 3 * l);
    FloatVector c20 = init(out, p2, alpha, r);
    FloatVector c21 = init(out, p2 + l, alpha, r + l);
    FloatVector c22 = init(out, p2 + 2 * l, alpha, r + 2 * l);
    FloatVector c23 = init(out, p2 + 3 * l, alpha, r + 3 * l);
    FloatVector c30 = init(out, p3, alpha, r);
    FloatVector c31 = init(out, p3 + l, alpha, r + l);
    FloatVector c32 = init(out, p3 + 2 * l, alpha, r + 2 * l);
    FloatVector c33 = init(out, p3 + 3 * l, alpha, r + 3 * l);
    int b1 = b0 + sx;
    int b2 = b0 + 2 * sx;
    int b3 = b0 + 3 * sx;
    for (int t = 0, ai = r; t < nt; t++, ai += ld) {
      FloatVector a0 = FloatVector.fromArray(SPECIES, a, ai);
      FloatVector a1 = FloatVector.fromArray(SPECIES, a, ai + l);
      FloatVector a2 = FloatVector.fromArray(SPECIES, a, ai + 2 * l);
      FloatVector a3 = FloatVector.fromArray(SPECIES, a, ai + 3 * l);
      FloatVector x = FloatVector.broadcast(SPECIES, b[b0 + t]);
      c00 = a0.fma(x, c00);
      c01 = a1.fma(x, c01);
      c02 = a2.fma(x, c02);
      c03 = a3.fma(x, c03);
      x = FloatVector.broadcast(SPECIES, b[b1 + t]);
      c10 = a0.fma(x, c10);
      c11 = a1.fma(x, c11);
      c12 = a2.fma(x, c12);
      c13 = a3.fma(x, c13);
      x = FloatVector.broadcast(SPECIES, b[b2 + t]);
      c20 = a0.fma(x, c20);
      c21 = a1.fma(x, c21);
      c22 = a2.fma(x, c22);
      c23 = a3.fma(x, c23);
      x = FloatVector.broadcast(SPECIES, b[b3 + t]);
      c30 = a0.fma(x, c30);
      c31 = a1.fma(x, c31);
      c32 = a2.fma(x, c32);
      c33 = a3.fma(x, c33);
    }
    c00.intoArray(out, p0);
    c01.intoArray(out, p0 + l);
    c02.intoArray(out, p0 + 2 * l);
    c03.intoArray(out, p0 + 3 * l);
    c10.intoArray(out, p1);
    c11.intoArray(out, p1 + l);
    c12.intoArray(out, p1 + 2 * l);
    c13.intoArray(out, p1 + 3 * l);
    c20.intoArray(out, p2);
    c21.intoArray(out, p2 + l);
    c22.intoArray(out, p2 + 2 * l);
    c23.intoArray(out, p2 + 3 * l);
    c30.intoArray(out, p3);
    c31.intoArray(out, p3 + l);
    c32.intoArray(out, p3 + 2 * l);
    c33.intoArray(out, p3 + 3 * l);
  }

  private static void block4x4ScoresLd128(
      float[] a, int r, float[] b, int b0, int sx, int nt, float[] out, int o0, float[] alpha) {
    final int l = LANES;
    final int ld = 128;
    int p0 = o0 + r;
    int p1 = o0 + ld + r;
    int p2 = o0 + 2 * ld + r;
    int p3 = o0 + 3 * ld + r;
    FloatVector c00 = init(out, p0, alpha, r);
    FloatVector c01 = init(out, p0 + l, alpha, r + l);
    FloatVector c02 = init(out, p0 + 2 * l, alpha, r + 2 * l);
    FloatVector c03 = init(out, p0 + 3 * l, alpha, r + 3 * l);
    FloatVector c10 = init(out, p1, alpha, r);
    FloatVector c11 = init(out, p1 + l, alpha, r + l);
    FloatVector c12 = init(out, p1 + 2 * l, alpha, r + 2 * l);
    FloatVector c13 = init(out, p1 + 3 * l, alpha, r + 3 * l);
    FloatVector c20 = init(out, p2, alpha, r);
    FloatVector c21 = init(out, p2 + l, alpha, r + l);
    FloatVector c22 = init(out, p2 + 2 * l, alpha, r + 2 * l);
    FloatVector c23 = init(out, p2 + 3 * l, alpha, r + 3 * l);
    FloatVector c30 = init(out, p3, alpha, r);
    FloatVector c31 = init(out, p3 + l, alpha, r + l);
    FloatVector c32 = init(out, p3 + 2 * l, alpha, r + 2 * l);
    FloatVector c33 = init(out, p3 + 3 * l, alpha, r + 3 * l);
    int b1 = b0 + sx;
    int b2 = b0 + 2 * sx;
    int b3 = b0 + 3 * sx;
    for (int t = 0, ai = r; t < nt; t++, ai += ld) {
      FloatVector a0 = FloatVector.fromArray(SPECIES, a, ai);
      FloatVector a1 = FloatVector.fromArray(SPECIES, a, ai + l);
      FloatVector a2 = FloatVector.fromArray(SPECIES, a, ai + 2 * l);
      FloatVector a3 = FloatVector.fromArray(SPECIES, a, ai + 3 * l);
      FloatVector x = FloatVector.broadcast(SPECIES, b[b0 + t]);
      c00 = a0.fma(x, c00);
      c01 = a1.fma(x, c01);
      c02 = a2.fma(x, c02);
      c03 = a3.fma(x, c03);
      x = FloatVector.broadcast(SPECIES, b[b1 + t]);
      c10 = a0.fma(x, c10);
      c11 = a1.fma(x, c11);
      c12 = a2.fma(x, c12);
      c13 = a3.fma(x, c13);
      x = FloatVector.broadcast(SPECIES, b[b2 + t]);
      c20 = a0.fma(x, c20);
      c21 = a1.fma(x, c21);
      c22 = a2.fma(x, c22);
      c23 = a3.fma(x, c23);
      x = FloatVector.broadcast(SPECIES, b[b3 + t]);
      c30 = a0.fma(x, c30);
      c31 = a1.fma(x, c31);
      c32 = a2.fma(x, c32);
      c33 = a3.fma(x, c33);
    }
    c00.intoArray(out, p0);
    c01.intoArray(out, p0 + l);
    c02.intoArray(out, p0 + 2 * l);
    c03.intoArray(out, p0 + 3 * l);
    c10.intoArray(out, p1);
    c11.intoArray(out, p1 + l);
    c12.intoArray(out, p1 + 2 * l);
    c13.intoArray(out, p1 + 3 * l);
    c20.intoArray(out, p2);
    c21.intoArray(out, p2 + l);
    c22.intoArray(out, p2 + 2 * l);
    c23.intoArray(out, p2 + 3 * l);
    c30.intoArray(out, p3);
    c31.intoArray(out, p3 + l);
    c32.intoArray(out, p3 + 2 * l);
    c33.intoArray(out, p3 + 3 * l);
  }

  static void block4x4Scores(
      float[] a,
      int ld,
      int r,
      float[] b,
      int b0,
      int sx,
      int nt,
      float[] out,
      int o0,
      float[] alpha) {
    final int l = LANES;
    int p0 = o0 + r;
    int p1 = o0 + ld + r;
    int p2 = o0 + 2 * ld + r;
    int p3 = o0 + 3 * ld + r;
    FloatVector c00 = init(out, p0, alpha, r);
    FloatVector c01 = init(out, p0 + l, alpha, r + l);
    FloatVector c02 = init(out, p0 + 2 * l, alpha, r + 2 * l);
    FloatVector c03 = init(out, p0 + 3 * l, alpha, r + 3 * l);
    FloatVector c10 = init(out, p1, alpha, r);
    FloatVector c11 = init(out, p1 + l, alpha, r + l);
    FloatVector c12 = init(out, p1 + 2 * l, alpha, r + 2 * l);
    FloatVector c13 = init(out, p1 + 3 * l, alpha, r + 3 * l);
    FloatVector c20 = init(out, p2, alpha, r);
    FloatVector c21 = init(out, p2 + l, alpha, r + l);
    FloatVector c22 = init(out, p2 + 2 * l, alpha, r + 2 * l);
    FloatVector c23 = init(out, p2 + 3 * l, alpha, r + 3 * l);
    FloatVector c30 = init(out, p3, alpha, r);
    FloatVector c31 = init(out, p3 + l, alpha, r + l);
    FloatVector c32 = init(out, p3 + 2 * l, alpha, r + 2 * l);
    FloatVector c33 = init(out, p3 + 3 * l, alpha, r + 3 * l);
    int b1 = b0 + sx;
    int b2 = b0 + 2 * sx;
    int b3 = b0 + 3 * sx;
    for (int t = 0, ai = r; t < nt; t++, ai += ld) {
      FloatVector a0 = FloatVector.fromArray(SPECIES, a, ai);
      FloatVector a1 = FloatVector.fromArray(SPECIES, a, ai + l);
      FloatVector a2 = FloatVector.fromArray(SPECIES, a, ai + 2 * l);
      FloatVector a3 = FloatVector.fromArray(SPECIES, a, ai + 3 * l);
      FloatVector x = FloatVector.broadcast(SPECIES, b[b0 + t]);
      c00 = a0.fma(x, c00);
      c01 = a1.fma(x, c01);
      c02 = a2.fma(x, c02);
      c03 = a3.fma(x, c03);
      x = FloatVector.broadcast(SPECIES, b[b1 + t]);
      c10 = a0.fma(x, c10);
      c11 = a1.fma(x, c11);
      c12 = a2.fma(x, c12);
      c13 = a3.fma(x, c13);
      x = FloatVector.broadcast(SPECIES, b[b2 + t]);
      c20 = a0.fma(x, c20);
      c21 = a1.fma(x, c21);
      c22 = a2.fma(x, c22);
      c23 = a3.fma(x, c23);
      x = FloatVector.broadcast(SPECIES, b[b3 + t]);
      c30 = a0.fma(x, c30);
      c31 = a1.fma(x, c31);
      c32 = a2.fma(x, c32);
      c33 = a3.fma(x, c33);
    }
    c00.intoArray(out, p0);
    c01.intoArray(out, p0 + l);
    c02.intoArray(out, p0 + 2 * l);
    c03.intoArray(out, p0 + 3 * l);
    c10.intoArray(out, p1);
    c11.intoArray(out, p1 + l);
    c12.intoArray(out, p1 + 2 * l);
    c13.intoArray(out, p1 + 3 * l);
    c20.intoArray(out, p2);
    c21.intoArray(out, p2 + l);
    c22.intoArray(out, p2 + 2 * l);
    c23.intoArray(out, p2 + 3 * l);
    c30.intoArray(out, p3);
    c31.intoArray(out, p3 + l);
    c32.intoArray(out, p3 + 2 * l);
    c33.intoArray(out, p3 + 3 * l);
  }

  /** block4x4Accumulate with the panel stride ld; a constant stride for ld = 64, 128. */
  static void accumulate4x4(
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
    switch (ld) {
      case 64 -> block4x4AccumulateLd64(a, r, b, b0, st, nt, out, o0, alpha);
      case 128 -> block4x4AccumulateLd128(a, r, b, b0, st, nt, out, o0, alpha);
      default -> block4x4Accumulate(a, ld, r, b, b0, st, nt, out, o0, alpha);
    }
  }

  private static void block4x4AccumulateLd64(
      float[] a, int r, float[] b, int b0, int st, int nt, float[] out, int o0, float[] alpha) {
    final int l = LANES;
    final int ld = 64;
    int p0 = o0 + r;
    int p1 = o0 + ld + r;
    int p2 = o0 + 2 * ld + r;
    int p3 = o0 + 3 * ld + r;
    FloatVector c00 = init(out, p0, alpha, r);
    FloatVector c01 = init(out, p0 + l, alpha, r + l);
    FloatVector c02 = init(out, p0 + 2 * l, alpha, r + 2 * l);
    FloatVector c03 = init(out, p0 + 3 * l, alpha, r + 3 * l);
    FloatVector c10 = init(out, p1, alpha, r);
    FloatVector c11 = init(out, p1 + l, alpha, r + l);
    FloatVector c12 = init(out, p1 + 2 * l, alpha, r + 2 * l);
    FloatVector c13 = init(out, p1 + 3 * l, alpha, r + 3 * l);
    FloatVector c20 = init(out, p2, alpha, r);
    FloatVector c21 = init(out, p2 + l, alpha, r + l);
    FloatVector c22 = init(out, p2 + 2 * l, alpha, r + 2 * l);
    FloatVector c23 = init(out, p2 + 3 * l, alpha, r + 3 * l);
    FloatVector c30 = init(out, p3, alpha, r);
    FloatVector c31 = init(out, p3 + l, alpha, r + l);
    FloatVector c32 = init(out, p3 + 2 * l, alpha, r + 2 * l);
    FloatVector c33 = init(out, p3 + 3 * l, alpha, r + 3 * l);
    for (int t = 0, ai = r, bt = b0; t < nt; t++, ai += ld, bt += st) {
      FloatVector a0 = FloatVector.fromArray(SPECIES, a, ai);
      FloatVector a1 = FloatVector.fromArray(SPECIES, a, ai + l);
      FloatVector a2 = FloatVector.fromArray(SPECIES, a, ai + 2 * l);
      FloatVector a3 = FloatVector.fromArray(SPECIES, a, ai + 3 * l);
      FloatVector x = FloatVector.broadcast(SPECIES, b[bt]);
      c00 = a0.fma(x, c00);
      c01 = a1.fma(x, c01);
      c02 = a2.fma(x, c02);
      c03 = a3.fma(x, c03);
      x = FloatVector.broadcast(SPECIES, b[bt + 1]);
      c10 = a0.fma(x, c10);
      c11 = a1.fma(x, c11);
      c12 = a2.fma(x, c12);
      c13 = a3.fma(x, c13);
      x = FloatVector.broadcast(SPECIES, b[bt + 2]);
      c20 = a0.fma(x, c20);
      c21 = a1.fma(x, c21);
      c22 = a2.fma(x, c22);
      c23 = a3.fma(x, c23);
      x = FloatVector.broadcast(SPECIES, b[bt + 3]);
      c30 = a0.fma(x, c30);
      c31 = a1.fma(x, c31);
      c32 = a2.fma(x, c32);
      c33 = a3.fma(x, c33);
    }
    c00.intoArray(out, p0);
    c01.intoArray(out, p0 + l);
    c02.intoArray(out, p0 + 2 * l);
    c03.intoArray(out, p0 + 3 * l);
    c10.intoArray(out, p1);
    c11.intoArray(out, p1 + l);
    c12.intoArray(out, p1 + 2 * l);
    c13.intoArray(out, p1 + 3 * l);
    c20.intoArray(out, p2);
    c21.intoArray(out, p2 + l);
    c22.intoArray(out, p2 + 2 * l);
    c23.intoArray(out, p2 + 3 * l);
    c30.intoArray(out, p3);
    c31.intoArray(out, p3 + l);
    c32.intoArray(out, p3 + 2 * l);
    c33.intoArray(out, p3 + 3 * l);
  }

  private static void block4x4AccumulateLd128(
      float[] a, int r, float[] b, int b0, int st, int nt, float[] out, int o0, float[] alpha) {
    final int l = LANES;
    final int ld = 128;
    int p0 = o0 + r;
    int p1 = o0 + ld + r;
    int p2 = o0 + 2 * ld + r;
    int p3 = o0 + 3 * ld + r;
    FloatVector c00 = init(out, p0, alpha, r);
    FloatVector c01 = init(out, p0 + l, alpha, r + l);
    FloatVector c02 = init(out, p0 + 2 * l, alpha, r + 2 * l);
    FloatVector c03 = init(out, p0 + 3 * l, alpha, r + 3 * l);
    FloatVector c10 = init(out, p1, alpha, r);
    FloatVector c11 = init(out, p1 + l, alpha, r + l);
    FloatVector c12 = init(out, p1 + 2 * l, alpha, r + 2 * l);
    FloatVector c13 = init(out, p1 + 3 * l, alpha, r + 3 * l);
    FloatVector c20 = init(out, p2, alpha, r);
    FloatVector c21 = init(out, p2 + l, alpha, r + l);
    FloatVector c22 = init(out, p2 + 2 * l, alpha, r + 2 * l);
    FloatVector c23 = init(out, p2 + 3 * l, alpha, r + 3 * l);
    FloatVector c30 = init(out, p3, alpha, r);
    FloatVector c31 = init(out, p3 + l, alpha, r + l);
    FloatVector c32 = init(out, p3 + 2 * l, alpha, r + 2 * l);
    FloatVector c33 = init(out, p3 + 3 * l, alpha, r + 3 * l);
    for (int t = 0, ai = r, bt = b0; t < nt; t++, ai += ld, bt += st) {
      FloatVector a0 = FloatVector.fromArray(SPECIES, a, ai);
      FloatVector a1 = FloatVector.fromArray(SPECIES, a, ai + l);
      FloatVector a2 = FloatVector.fromArray(SPECIES, a, ai + 2 * l);
      FloatVector a3 = FloatVector.fromArray(SPECIES, a, ai + 3 * l);
      FloatVector x = FloatVector.broadcast(SPECIES, b[bt]);
      c00 = a0.fma(x, c00);
      c01 = a1.fma(x, c01);
      c02 = a2.fma(x, c02);
      c03 = a3.fma(x, c03);
      x = FloatVector.broadcast(SPECIES, b[bt + 1]);
      c10 = a0.fma(x, c10);
      c11 = a1.fma(x, c11);
      c12 = a2.fma(x, c12);
      c13 = a3.fma(x, c13);
      x = FloatVector.broadcast(SPECIES, b[bt + 2]);
      c20 = a0.fma(x, c20);
      c21 = a1.fma(x, c21);
      c22 = a2.fma(x, c22);
      c23 = a3.fma(x, c23);
      x = FloatVector.broadcast(SPECIES, b[bt + 3]);
      c30 = a0.fma(x, c30);
      c31 = a1.fma(x, c31);
      c32 = a2.fma(x, c32);
      c33 = a3.fma(x, c33);
    }
    c00.intoArray(out, p0);
    c01.intoArray(out, p0 + l);
    c02.intoArray(out, p0 + 2 * l);
    c03.intoArray(out, p0 + 3 * l);
    c10.intoArray(out, p1);
    c11.intoArray(out, p1 + l);
    c12.intoArray(out, p1 + 2 * l);
    c13.intoArray(out, p1 + 3 * l);
    c20.intoArray(out, p2);
    c21.intoArray(out, p2 + l);
    c22.intoArray(out, p2 + 2 * l);
    c23.intoArray(out, p2 + 3 * l);
    c30.intoArray(out, p3);
    c31.intoArray(out, p3 + l);
    c32.intoArray(out, p3 + 2 * l);
    c33.intoArray(out, p3 + 3 * l);
  }

  static void block4x4Accumulate(
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
    int p0 = o0 + r;
    int p1 = o0 + ld + r;
    int p2 = o0 + 2 * ld + r;
    int p3 = o0 + 3 * ld + r;
    FloatVector c00 = init(out, p0, alpha, r);
    FloatVector c01 = init(out, p0 + l, alpha, r + l);
    FloatVector c02 = init(out, p0 + 2 * l, alpha, r + 2 * l);
    FloatVector c03 = init(out, p0 + 3 * l, alpha, r + 3 * l);
    FloatVector c10 = init(out, p1, alpha, r);
    FloatVector c11 = init(out, p1 + l, alpha, r + l);
    FloatVector c12 = init(out, p1 + 2 * l, alpha, r + 2 * l);
    FloatVector c13 = init(out, p1 + 3 * l, alpha, r + 3 * l);
    FloatVector c20 = init(out, p2, alpha, r);
    FloatVector c21 = init(out, p2 + l, alpha, r + l);
    FloatVector c22 = init(out, p2 + 2 * l, alpha, r + 2 * l);
    FloatVector c23 = init(out, p2 + 3 * l, alpha, r + 3 * l);
    FloatVector c30 = init(out, p3, alpha, r);
    FloatVector c31 = init(out, p3 + l, alpha, r + l);
    FloatVector c32 = init(out, p3 + 2 * l, alpha, r + 2 * l);
    FloatVector c33 = init(out, p3 + 3 * l, alpha, r + 3 * l);
    for (int t = 0, ai = r, bt = b0; t < nt; t++, ai += ld, bt += st) {
      FloatVector a0 = FloatVector.fromArray(SPECIES, a, ai);
      FloatVector a1 = FloatVector.fromArray(SPECIES, a, ai + l);
      FloatVector a2 = FloatVector.fromArray(SPECIES, a, ai + 2 * l);
      FloatVector a3 = FloatVector.fromArray(SPECIES, a, ai + 3 * l);
      FloatVector x = FloatVector.broadcast(SPECIES, b[bt]);
      c00 = a0.fma(x, c00);
      c01 = a1.fma(x, c01);
      c02 = a2.fma(x, c02);
      c03 = a3.fma(x, c03);
      x = FloatVector.broadcast(SPECIES, b[bt + 1]);
      c10 = a0.fma(x, c10);
      c11 = a1.fma(x, c11);
      c12 = a2.fma(x, c12);
      c13 = a3.fma(x, c13);
      x = FloatVector.broadcast(SPECIES, b[bt + 2]);
      c20 = a0.fma(x, c20);
      c21 = a1.fma(x, c21);
      c22 = a2.fma(x, c22);
      c23 = a3.fma(x, c23);
      x = FloatVector.broadcast(SPECIES, b[bt + 3]);
      c30 = a0.fma(x, c30);
      c31 = a1.fma(x, c31);
      c32 = a2.fma(x, c32);
      c33 = a3.fma(x, c33);
    }
    c00.intoArray(out, p0);
    c01.intoArray(out, p0 + l);
    c02.intoArray(out, p0 + 2 * l);
    c03.intoArray(out, p0 + 3 * l);
    c10.intoArray(out, p1);
    c11.intoArray(out, p1 + l);
    c12.intoArray(out, p1 + 2 * l);
    c13.intoArray(out, p1 + 3 * l);
    c20.intoArray(out, p2);
    c21.intoArray(out, p2 + l);
    c22.intoArray(out, p2 + 2 * l);
    c23.intoArray(out, p2 + 3 * l);
    c30.intoArray(out, p3);
    c31.intoArray(out, p3 + l);
    c32.intoArray(out, p3 + 2 * l);
    c33.intoArray(out, p3 + 3 * l);
  }

  static void block6x1(
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
    int p0 = o0 + r;
    int p1 = o0 + ld + r;
    int p2 = o0 + 2 * ld + r;
    int p3 = o0 + 3 * ld + r;
    int p4 = o0 + 4 * ld + r;
    int p5 = o0 + 5 * ld + r;
    FloatVector c00 = init(out, p0, alpha, r);
    FloatVector c10 = init(out, p1, alpha, r);
    FloatVector c20 = init(out, p2, alpha, r);
    FloatVector c30 = init(out, p3, alpha, r);
    FloatVector c40 = init(out, p4, alpha, r);
    FloatVector c50 = init(out, p5, alpha, r);
    int b1 = b0 + sx;
    int b2 = b0 + 2 * sx;
    int b3 = b0 + 3 * sx;
    int b4 = b0 + 4 * sx;
    int b5 = b0 + 5 * sx;
    for (int t = 0, ai = r, bt = 0; t < nt; t++, ai += ld, bt += st) {
      FloatVector a0 = FloatVector.fromArray(SPECIES, a, ai);
      FloatVector x = FloatVector.broadcast(SPECIES, b[b0 + bt]);
      c00 = a0.fma(x, c00);
      x = FloatVector.broadcast(SPECIES, b[b1 + bt]);
      c10 = a0.fma(x, c10);
      x = FloatVector.broadcast(SPECIES, b[b2 + bt]);
      c20 = a0.fma(x, c20);
      x = FloatVector.broadcast(SPECIES, b[b3 + bt]);
      c30 = a0.fma(x, c30);
      x = FloatVector.broadcast(SPECIES, b[b4 + bt]);
      c40 = a0.fma(x, c40);
      x = FloatVector.broadcast(SPECIES, b[b5 + bt]);
      c50 = a0.fma(x, c50);
    }
    c00.intoArray(out, p0);
    c10.intoArray(out, p1);
    c20.intoArray(out, p2);
    c30.intoArray(out, p3);
    c40.intoArray(out, p4);
    c50.intoArray(out, p5);
  }

  static void block4x1(
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
    int p0 = o0 + r;
    int p1 = o0 + ld + r;
    int p2 = o0 + 2 * ld + r;
    int p3 = o0 + 3 * ld + r;
    FloatVector c00 = init(out, p0, alpha, r);
    FloatVector c10 = init(out, p1, alpha, r);
    FloatVector c20 = init(out, p2, alpha, r);
    FloatVector c30 = init(out, p3, alpha, r);
    int b1 = b0 + sx;
    int b2 = b0 + 2 * sx;
    int b3 = b0 + 3 * sx;
    for (int t = 0, ai = r, bt = 0; t < nt; t++, ai += ld, bt += st) {
      FloatVector a0 = FloatVector.fromArray(SPECIES, a, ai);
      FloatVector x = FloatVector.broadcast(SPECIES, b[b0 + bt]);
      c00 = a0.fma(x, c00);
      x = FloatVector.broadcast(SPECIES, b[b1 + bt]);
      c10 = a0.fma(x, c10);
      x = FloatVector.broadcast(SPECIES, b[b2 + bt]);
      c20 = a0.fma(x, c20);
      x = FloatVector.broadcast(SPECIES, b[b3 + bt]);
      c30 = a0.fma(x, c30);
    }
    c00.intoArray(out, p0);
    c10.intoArray(out, p1);
    c20.intoArray(out, p2);
    c30.intoArray(out, p3);
  }

  static void block2x1(
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
    int p0 = o0 + r;
    int p1 = o0 + ld + r;
    FloatVector c00 = init(out, p0, alpha, r);
    FloatVector c10 = init(out, p1, alpha, r);
    int b1 = b0 + sx;
    for (int t = 0, ai = r, bt = 0; t < nt; t++, ai += ld, bt += st) {
      FloatVector a0 = FloatVector.fromArray(SPECIES, a, ai);
      FloatVector x = FloatVector.broadcast(SPECIES, b[b0 + bt]);
      c00 = a0.fma(x, c00);
      x = FloatVector.broadcast(SPECIES, b[b1 + bt]);
      c10 = a0.fma(x, c10);
    }
    c00.intoArray(out, p0);
    c10.intoArray(out, p1);
  }

  static void block1x1(
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
    int p0 = o0 + r;
    FloatVector c00 = init(out, p0, alpha, r);
    for (int t = 0, ai = r, bt = 0; t < nt; t++, ai += ld, bt += st) {
      FloatVector a0 = FloatVector.fromArray(SPECIES, a, ai);
      FloatVector x = FloatVector.broadcast(SPECIES, b[b0 + bt]);
      c00 = a0.fma(x, c00);
    }
    c00.intoArray(out, p0);
  }

  static void block4x2(
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
    int p0 = o0 + r;
    int p1 = o0 + ld + r;
    int p2 = o0 + 2 * ld + r;
    int p3 = o0 + 3 * ld + r;
    FloatVector c00 = init(out, p0, alpha, r);
    FloatVector c01 = init(out, p0 + l, alpha, r + l);
    FloatVector c10 = init(out, p1, alpha, r);
    FloatVector c11 = init(out, p1 + l, alpha, r + l);
    FloatVector c20 = init(out, p2, alpha, r);
    FloatVector c21 = init(out, p2 + l, alpha, r + l);
    FloatVector c30 = init(out, p3, alpha, r);
    FloatVector c31 = init(out, p3 + l, alpha, r + l);
    int b1 = b0 + sx;
    int b2 = b0 + 2 * sx;
    int b3 = b0 + 3 * sx;
    for (int t = 0, ai = r, bt = 0; t < nt; t++, ai += ld, bt += st) {
      FloatVector a0 = FloatVector.fromArray(SPECIES, a, ai);
      FloatVector a1 = FloatVector.fromArray(SPECIES, a, ai + l);
      FloatVector x = FloatVector.broadcast(SPECIES, b[b0 + bt]);
      c00 = a0.fma(x, c00);
      c01 = a1.fma(x, c01);
      x = FloatVector.broadcast(SPECIES, b[b1 + bt]);
      c10 = a0.fma(x, c10);
      c11 = a1.fma(x, c11);
      x = FloatVector.broadcast(SPECIES, b[b2 + bt]);
      c20 = a0.fma(x, c20);
      c21 = a1.fma(x, c21);
      x = FloatVector.broadcast(SPECIES, b[b3 + bt]);
      c30 = a0.fma(x, c30);
      c31 = a1.fma(x, c31);
    }
    c00.intoArray(out, p0);
    c01.intoArray(out, p0 + l);
    c10.intoArray(out, p1);
    c11.intoArray(out, p1 + l);
    c20.intoArray(out, p2);
    c21.intoArray(out, p2 + l);
    c30.intoArray(out, p3);
    c31.intoArray(out, p3 + l);
  }

  static void block2x2(
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
    int p0 = o0 + r;
    int p1 = o0 + ld + r;
    FloatVector c00 = init(out, p0, alpha, r);
    FloatVector c01 = init(out, p0 + l, alpha, r + l);
    FloatVector c10 = init(out, p1, alpha, r);
    FloatVector c11 = init(out, p1 + l, alpha, r + l);
    int b1 = b0 + sx;
    for (int t = 0, ai = r, bt = 0; t < nt; t++, ai += ld, bt += st) {
      FloatVector a0 = FloatVector.fromArray(SPECIES, a, ai);
      FloatVector a1 = FloatVector.fromArray(SPECIES, a, ai + l);
      FloatVector x = FloatVector.broadcast(SPECIES, b[b0 + bt]);
      c00 = a0.fma(x, c00);
      c01 = a1.fma(x, c01);
      x = FloatVector.broadcast(SPECIES, b[b1 + bt]);
      c10 = a0.fma(x, c10);
      c11 = a1.fma(x, c11);
    }
    c00.intoArray(out, p0);
    c01.intoArray(out, p0 + l);
    c10.intoArray(out, p1);
    c11.intoArray(out, p1 + l);
  }

  static void block1x2(
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
    int p0 = o0 + r;
    FloatVector c00 = init(out, p0, alpha, r);
    FloatVector c01 = init(out, p0 + l, alpha, r + l);
    for (int t = 0, ai = r, bt = 0; t < nt; t++, ai += ld, bt += st) {
      FloatVector a0 = FloatVector.fromArray(SPECIES, a, ai);
      FloatVector a1 = FloatVector.fromArray(SPECIES, a, ai + l);
      FloatVector x = FloatVector.broadcast(SPECIES, b[b0 + bt]);
      c00 = a0.fma(x, c00);
      c01 = a1.fma(x, c01);
    }
    c00.intoArray(out, p0);
    c01.intoArray(out, p0 + l);
  }

  static void block2x4(
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
    int p0 = o0 + r;
    int p1 = o0 + ld + r;
    FloatVector c00 = init(out, p0, alpha, r);
    FloatVector c01 = init(out, p0 + l, alpha, r + l);
    FloatVector c02 = init(out, p0 + 2 * l, alpha, r + 2 * l);
    FloatVector c03 = init(out, p0 + 3 * l, alpha, r + 3 * l);
    FloatVector c10 = init(out, p1, alpha, r);
    FloatVector c11 = init(out, p1 + l, alpha, r + l);
    FloatVector c12 = init(out, p1 + 2 * l, alpha, r + 2 * l);
    FloatVector c13 = init(out, p1 + 3 * l, alpha, r + 3 * l);
    int b1 = b0 + sx;
    for (int t = 0, ai = r, bt = 0; t < nt; t++, ai += ld, bt += st) {
      FloatVector a0 = FloatVector.fromArray(SPECIES, a, ai);
      FloatVector a1 = FloatVector.fromArray(SPECIES, a, ai + l);
      FloatVector a2 = FloatVector.fromArray(SPECIES, a, ai + 2 * l);
      FloatVector a3 = FloatVector.fromArray(SPECIES, a, ai + 3 * l);
      FloatVector x = FloatVector.broadcast(SPECIES, b[b0 + bt]);
      c00 = a0.fma(x, c00);
      c01 = a1.fma(x, c01);
      c02 = a2.fma(x, c02);
      c03 = a3.fma(x, c03);
      x = FloatVector.broadcast(SPECIES, b[b1 + bt]);
      c10 = a0.fma(x, c10);
      c11 = a1.fma(x, c11);
      c12 = a2.fma(x, c12);
      c13 = a3.fma(x, c13);
    }
    c00.intoArray(out, p0);
    c01.intoArray(out, p0 + l);
    c02.intoArray(out, p0 + 2 * l);
    c03.intoArray(out, p0 + 3 * l);
    c10.intoArray(out, p1);
    c11.intoArray(out, p1 + l);
    c12.intoArray(out, p1 + 2 * l);
    c13.intoArray(out, p1 + 3 * l);
  }

  static void block1x4(
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
    int p0 = o0 + r;
    FloatVector c00 = init(out, p0, alpha, r);
    FloatVector c01 = init(out, p0 + l, alpha, r + l);
    FloatVector c02 = init(out, p0 + 2 * l, alpha, r + 2 * l);
    FloatVector c03 = init(out, p0 + 3 * l, alpha, r + 3 * l);
    for (int t = 0, ai = r, bt = 0; t < nt; t++, ai += ld, bt += st) {
      FloatVector a0 = FloatVector.fromArray(SPECIES, a, ai);
      FloatVector a1 = FloatVector.fromArray(SPECIES, a, ai + l);
      FloatVector a2 = FloatVector.fromArray(SPECIES, a, ai + 2 * l);
      FloatVector a3 = FloatVector.fromArray(SPECIES, a, ai + 3 * l);
      FloatVector x = FloatVector.broadcast(SPECIES, b[b0 + bt]);
      c00 = a0.fma(x, c00);
      c01 = a1.fma(x, c01);
      c02 = a2.fma(x, c02);
      c03 = a3.fma(x, c03);
    }
    c00.intoArray(out, p0);
    c01.intoArray(out, p0 + l);
    c02.intoArray(out, p0 + 2 * l);
    c03.intoArray(out, p0 + 3 * l);
  }
}
