package dev.flashattn4j.internal;

import static dev.flashattn4j.internal.DropoutBits.M0;
import static dev.flashattn4j.internal.DropoutBits.M1;
import static dev.flashattn4j.internal.DropoutBits.MASK;

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
   * + LL), into {@code out}: block x as two vectors of longs, (w0 : w1) at 2x·LL and (w2 : w3) at
   * (2x + 1)·LL, the first word of each pair in the high half. Four independent chains of the ten
   * rounds hide the multiplies' latency. A chain's state is two vectors, not four: with (c0 : c1)
   * and (c2 : c3) in the halves of a long, a round is
   *
   * <pre>
   *   P = M0 · (c0 : c1 ≫ 32)     Q = M1 · (c2 : c3 ≫ 32)         (vpmuludq: hi : lo)
   *   (c0 : c1) ← Q ⊕ ((c0 : c1) ≪ 32) ⊕ (k0 ≪ 32)              = (hi(Q) ⊕ c1 ⊕ k0 : lo(Q))
   *   (c2 : c3) ← P ⊕ ((c2 : c3) ≪ 32) ⊕ (k1 ≪ 32)              = (hi(P) ⊕ c3 ⊕ k1 : lo(P))
   * </pre>
   *
   * so that four chains, the two multipliers and the round keys fit in 16 vector registers (with
   * four words a chain, AVX2's 16 registers spilled eight vectors a round). Each chain's round is
   * written out whole before the next chain's: C2 then keeps fewer vectors live (all eight products
   * first took 1.14× the time). The round keys come shifted from {@code roundKeys}. No vector
   * crosses the method's edges, so C2 compiles it whole whether or not it inlines it.
   */
  static void rounds(
      long[] rowI, long[] rowH, long[] out, int o, int b, int r, int block, long[] roundKeys) {
    LongVector i = LongVector.fromArray(LONGS, rowI, r);
    LongVector hb =
        LongVector.fromArray(LONGS, rowH, r).lanewise(VectorOperators.LSHL, 32).or(b & MASK);
    LongVector m0 = LongVector.broadcast(LONGS, M0).and(MASK);
    LongVector m1 = LongVector.broadcast(LONGS, M1).and(MASK);
    LongVector xa = i.or((block & MASK) << 32);
    LongVector xb = i.or(((block + 1) & MASK) << 32);
    LongVector xc = i.or(((block + 2) & MASK) << 32);
    LongVector xd = i.or(((block + 3) & MASK) << 32);
    LongVector ya = hb;
    LongVector yb = hb;
    LongVector yc = hb;
    LongVector yd = hb;
    for (int round = 0; round < 10; round++) {
      LongVector s0 = LongVector.broadcast(LONGS, roundKeys[2 * round]);
      LongVector s1 = LongVector.broadcast(LONGS, roundKeys[2 * round + 1]);
      LongVector pa = xa.lanewise(VectorOperators.LSHR, 32).mul(m0);
      LongVector qa = ya.lanewise(VectorOperators.LSHR, 32).mul(m1);
      xa =
          qa.lanewise(VectorOperators.XOR, xa.lanewise(VectorOperators.LSHL, 32))
              .lanewise(VectorOperators.XOR, s0);
      ya =
          pa.lanewise(VectorOperators.XOR, ya.lanewise(VectorOperators.LSHL, 32))
              .lanewise(VectorOperators.XOR, s1);
      LongVector pb = xb.lanewise(VectorOperators.LSHR, 32).mul(m0);
      LongVector qb = yb.lanewise(VectorOperators.LSHR, 32).mul(m1);
      xb =
          qb.lanewise(VectorOperators.XOR, xb.lanewise(VectorOperators.LSHL, 32))
              .lanewise(VectorOperators.XOR, s0);
      yb =
          pb.lanewise(VectorOperators.XOR, yb.lanewise(VectorOperators.LSHL, 32))
              .lanewise(VectorOperators.XOR, s1);
      LongVector pc = xc.lanewise(VectorOperators.LSHR, 32).mul(m0);
      LongVector qc = yc.lanewise(VectorOperators.LSHR, 32).mul(m1);
      xc =
          qc.lanewise(VectorOperators.XOR, xc.lanewise(VectorOperators.LSHL, 32))
              .lanewise(VectorOperators.XOR, s0);
      yc =
          pc.lanewise(VectorOperators.XOR, yc.lanewise(VectorOperators.LSHL, 32))
              .lanewise(VectorOperators.XOR, s1);
      LongVector pd = xd.lanewise(VectorOperators.LSHR, 32).mul(m0);
      LongVector qd = yd.lanewise(VectorOperators.LSHR, 32).mul(m1);
      xd =
          qd.lanewise(VectorOperators.XOR, xd.lanewise(VectorOperators.LSHL, 32))
              .lanewise(VectorOperators.XOR, s0);
      yd =
          pd.lanewise(VectorOperators.XOR, yd.lanewise(VectorOperators.LSHL, 32))
              .lanewise(VectorOperators.XOR, s1);
    }
    xa.intoArray(out, o + 0 * LL);
    ya.intoArray(out, o + 1 * LL);
    xb.intoArray(out, o + 2 * LL);
    yb.intoArray(out, o + 3 * LL);
    xc.intoArray(out, o + 4 * LL);
    yc.intoArray(out, o + 5 * LL);
    xd.intoArray(out, o + 6 * LL);
    yd.intoArray(out, o + 7 * LL);
  }

  /**
   * {@link #rounds} for block {@code block} alone (a tile's last blocks, fewer than {@value
   * DropoutBits#CHAINS}): one chain, its two vectors at {@code o} and {@code o + LL}.
   */
  static void roundsOne(
      long[] rowI, long[] rowH, long[] out, int o, int b, int r, int block, long[] roundKeys) {
    LongVector i = LongVector.fromArray(LONGS, rowI, r);
    LongVector y =
        LongVector.fromArray(LONGS, rowH, r).lanewise(VectorOperators.LSHL, 32).or(b & MASK);
    LongVector m0 = LongVector.broadcast(LONGS, M0).and(MASK);
    LongVector m1 = LongVector.broadcast(LONGS, M1).and(MASK);
    LongVector x = i.or((block & MASK) << 32);
    for (int round = 0; round < 10; round++) {
      LongVector p = x.lanewise(VectorOperators.LSHR, 32).mul(m0);
      LongVector q = y.lanewise(VectorOperators.LSHR, 32).mul(m1);
      x =
          q.lanewise(VectorOperators.XOR, x.lanewise(VectorOperators.LSHL, 32))
              .lanewise(VectorOperators.XOR, roundKeys[2 * round]);
      y =
          p.lanewise(VectorOperators.XOR, y.lanewise(VectorOperators.LSHL, 32))
              .lanewise(VectorOperators.XOR, roundKeys[2 * round + 1]);
    }
    x.intoArray(out, o);
    y.intoArray(out, o + LL);
  }

  /**
   * {@link #emit} for rows [r, r + 2·LL) at once, whose counters {@link DropoutBits#tile} laid out
   * even rows first: the words of rows r, r + 2, … at 0, of rows r + 1, r + 3, … at {@code second}.
   * A key's two 16-bit fields, one per long, interleave into a vector of ints in row order ((even :
   * odd) in each long), one compare gives the mask of all 2·LL rows, and the factors are a blend of
   * 1/(1 − p) and 0.
   */
  static void emit2(
      long[] wordsOut,
      int second,
      float scale,
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
    FloatVector zero = FloatVector.zero(Simd.SPECIES);
    int t = lo;
    for (; t < hi && (t & 3) != 0; t++) {
      emitKey2(wordsOut, second, scale, threshold, t, (jj + t) * ld + r, z, multiply);
    }
    // four keys a pair of words (w0 : w1) or (w2 : w3): one load of each row set
    for (; t + 4 <= hi; t += 4) {
      LongVector even = LongVector.fromArray(LONGS, wordsOut, (t >>> 2) * LL);
      LongVector odd = LongVector.fromArray(LONGS, wordsOut, second + (t >>> 2) * LL);
      int at = (jj + t) * ld + r;
      FloatVector f;
      // key t + 0: bits 32..47
      f =
          zero.blend(
              scale,
              Simd.INTS
                  .cast(
                      even.lanewise(VectorOperators.LSHR, 32)
                          .and(0xFFFFL)
                          .or(odd.and(0xFFFF_0000_0000L))
                          .reinterpretAsInts())
                  .lt(threshold)
                  .cast(Simd.SPECIES));
      if (multiply) {
        f = f.mul(FloatVector.fromArray(Simd.SPECIES, z, at));
      }
      f.intoArray(z, at);
      // key t + 1: bits 48..63
      f =
          zero.blend(
              scale,
              Simd.INTS
                  .cast(
                      even.lanewise(VectorOperators.LSHR, 48)
                          .or(odd.lanewise(VectorOperators.LSHR, 16).and(0xFFFF_0000_0000L))
                          .reinterpretAsInts())
                  .lt(threshold)
                  .cast(Simd.SPECIES));
      if (multiply) {
        f = f.mul(FloatVector.fromArray(Simd.SPECIES, z, at + ld));
      }
      f.intoArray(z, at + ld);
      // key t + 2: bits 0..15
      f =
          zero.blend(
              scale,
              Simd.INTS
                  .cast(
                      even.and(0xFFFFL)
                          .or(odd.lanewise(VectorOperators.LSHL, 32).and(0xFFFF_0000_0000L))
                          .reinterpretAsInts())
                  .lt(threshold)
                  .cast(Simd.SPECIES));
      if (multiply) {
        f = f.mul(FloatVector.fromArray(Simd.SPECIES, z, at + 2 * ld));
      }
      f.intoArray(z, at + 2 * ld);
      // key t + 3: bits 16..31
      f =
          zero.blend(
              scale,
              Simd.INTS
                  .cast(
                      even.lanewise(VectorOperators.LSHR, 16)
                          .and(0xFFFFL)
                          .or(odd.lanewise(VectorOperators.LSHL, 16).and(0xFFFF_0000_0000L))
                          .reinterpretAsInts())
                  .lt(threshold)
                  .cast(Simd.SPECIES));
      if (multiply) {
        f = f.mul(FloatVector.fromArray(Simd.SPECIES, z, at + 3 * ld));
      }
      f.intoArray(z, at + 3 * ld);
    }
    for (; t < hi; t++) {
      emitKey2(wordsOut, second, scale, threshold, t, (jj + t) * ld + r, z, multiply);
    }
  }

  /** Key t of {@link #emit2} alone (a tile edge inside a pair of words). */
  private static void emitKey2(
      long[] wordsOut,
      int second,
      float scale,
      int threshold,
      int t,
      int at,
      float[] z,
      boolean multiply) {
    int shift = ((~t & 2) << 4) + ((t & 1) << 4);
    LongVector even =
        LongVector.fromArray(LONGS, wordsOut, (t >>> 2) * LL)
            .lanewise(VectorOperators.LSHR, shift)
            .and(0xFFFFL);
    LongVector odd =
        LongVector.fromArray(LONGS, wordsOut, second + (t >>> 2) * LL)
            .lanewise(VectorOperators.LSHR, shift)
            .and(0xFFFFL)
            .lanewise(VectorOperators.LSHL, 32);
    // no vector crosses the method's edge: one passed to a call the JIT does not inline is boxed
    FloatVector f =
        FloatVector.zero(Simd.SPECIES)
            .blend(
                scale,
                Simd.INTS.cast(even.or(odd).reinterpretAsInts()).lt(threshold).cast(Simd.SPECIES));
    if (multiply) {
      f = f.mul(FloatVector.fromArray(Simd.SPECIES, z, at));
    }
    f.intoArray(z, at);
  }

  /**
   * Tile keys jj + t of rows [r, r + LL), t &lt; 2·words, from the halves of the words {@link
   * #rounds} wrote: the compare's lane bits pick the factors from {@code patterns}.
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
      // key t: half t mod 2 of word w = (t mod 8) / 2 of block t / 8; w0 and w2 are high halves
      LongVector pair = LongVector.fromArray(LONGS, wordsOut, (t >>> 2) * LL);
      int shift = ((~t & 2) << 4) + ((t & 1) << 4);
      LongVector half = pair.lanewise(VectorOperators.LSHR, shift).and(0xFFFFL);
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
