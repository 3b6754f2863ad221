package dev.flashattn4j.kernel.decode;

import dev.flashattn4j.config.MicroKernel;
import dev.flashattn4j.internal.Simd;
import dev.flashattn4j.internal.Softmax;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SIMD kernels of {@link DecodeSimd}'s softmax and P·V loops (jdk.incubator.vector). Each runs
 * over whole vectors only ({@code SPECIES.loopBound(n)} or the like) and returns where it stopped,
 * or its partial result: the scalar tail, which is also the scalar twin, stays in {@link
 * DecodeSimd}, so that it loads without the module {@code jdk.incubator.vector}. The vector width
 * is the forward kernel's ({@link Simd}, system property {@code flashattn.vector.bits}), and so is
 * exp2. This class is touched only when the vector paths run.
 */
final class DecodeVectors {

  /** The forward kernel's species, chosen once from {@value Simd#PROPERTY}. */
  static final VectorSpecies<Float> SPECIES = Simd.SPECIES;

  static final int LANES = SPECIES.length();

  /** Shorts of the 16-bit storage, as many as {@link #SPECIES} has floats. */
  private static final VectorSpecies<Short> HALF_SPECIES =
      VectorSpecies.of(
          short.class, VectorShape.forBitSize(Math.max(64, SPECIES.vectorBitSize() / 2)));

  /** Ints as wide as {@link #SPECIES}. */
  private static final VectorSpecies<Integer> INT_SPECIES = Simd.INT_SPECIES;

  private static final Class<? extends FloatVector> FLOATS = Simd.FLOATS;

  private static final Class<? extends IntVector> INTS = Simd.INTS;

  /**
   * True when the micro-kernel family is 4x4 (chosen for 32 vector registers, AVX-512 and NEON, or
   * pinned by {@value MicroKernel#PROPERTY}): the 8 × 2 blocks run; with 6x2 (16 registers, AVX2)
   * the 4 × 2 ones do. One choice, {@link MicroKernel#choice()}, for the forward and decode alike.
   */
  static final boolean WIDE_REGISTERS = MicroKernel.chosen() == MicroKernel.X4V4;

  private DecodeVectors() {}

  /** Lanes of a float vector of the chosen width. */
  static int lanes() {
    return LANES;
  }

  // 1. s[j] ← factor · s[j] for j in the whole vectors of [from, to); returns their max.

  static float scaleMax(float[] s, int from, int to, float factor) {
    int j = from;
    FloatVector m = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
    for (; j + LANES <= to; j += LANES) {
      FloatVector x = FloatVector.fromArray(SPECIES, s, j).mul(factor);
      x.intoArray(s, j);
      m = m.max(x);
    }
    return m.reduceLanes(VectorOperators.MAX); // max is exact: any order gives the same bits
  }

  /** The end of the whole vectors in [from, to): where the scalar tail of a loop starts. */
  static int wholeVectors(int from, int to) {
    return from + Math.max(0, to - from) / LANES * LANES;
  }

  // 2. s[j] ← e^(s[j] − m) = 2^((s[j] − m)·log2 e) for j in the whole vectors of [from, to);
  //    returns Σ_j s[j] (lanes, a fixed tree). Scores in natural units: a score near float32's
  //    largest value stays finite, and only the difference is scaled.

  private static final float LOG2E = Softmax.LOG2E;

  static float expShiftSum(float[] s, int from, int to, float m) {
    int j = from;
    // Simd.exp2 written out: a vector passed to a call the JIT does not inline is boxed.
    FloatVector mv = FloatVector.broadcast(SPECIES, m);
    FloatVector c2 = FloatVector.broadcast(SPECIES, P2);
    FloatVector c3 = FloatVector.broadcast(SPECIES, P3);
    FloatVector c4 = FloatVector.broadcast(SPECIES, P4);
    FloatVector c5 = FloatVector.broadcast(SPECIES, P5);
    FloatVector one = FloatVector.broadcast(SPECIES, 1f);
    FloatVector acc = FloatVector.zero(SPECIES);
    for (; j + LANES <= to; j += LANES) {
      FloatVector x = FloatVector.fromArray(SPECIES, s, j).sub(mv).mul(LOG2E).max(-150f).min(127f);
      FloatVector shifted = x.add(ROUND);
      FloatVector f = x.sub(shifted.sub(ROUND));
      FloatVector p = f.fma(P0, P1).fma(f, c2).fma(f, c3).fma(f, c4).fma(f, c5).fma(f, one);
      // every reinterpretation is cast to its concrete class: see Simd.FLOATS
      IntVector e = INTS.cast(shifted.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23);
      IntVector bits = INTS.cast(p.reinterpretAsInts()).add(e).sub(ROUND_SHIFTED).max(0);
      p = FLOATS.cast(bits.reinterpretAsFloats());
      p.intoArray(s, j);
      acc = acc.add(p);
    }
    // the lanes in a fixed tree (LaneSums); the tail follows in order, in DecodeSimd
    if (LANES >= 16) {
      acc = acc.add(acc.rearrange(LaneSums.ROTATE_8));
    }
    if (LANES >= 8) {
      acc = acc.add(acc.rearrange(LaneSums.ROTATE_4));
    }
    acc = acc.add(acc.rearrange(LaneSums.ROTATE_2));
    acc = acc.add(acc.rearrange(LaneSums.ROTATE_1));
    return acc.lane(0);
  }

  // Simd.exp2's polynomial and rounding constant, for the loop above (written out there: a vector
  // passed to a call the JIT does not inline is boxed); DecodeSimdTest checks the bits agree.
  private static final float P0 = Simd.P0;
  private static final float P1 = Simd.P1;
  private static final float P2 = Simd.P2;
  private static final float P3 = Simd.P3;
  private static final float P4 = Simd.P4;
  private static final float P5 = Simd.P5;
  private static final float ROUND = Simd.ROUND;
  private static final int ROUND_SHIFTED = Float.floatToRawIntBits(ROUND) << 23;

  // 3. a[o + c] *= alpha for c in the whole vectors of [0, n); returns where the tail starts.

  static int scale(float[] a, int o, int n, float alpha) {
    int c = 0;
    int bound = SPECIES.loopBound(n);
    for (; c < bound; c += LANES) {
      FloatVector.fromArray(SPECIES, a, o + c).mul(alpha).intoArray(a, o + c);
    }
    return c;
  }

  // 4. acc[ao + c] += Σ_j p[j] · v_j[c] for j in [from, to), c in the whole vectors of [0, dv):
  //    four vectors of the accumulator stay in registers while the block's value rows stream
  //    past. The blocks are named vectors × rows (accumulate8Vectors2Rows: 8 vectors of each of
  //    2 rows); DecodeDotVectors' dot blocks rows × keys; PanelBlocks' broadcasts × vectors.

  /**
   * {@link DecodeSimd#accumulate} for the columns [c0, dv) that fill whole vectors.
   *
   * @return the first column left to the scalar tail
   */
  static int accumulateFrom(
      float[] acc,
      int ao,
      float[] p,
      int from,
      int to,
      float[] rows,
      int[] offsets,
      int c0,
      int dv) {
    int c = c0;
    for (; c + 8 * LANES <= dv; c += 8 * LANES) {
      accumulate8(acc, ao + c, p, from, to, rows, offsets, c);
    }
    int step = 4 * LANES;
    for (; c + step <= dv; c += step) {
      FloatVector a0 = FloatVector.fromArray(SPECIES, acc, ao + c);
      FloatVector a1 = FloatVector.fromArray(SPECIES, acc, ao + c + LANES);
      FloatVector a2 = FloatVector.fromArray(SPECIES, acc, ao + c + 2 * LANES);
      FloatVector a3 = FloatVector.fromArray(SPECIES, acc, ao + c + 3 * LANES);
      for (int j = from; j < to; j++) {
        int vo = offsets[j] + c;
        FloatVector pj = FloatVector.broadcast(SPECIES, p[j]);
        a0 = FloatVector.fromArray(SPECIES, rows, vo).fma(pj, a0);
        a1 = FloatVector.fromArray(SPECIES, rows, vo + LANES).fma(pj, a1);
        a2 = FloatVector.fromArray(SPECIES, rows, vo + 2 * LANES).fma(pj, a2);
        a3 = FloatVector.fromArray(SPECIES, rows, vo + 3 * LANES).fma(pj, a3);
      }
      a0.intoArray(acc, ao + c);
      a1.intoArray(acc, ao + c + LANES);
      a2.intoArray(acc, ao + c + 2 * LANES);
      a3.intoArray(acc, ao + c + 3 * LANES);
    }
    for (; c + LANES <= dv; c += LANES) {
      FloatVector a0 = FloatVector.fromArray(SPECIES, acc, ao + c);
      for (int j = from; j < to; j++) {
        a0 =
            FloatVector.fromArray(SPECIES, rows, offsets[j] + c)
                .fma(FloatVector.broadcast(SPECIES, p[j]), a0);
      }
      a0.intoArray(acc, ao + c);
    }
    return c;
  }

  /**
   * {@link DecodeSimd#accumulate} for two rows at once (acc at ao0 with p0, acc at ao1 with p1):
   * each load of a value row serves both, sixteen accumulator vectors stay in registers. Every
   * accumulator adds in the same order as {@link DecodeSimd#accumulate}, so the bits are the same.
   */
  static int accumulate2(
      float[] acc,
      int ao0,
      int ao1,
      float[] p0,
      float[] p1,
      int from,
      int to,
      float[] rows,
      int[] offsets,
      int dv) {
    int c = 0;
    if (WIDE_REGISTERS) {
      for (; c + 8 * LANES <= dv; c += 8 * LANES) {
        accumulate8Vectors2Rows(acc, ao0 + c, ao1 + c, p0, p1, from, to, rows, offsets, c);
      }
    } else {
      for (; c + 4 * LANES <= dv; c += 4 * LANES) {
        accumulate4Vectors2Rows(acc, ao0 + c, ao1 + c, p0, p1, from, to, rows, offsets, c);
      }
    }
    return c;
  }

  private static void accumulate8Vectors2Rows(
      float[] acc,
      int ao0,
      int ao1,
      float[] p0,
      float[] p1,
      int from,
      int to,
      float[] rows,
      int[] offsets,
      int c) {
    FloatVector a0 = FloatVector.fromArray(SPECIES, acc, ao0);
    FloatVector a1 = FloatVector.fromArray(SPECIES, acc, ao0 + LANES);
    FloatVector a2 = FloatVector.fromArray(SPECIES, acc, ao0 + 2 * LANES);
    FloatVector a3 = FloatVector.fromArray(SPECIES, acc, ao0 + 3 * LANES);
    FloatVector a4 = FloatVector.fromArray(SPECIES, acc, ao0 + 4 * LANES);
    FloatVector a5 = FloatVector.fromArray(SPECIES, acc, ao0 + 5 * LANES);
    FloatVector a6 = FloatVector.fromArray(SPECIES, acc, ao0 + 6 * LANES);
    FloatVector a7 = FloatVector.fromArray(SPECIES, acc, ao0 + 7 * LANES);
    FloatVector b0 = FloatVector.fromArray(SPECIES, acc, ao1);
    FloatVector b1 = FloatVector.fromArray(SPECIES, acc, ao1 + LANES);
    FloatVector b2 = FloatVector.fromArray(SPECIES, acc, ao1 + 2 * LANES);
    FloatVector b3 = FloatVector.fromArray(SPECIES, acc, ao1 + 3 * LANES);
    FloatVector b4 = FloatVector.fromArray(SPECIES, acc, ao1 + 4 * LANES);
    FloatVector b5 = FloatVector.fromArray(SPECIES, acc, ao1 + 5 * LANES);
    FloatVector b6 = FloatVector.fromArray(SPECIES, acc, ao1 + 6 * LANES);
    FloatVector b7 = FloatVector.fromArray(SPECIES, acc, ao1 + 7 * LANES);
    for (int j = from; j < to; j++) {
      int vo = offsets[j] + c;
      FloatVector x = FloatVector.broadcast(SPECIES, p0[j]);
      FloatVector y = FloatVector.broadcast(SPECIES, p1[j]);
      FloatVector w = FloatVector.fromArray(SPECIES, rows, vo);
      a0 = w.fma(x, a0);
      b0 = w.fma(y, b0);
      w = FloatVector.fromArray(SPECIES, rows, vo + LANES);
      a1 = w.fma(x, a1);
      b1 = w.fma(y, b1);
      w = FloatVector.fromArray(SPECIES, rows, vo + 2 * LANES);
      a2 = w.fma(x, a2);
      b2 = w.fma(y, b2);
      w = FloatVector.fromArray(SPECIES, rows, vo + 3 * LANES);
      a3 = w.fma(x, a3);
      b3 = w.fma(y, b3);
      w = FloatVector.fromArray(SPECIES, rows, vo + 4 * LANES);
      a4 = w.fma(x, a4);
      b4 = w.fma(y, b4);
      w = FloatVector.fromArray(SPECIES, rows, vo + 5 * LANES);
      a5 = w.fma(x, a5);
      b5 = w.fma(y, b5);
      w = FloatVector.fromArray(SPECIES, rows, vo + 6 * LANES);
      a6 = w.fma(x, a6);
      b6 = w.fma(y, b6);
      w = FloatVector.fromArray(SPECIES, rows, vo + 7 * LANES);
      a7 = w.fma(x, a7);
      b7 = w.fma(y, b7);
    }
    a0.intoArray(acc, ao0);
    a1.intoArray(acc, ao0 + LANES);
    a2.intoArray(acc, ao0 + 2 * LANES);
    a3.intoArray(acc, ao0 + 3 * LANES);
    a4.intoArray(acc, ao0 + 4 * LANES);
    a5.intoArray(acc, ao0 + 5 * LANES);
    a6.intoArray(acc, ao0 + 6 * LANES);
    a7.intoArray(acc, ao0 + 7 * LANES);
    b0.intoArray(acc, ao1);
    b1.intoArray(acc, ao1 + LANES);
    b2.intoArray(acc, ao1 + 2 * LANES);
    b3.intoArray(acc, ao1 + 3 * LANES);
    b4.intoArray(acc, ao1 + 4 * LANES);
    b5.intoArray(acc, ao1 + 5 * LANES);
    b6.intoArray(acc, ao1 + 6 * LANES);
    b7.intoArray(acc, ao1 + 7 * LANES);
  }

  /**
   * {@link DecodeSimd#accumulate} for four rows at once (acc at ao0..ao3 with p0..p3): each load of
   * a value row serves the four, and every accumulator adds in {@link DecodeSimd#accumulate}'s
   * order (the same bits). Blocks of 4 vectors per row (16 accumulators) with 32 vector registers,
   * of 2 (8) with 16.
   */
  static int accumulate4(
      float[] acc,
      int ao0,
      int dv,
      float[] p0,
      float[] p1,
      float[] p2,
      float[] p3,
      int from,
      int to,
      float[] rows,
      int[] offsets) {
    int c = 0;
    int step = (WIDE_REGISTERS ? 4 : 2) * LANES;
    for (; c + step <= dv; c += step) {
      if (WIDE_REGISTERS) {
        accumulate4Vectors4Rows(acc, ao0 + c, dv, p0, p1, p2, p3, from, to, rows, offsets, c);
      } else {
        accumulate2Vectors4Rows(acc, ao0 + c, dv, p0, p1, p2, p3, from, to, rows, offsets, c);
      }
    }
    return c;
  }

  /** Two vectors of four rows' accumulators (rows dv apart from ao): 8 accumulators. */
  private static void accumulate2Vectors4Rows(
      float[] acc,
      int ao,
      int dv,
      float[] p0,
      float[] p1,
      float[] p2,
      float[] p3,
      int from,
      int to,
      float[] rows,
      int[] offsets,
      int c) {
    int ao1 = ao + dv;
    int ao2 = ao1 + dv;
    int ao3 = ao2 + dv;
    FloatVector a0 = FloatVector.fromArray(SPECIES, acc, ao);
    FloatVector a1 = FloatVector.fromArray(SPECIES, acc, ao + LANES);
    FloatVector b0 = FloatVector.fromArray(SPECIES, acc, ao1);
    FloatVector b1 = FloatVector.fromArray(SPECIES, acc, ao1 + LANES);
    FloatVector c0 = FloatVector.fromArray(SPECIES, acc, ao2);
    FloatVector c1 = FloatVector.fromArray(SPECIES, acc, ao2 + LANES);
    FloatVector d0 = FloatVector.fromArray(SPECIES, acc, ao3);
    FloatVector d1 = FloatVector.fromArray(SPECIES, acc, ao3 + LANES);
    for (int j = from; j < to; j++) {
      int vo = offsets[j] + c;
      FloatVector w0 = FloatVector.fromArray(SPECIES, rows, vo);
      FloatVector w1 = FloatVector.fromArray(SPECIES, rows, vo + LANES);
      FloatVector x = FloatVector.broadcast(SPECIES, p0[j]);
      a0 = w0.fma(x, a0);
      a1 = w1.fma(x, a1);
      x = FloatVector.broadcast(SPECIES, p1[j]);
      b0 = w0.fma(x, b0);
      b1 = w1.fma(x, b1);
      x = FloatVector.broadcast(SPECIES, p2[j]);
      c0 = w0.fma(x, c0);
      c1 = w1.fma(x, c1);
      x = FloatVector.broadcast(SPECIES, p3[j]);
      d0 = w0.fma(x, d0);
      d1 = w1.fma(x, d1);
    }
    a0.intoArray(acc, ao);
    a1.intoArray(acc, ao + LANES);
    b0.intoArray(acc, ao1);
    b1.intoArray(acc, ao1 + LANES);
    c0.intoArray(acc, ao2);
    c1.intoArray(acc, ao2 + LANES);
    d0.intoArray(acc, ao3);
    d1.intoArray(acc, ao3 + LANES);
  }

  /** Four vectors of four rows' accumulators (rows dv apart from ao): 16 accumulators. */
  private static void accumulate4Vectors4Rows(
      float[] acc,
      int ao,
      int dv,
      float[] p0,
      float[] p1,
      float[] p2,
      float[] p3,
      int from,
      int to,
      float[] rows,
      int[] offsets,
      int c) {
    int ao1 = ao + dv;
    int ao2 = ao1 + dv;
    int ao3 = ao2 + dv;
    FloatVector a0 = FloatVector.fromArray(SPECIES, acc, ao);
    FloatVector a1 = FloatVector.fromArray(SPECIES, acc, ao + LANES);
    FloatVector a2 = FloatVector.fromArray(SPECIES, acc, ao + 2 * LANES);
    FloatVector a3 = FloatVector.fromArray(SPECIES, acc, ao + 3 * LANES);
    FloatVector b0 = FloatVector.fromArray(SPECIES, acc, ao1);
    FloatVector b1 = FloatVector.fromArray(SPECIES, acc, ao1 + LANES);
    FloatVector b2 = FloatVector.fromArray(SPECIES, acc, ao1 + 2 * LANES);
    FloatVector b3 = FloatVector.fromArray(SPECIES, acc, ao1 + 3 * LANES);
    FloatVector c0 = FloatVector.fromArray(SPECIES, acc, ao2);
    FloatVector c1 = FloatVector.fromArray(SPECIES, acc, ao2 + LANES);
    FloatVector c2 = FloatVector.fromArray(SPECIES, acc, ao2 + 2 * LANES);
    FloatVector c3 = FloatVector.fromArray(SPECIES, acc, ao2 + 3 * LANES);
    FloatVector d0 = FloatVector.fromArray(SPECIES, acc, ao3);
    FloatVector d1 = FloatVector.fromArray(SPECIES, acc, ao3 + LANES);
    FloatVector d2 = FloatVector.fromArray(SPECIES, acc, ao3 + 2 * LANES);
    FloatVector d3 = FloatVector.fromArray(SPECIES, acc, ao3 + 3 * LANES);
    for (int j = from; j < to; j++) {
      int vo = offsets[j] + c;
      FloatVector x0 = FloatVector.broadcast(SPECIES, p0[j]);
      FloatVector x1 = FloatVector.broadcast(SPECIES, p1[j]);
      FloatVector x2 = FloatVector.broadcast(SPECIES, p2[j]);
      FloatVector x3 = FloatVector.broadcast(SPECIES, p3[j]);
      FloatVector w = FloatVector.fromArray(SPECIES, rows, vo);
      a0 = w.fma(x0, a0);
      b0 = w.fma(x1, b0);
      c0 = w.fma(x2, c0);
      d0 = w.fma(x3, d0);
      w = FloatVector.fromArray(SPECIES, rows, vo + LANES);
      a1 = w.fma(x0, a1);
      b1 = w.fma(x1, b1);
      c1 = w.fma(x2, c1);
      d1 = w.fma(x3, d1);
      w = FloatVector.fromArray(SPECIES, rows, vo + 2 * LANES);
      a2 = w.fma(x0, a2);
      b2 = w.fma(x1, b2);
      c2 = w.fma(x2, c2);
      d2 = w.fma(x3, d2);
      w = FloatVector.fromArray(SPECIES, rows, vo + 3 * LANES);
      a3 = w.fma(x0, a3);
      b3 = w.fma(x1, b3);
      c3 = w.fma(x2, c3);
      d3 = w.fma(x3, d3);
    }
    a0.intoArray(acc, ao);
    a1.intoArray(acc, ao + LANES);
    a2.intoArray(acc, ao + 2 * LANES);
    a3.intoArray(acc, ao + 3 * LANES);
    b0.intoArray(acc, ao1);
    b1.intoArray(acc, ao1 + LANES);
    b2.intoArray(acc, ao1 + 2 * LANES);
    b3.intoArray(acc, ao1 + 3 * LANES);
    c0.intoArray(acc, ao2);
    c1.intoArray(acc, ao2 + LANES);
    c2.intoArray(acc, ao2 + 2 * LANES);
    c3.intoArray(acc, ao2 + 3 * LANES);
    d0.intoArray(acc, ao3);
    d1.intoArray(acc, ao3 + LANES);
    d2.intoArray(acc, ao3 + 2 * LANES);
    d3.intoArray(acc, ao3 + 3 * LANES);
  }

  /**
   * {@link #accumulate8Vectors2Rows} for 16 vector registers (AVX2): four vectors of each row's
   * accumulator, eight in all, with the two broadcasts and the value vector 11 registers, where 8 ×
   * 2 needs 19 and spills an accumulator to memory at every key.
   */
  private static void accumulate4Vectors2Rows(
      float[] acc,
      int ao0,
      int ao1,
      float[] p0,
      float[] p1,
      int from,
      int to,
      float[] rows,
      int[] offsets,
      int c) {
    FloatVector a0 = FloatVector.fromArray(SPECIES, acc, ao0);
    FloatVector a1 = FloatVector.fromArray(SPECIES, acc, ao0 + LANES);
    FloatVector a2 = FloatVector.fromArray(SPECIES, acc, ao0 + 2 * LANES);
    FloatVector a3 = FloatVector.fromArray(SPECIES, acc, ao0 + 3 * LANES);
    FloatVector b0 = FloatVector.fromArray(SPECIES, acc, ao1);
    FloatVector b1 = FloatVector.fromArray(SPECIES, acc, ao1 + LANES);
    FloatVector b2 = FloatVector.fromArray(SPECIES, acc, ao1 + 2 * LANES);
    FloatVector b3 = FloatVector.fromArray(SPECIES, acc, ao1 + 3 * LANES);
    for (int j = from; j < to; j++) {
      int vo = offsets[j] + c;
      FloatVector x = FloatVector.broadcast(SPECIES, p0[j]);
      FloatVector y = FloatVector.broadcast(SPECIES, p1[j]);
      FloatVector w = FloatVector.fromArray(SPECIES, rows, vo);
      a0 = w.fma(x, a0);
      b0 = w.fma(y, b0);
      w = FloatVector.fromArray(SPECIES, rows, vo + LANES);
      a1 = w.fma(x, a1);
      b1 = w.fma(y, b1);
      w = FloatVector.fromArray(SPECIES, rows, vo + 2 * LANES);
      a2 = w.fma(x, a2);
      b2 = w.fma(y, b2);
      w = FloatVector.fromArray(SPECIES, rows, vo + 3 * LANES);
      a3 = w.fma(x, a3);
      b3 = w.fma(y, b3);
    }
    a0.intoArray(acc, ao0);
    a1.intoArray(acc, ao0 + LANES);
    a2.intoArray(acc, ao0 + 2 * LANES);
    a3.intoArray(acc, ao0 + 3 * LANES);
    b0.intoArray(acc, ao1);
    b1.intoArray(acc, ao1 + LANES);
    b2.intoArray(acc, ao1 + 2 * LANES);
    b3.intoArray(acc, ao1 + 3 * LANES);
  }

  /** Eight vectors of the accumulator from {@code ao}: eight independent FMA chains. */
  private static void accumulate8(
      float[] acc, int ao, float[] p, int from, int to, float[] rows, int[] offsets, int c) {
    FloatVector a0 = FloatVector.fromArray(SPECIES, acc, ao);
    FloatVector a1 = FloatVector.fromArray(SPECIES, acc, ao + LANES);
    FloatVector a2 = FloatVector.fromArray(SPECIES, acc, ao + 2 * LANES);
    FloatVector a3 = FloatVector.fromArray(SPECIES, acc, ao + 3 * LANES);
    FloatVector a4 = FloatVector.fromArray(SPECIES, acc, ao + 4 * LANES);
    FloatVector a5 = FloatVector.fromArray(SPECIES, acc, ao + 5 * LANES);
    FloatVector a6 = FloatVector.fromArray(SPECIES, acc, ao + 6 * LANES);
    FloatVector a7 = FloatVector.fromArray(SPECIES, acc, ao + 7 * LANES);
    for (int j = from; j < to; j++) {
      int vo = offsets[j] + c;
      FloatVector pj = FloatVector.broadcast(SPECIES, p[j]);
      a0 = FloatVector.fromArray(SPECIES, rows, vo).fma(pj, a0);
      a1 = FloatVector.fromArray(SPECIES, rows, vo + LANES).fma(pj, a1);
      a2 = FloatVector.fromArray(SPECIES, rows, vo + 2 * LANES).fma(pj, a2);
      a3 = FloatVector.fromArray(SPECIES, rows, vo + 3 * LANES).fma(pj, a3);
      a4 = FloatVector.fromArray(SPECIES, rows, vo + 4 * LANES).fma(pj, a4);
      a5 = FloatVector.fromArray(SPECIES, rows, vo + 5 * LANES).fma(pj, a5);
      a6 = FloatVector.fromArray(SPECIES, rows, vo + 6 * LANES).fma(pj, a6);
      a7 = FloatVector.fromArray(SPECIES, rows, vo + 7 * LANES).fma(pj, a7);
    }
    a0.intoArray(acc, ao);
    a1.intoArray(acc, ao + LANES);
    a2.intoArray(acc, ao + 2 * LANES);
    a3.intoArray(acc, ao + 3 * LANES);
    a4.intoArray(acc, ao + 4 * LANES);
    a5.intoArray(acc, ao + 5 * LANES);
    a6.intoArray(acc, ao + 6 * LANES);
    a7.intoArray(acc, ao + 7 * LANES);
  }

  // 5. y[yo + c] += w · x[xo + c] for c in the whole vectors of [0, n); returns where the tail
  // starts.

  static int axpy(float w, float[] x, int xo, float[] y, int yo, int n) {
    int c = 0;
    FloatVector wv = FloatVector.broadcast(SPECIES, w);
    int bound = SPECIES.loopBound(n);
    for (; c < bound; c += LANES) {
      FloatVector.fromArray(SPECIES, x, xo + c)
          .fma(wv, FloatVector.fromArray(SPECIES, y, yo + c))
          .intoArray(y, yo + c);
    }
    return c;
  }

  // 6. dst[j] = the float of the bfloat16 pattern src[so + j] for j in the whole vectors of [0, n):
  //    the pattern is the float's top half, so a widening load and a shift by 16 (C2 does not
  //    vectorise the scalar loop); returns where the tail starts.

  static int widenBfloat16(short[] src, int so, float[] dst, int dOff, int n) {
    int j = 0;
    for (; j + LANES <= n; j += LANES) {
      // a conversion's result cast to its concrete class: see Simd.FLOATS
      IntVector wide =
          INTS.cast(
              ShortVector.fromArray(HALF_SPECIES, src, so + j)
                  .convertShape(VectorOperators.S2I, INT_SPECIES, 0));
      FLOATS
          .cast(wide.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats())
          .intoArray(dst, dOff + j);
    }
    return j;
  }

  // 7. dst[dOff + j] = src[so + j] · scale for j in the whole vectors of [0, n): int8 pages, one
  //    widening load (B2F) and a multiply; returns where the tail starts (0 below 256-bit vectors,
  //    where no byte vector has the float vector's lane count).

  /** Bytes of int8 pages, as many as {@link #SPECIES} has floats (from 256-bit vectors on). */
  private static final VectorSpecies<Byte> BYTE_SPECIES =
      VectorSpecies.of(
          byte.class, VectorShape.forBitSize(Math.max(64, SPECIES.vectorBitSize() / 4)));

  private static final boolean BYTES_FIT = BYTE_SPECIES.length() == LANES;

  static int widenInt8(byte[] src, int so, float scale, float[] dst, int dOff, int n) {
    if (!BYTES_FIT) {
      return 0;
    }
    int j = 0;
    for (; j + LANES <= n; j += LANES) {
      // a conversion's result cast to its concrete class: see Simd.FLOATS
      FLOATS
          .cast(
              ByteVector.fromArray(BYTE_SPECIES, src, so + j)
                  .convertShape(VectorOperators.B2F, SPECIES, 0))
          .mul(scale)
          .intoArray(dst, dOff + j);
    }
    return j;
  }
}
