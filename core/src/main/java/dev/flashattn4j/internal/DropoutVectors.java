package dev.flashattn4j.internal;

import static dev.flashattn4j.internal.DropoutBits.M0;
import static dev.flashattn4j.internal.DropoutBits.M1;
import static dev.flashattn4j.internal.DropoutBits.MASK;
import static dev.flashattn4j.internal.DropoutBits.W0;
import static dev.flashattn4j.internal.DropoutBits.W1;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SIMD rows of {@link DropoutBits#tile}: Philox on as many rows at once as a vector of longs
 * holds, and the keep bits turned into factors. Apart from {@link DropoutBits} so that it loads
 * without the module {@code jdk.incubator.vector}; touched only when the vector paths run.
 */
final class DropoutVectors {

  static final VectorSpecies<Long> LONGS = VectorSpecies.of(long.class, Simd.SPECIES.vectorShape());

  // as many floats as LONGS has lanes: the factors of one key for those rows
  static final VectorSpecies<Float> FLOATS =
      VectorSpecies.of(float.class, VectorShape.forBitSize(Simd.SPECIES.vectorBitSize() / 2));

  /** Rows per vector of longs. */
  static final int LANES = LONGS.length();

  private static final int LL = LANES;

  private DropoutVectors() {}

  /**
   * The words of counters (block + x, i, h, b), x &lt; {@value DropoutBits#CHAINS}, for rows [r, r
   * + LL), into {@code out} (word w of block x at (4x + w)·LL): four independent chains of the ten
   * rounds, to hide the multiplies' latency. The low halves of the products are not masked: only
   * the low 32 bits of a lane enter a multiply ({@code vpmuludq} reads no more) and the emitting
   * loop keeps 16 bits. No vector crosses the method's edges, so C2 compiles it whole whether or
   * not it inlines it.
   */
  static void rounds(
      long[] rowI, long[] rowH, long[] out, int b, int r, int block, int k0, int k1) {
    LongVector i = LongVector.fromArray(LONGS, rowI, r);
    LongVector h = LongVector.fromArray(LONGS, rowH, r);
    LongVector batch = LongVector.broadcast(LONGS, b & MASK);
    LongVector m0 = LongVector.broadcast(LONGS, M0).and(MASK);
    LongVector m1 = LongVector.broadcast(LONGS, M1).and(MASK);
    LongVector a0 = LongVector.broadcast(LONGS, block & MASK);
    LongVector a1 = i;
    LongVector a2 = h;
    LongVector a3 = batch;
    LongVector b0 = LongVector.broadcast(LONGS, (block + 1) & MASK);
    LongVector b1 = i;
    LongVector b2 = h;
    LongVector b3 = batch;
    LongVector c0 = LongVector.broadcast(LONGS, (block + 2) & MASK);
    LongVector c1 = i;
    LongVector c2 = h;
    LongVector c3 = batch;
    LongVector d0 = LongVector.broadcast(LONGS, (block + 3) & MASK);
    LongVector d1 = i;
    LongVector d2 = h;
    LongVector d3 = batch;
    int ka = k0;
    int kb = k1;
    for (int round = 0; round < 10; round++) {
      LongVector x0 = LongVector.broadcast(LONGS, ka & MASK);
      LongVector x1 = LongVector.broadcast(LONGS, kb & MASK);
      // (hi, lo) = M0·c0 and M1·c2; c0 ← hi(M1·c2) ⊕ c1 ⊕ k0, c2 ← hi(M0·c0) ⊕ c3 ⊕ k1
      LongVector pa = a0.and(MASK).mul(m0);
      LongVector qa = a2.and(MASK).mul(m1);
      LongVector pb = b0.and(MASK).mul(m0);
      LongVector qb = b2.and(MASK).mul(m1);
      LongVector pc = c0.and(MASK).mul(m0);
      LongVector qc = c2.and(MASK).mul(m1);
      LongVector pd = d0.and(MASK).mul(m0);
      LongVector qd = d2.and(MASK).mul(m1);
      a0 =
          qa.lanewise(VectorOperators.LSHR, 32)
              .lanewise(VectorOperators.XOR, a1.lanewise(VectorOperators.XOR, x0));
      a2 =
          pa.lanewise(VectorOperators.LSHR, 32)
              .lanewise(VectorOperators.XOR, a3.lanewise(VectorOperators.XOR, x1));
      a1 = qa;
      a3 = pa;
      b0 =
          qb.lanewise(VectorOperators.LSHR, 32)
              .lanewise(VectorOperators.XOR, b1.lanewise(VectorOperators.XOR, x0));
      b2 =
          pb.lanewise(VectorOperators.LSHR, 32)
              .lanewise(VectorOperators.XOR, b3.lanewise(VectorOperators.XOR, x1));
      b1 = qb;
      b3 = pb;
      c0 =
          qc.lanewise(VectorOperators.LSHR, 32)
              .lanewise(VectorOperators.XOR, c1.lanewise(VectorOperators.XOR, x0));
      c2 =
          pc.lanewise(VectorOperators.LSHR, 32)
              .lanewise(VectorOperators.XOR, c3.lanewise(VectorOperators.XOR, x1));
      c1 = qc;
      c3 = pc;
      d0 =
          qd.lanewise(VectorOperators.LSHR, 32)
              .lanewise(VectorOperators.XOR, d1.lanewise(VectorOperators.XOR, x0));
      d2 =
          pd.lanewise(VectorOperators.LSHR, 32)
              .lanewise(VectorOperators.XOR, d3.lanewise(VectorOperators.XOR, x1));
      d1 = qd;
      d3 = pd;
      ka += W0;
      kb += W1;
    }
    a0.intoArray(out, 0);
    a1.intoArray(out, LL);
    a2.intoArray(out, 2 * LL);
    a3.intoArray(out, 3 * LL);
    b0.intoArray(out, 4 * LL);
    b1.intoArray(out, 5 * LL);
    b2.intoArray(out, 6 * LL);
    b3.intoArray(out, 7 * LL);
    c0.intoArray(out, 8 * LL);
    c1.intoArray(out, 9 * LL);
    c2.intoArray(out, 10 * LL);
    c3.intoArray(out, 11 * LL);
    d0.intoArray(out, 12 * LL);
    d1.intoArray(out, 13 * LL);
    d2.intoArray(out, 14 * LL);
    d3.intoArray(out, 15 * LL);
  }

  /**
   * Tile keys jj + 2q and jj + 2q + 1 of rows [r, r + LL) from the two halves of word q of {@code
   * wordsOut}: the compare's lane bits pick the factors from {@code patterns}.
   */
  static void emit(
      long[] wordsOut,
      float[] patterns,
      int threshold,
      int words,
      int jj,
      int r,
      float[] z,
      int ld,
      int keys,
      boolean multiply) {
    int lo = Math.max(0, -jj);
    int hi = Math.min(2 * words, keys - jj);
    for (int t = lo; t < hi; t++) {
      LongVector word = LongVector.fromArray(LONGS, wordsOut, (t >>> 1) * LL);
      LongVector half =
          ((t & 1) == 0 ? word : word.lanewise(VectorOperators.LSHR, 16)).and(0xFFFFL);
      int kept = (int) half.lt(threshold).toLong();
      FloatVector f = FloatVector.fromArray(FLOATS, patterns, kept * LL);
      int at = (jj + t) * ld + r;
      if (multiply) {
        f = f.mul(FloatVector.fromArray(FLOATS, z, at));
      }
      f.intoArray(z, at);
    }
  }
}
