package dev.flashattn4j.kernel;

import static dev.flashattn4j.internal.Simd.LANES;
import static dev.flashattn4j.internal.Simd.SPECIES;

import dev.flashattn4j.internal.Simd;
import dev.flashattn4j.internal.Softmax;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The online-softmax state of one block of query rows (FlashAttention's {@code softmax.h}): the
 * running row max m, the running row sum l and the factor α by which the unnormalised O block must
 * be rescaled after each key block. Scores and m are in natural units (a float mask is added as
 * written, however large); each difference s − m is taken to base 2 by one multiply, so exp2
 * replaces exp: p = 2^((s − m)·log2 e), and LSE = m + ln l. A difference too large for a float
 * becomes −∞ and gives p = 0, as it should.
 *
 * <p>The tile {@code s} is stored key-major with the rows contiguous ({@code s[j·ld + r]}), so the
 * row max, the exponentials and the row sum are plain lane-wise operations over vectors of rows: no
 * horizontal reduction anywhere.
 */
final class OnlineSoftmax {

  /** Running max of each row (natural units), −∞ before any key. Length ≥ the block rows. */
  final float[] rowMax;

  /** Running Σ exp2(s − m) of each row. */
  final float[] rowSum;

  /** exp2(m_old − m_new) of the last update: the factor on the old O rows. */
  final float[] alpha;

  /** Σ_j p_j of the last tile, per row (scratch of {@link #update}). */
  private final float[] tileSum;

  OnlineSoftmax(int capacity) {
    tileSum = new float[capacity];
    rowMax = new float[capacity];
    rowSum = new float[capacity];
    alpha = new float[capacity];
  }

  /** Starts a block of {@code rows} rows: m = −∞, l = 0. */
  void reset(int rows) {
    Arrays.fill(rowMax, 0, rows, Float.NEGATIVE_INFINITY);
    Arrays.fill(rowSum, 0, rows, 0f);
  }

  /**
   * Folds one tile of scores into the state, fusing row max, exp and sum:
   *
   * <ol>
   *   <li>m_new = max(m, max_j s_j) per row;
   *   <li>m_use = m_new, or 0 when m_new = −∞ (no key seen yet: avoids −∞ − −∞ = NaN);
   *   <li>α = exp2((m − m_use)·log2 e); s_j ← p_j = exp2((s_j − m_use)·log2 e) in place; l ← α·l +
   *       Σ_j p_j.
   * </ol>
   *
   * @param s the tile, {@code s[j·ld + r]} for j &lt; keys, r &lt; rows; overwritten with P
   * @param rows rows to update, a multiple of {@link Simd#LANES}
   */
  void update(float[] s, int ld, int rows, int keys) {
    // Every vector value lives inside one method: a vector passed to or returned from a call the
    // JIT does not inline is boxed on the heap, so exp2 is written out in both loops below.
    FloatVector c2 = FloatVector.broadcast(SPECIES, Simd.P2);
    FloatVector c3 = FloatVector.broadcast(SPECIES, Simd.P3);
    FloatVector c4 = FloatVector.broadcast(SPECIES, Simd.P4);
    FloatVector c5 = FloatVector.broadcast(SPECIES, Simd.P5);
    FloatVector one = FloatVector.broadcast(SPECIES, 1f);
    FloatVector log2e = FloatVector.broadcast(SPECIES, LOG2E);
    for (int r = 0; r < rows; r += LANES) {
      FloatVector mOld = FloatVector.fromArray(SPECIES, rowMax, r);
      // m_new = max(m, max_j s_j), in two independent chains
      FloatVector max0 = mOld;
      FloatVector max1 = mOld;
      int j = 0;
      for (; j + 1 < keys; j += 2) {
        max0 = max0.max(FloatVector.fromArray(SPECIES, s, r + j * ld));
        max1 = max1.max(FloatVector.fromArray(SPECIES, s, r + (j + 1) * ld));
      }
      if (j < keys) {
        max0 = max0.max(FloatVector.fromArray(SPECIES, s, r + j * ld));
      }
      FloatVector max = max0.max(max1);
      FloatVector use = max.blend(0f, max.compare(VectorOperators.EQ, Float.NEGATIVE_INFINITY));
      // p_j = exp2(s_j − m_use) in place; the sum alternates between two chains
      FloatVector sum0 = FloatVector.zero(SPECIES);
      FloatVector sum1 = sum0;
      for (j = 0; j < keys; j++) {
        int i = r + j * ld;
        // x = max((s − m)·log2 e, −150): one unsigned min on the bits (see FLOOR_BITS)
        FloatVector x =
            FloatVector.fromArray(SPECIES, s, i)
                .sub(use)
                .mul(log2e)
                .reinterpretAsInts()
                .lanewise(VectorOperators.UMIN, FLOOR_BITS)
                .reinterpretAsFloats();
        FloatVector shifted = x.add(Simd.ROUND);
        FloatVector f = x.sub(shifted.sub(Simd.ROUND));
        FloatVector p = f.fma(Simd.P0, Simd.P1).fma(f, c2).fma(f, c3).fma(f, c4).fma(f, c5);
        p = p.fma(f, one);
        IntVector e = shifted.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23);
        p = p.reinterpretAsInts().add(e).max(0).reinterpretAsFloats();
        p.intoArray(s, i);
        FloatVector t = sum1;
        sum1 = sum0.add(p);
        sum0 = t;
      }
      sum0.add(sum1).intoArray(tileSum, r);
      mOld.sub(use).mul(log2e).intoArray(alpha, r); // the exponent of α, finished in rescale
      max.intoArray(rowMax, r);
    }
    rescale(rows);
  }

  /** α = exp2(α's exponent); l = α·l + Σ_j p_j (the second half of {@link #update}). */
  private void rescale(int rows) {
    FloatVector c2 = FloatVector.broadcast(SPECIES, Simd.P2);
    FloatVector c3 = FloatVector.broadcast(SPECIES, Simd.P3);
    FloatVector c4 = FloatVector.broadcast(SPECIES, Simd.P4);
    FloatVector c5 = FloatVector.broadcast(SPECIES, Simd.P5);
    FloatVector one = FloatVector.broadcast(SPECIES, 1f);
    for (int r = 0; r < rows; r += LANES) {
      FloatVector x =
          FloatVector.fromArray(SPECIES, alpha, r)
              .reinterpretAsInts()
              .lanewise(VectorOperators.UMIN, FLOOR_BITS)
              .reinterpretAsFloats();
      FloatVector shifted = x.add(Simd.ROUND);
      FloatVector f = x.sub(shifted.sub(Simd.ROUND));
      FloatVector a = f.fma(Simd.P0, Simd.P1).fma(f, c2).fma(f, c3).fma(f, c4).fma(f, c5);
      a = a.fma(f, one);
      IntVector e = shifted.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23);
      a = a.reinterpretAsInts().add(e).max(0).reinterpretAsFloats();
      a.intoArray(alpha, r);
      FloatVector l = FloatVector.fromArray(SPECIES, rowSum, r);
      l.fma(a, FloatVector.fromArray(SPECIES, tileSum, r)).intoArray(rowSum, r);
    }
  }

  /**
   * max(x, −150) for x ≤ 0 is one unsigned min on the bits: the bits of a float ≤ 0 grow, as
   * unsigned ints, with its magnitude (+0 is 0, −0 is 2^31, −∞ is 0xFF800000), so the unsigned min
   * with the bits of −150 clamps. {@code FloatVector.max} costs five instructions on AVX2 (vmaxps
   * alone cannot give Java's NaN and −0 semantics). A NaN comes out as some other value: {@link
   * #lse} makes a row whose max is NaN a NaN row instead. Written out at each use: a vector passed
   * to a call the JIT does not inline is boxed on the heap.
   */
  private static final int FLOOR_BITS = Float.floatToRawIntBits(Simd.EXP2_FLOOR);

  /** The scalar twin of {@link #update} ({@code rows} may be any count). */
  void updateScalar(float[] s, int ld, int rows, int keys) {
    for (int r = 0; r < rows; r++) {
      float mOld = rowMax[r];
      float max = mOld;
      for (int j = 0, i = r; j < keys; j++, i += ld) {
        max = Math.max(max, s[i]);
      }
      float use = max == Float.NEGATIVE_INFINITY ? 0f : max;
      float sum = 0f;
      for (int j = 0, i = r; j < keys; j++, i += ld) {
        float p = Softmax.expShift(s[i], use);
        s[i] = p;
        sum += p;
      }
      float a = Softmax.expShift(mOld, use);
      alpha[r] = a;
      rowSum[r] = Math.fma(rowSum[r], a, sum);
      rowMax[r] = max;
    }
  }

  /**
   * The natural log-sum-exp of row r, −∞ when the row has seen no key, NaN when one of its scores
   * was NaN or +∞ (the running max keeps a NaN: {@code FloatVector.max} and {@code Math.max} carry
   * it; the exp pass does not, see {@link #FLOOR_BITS}).
   *
   * @return m + ln l
   */
  float lse(int r) {
    return Softmax.lse(rowMax[r], rowSum[r]);
  }

  private static final float LOG2E = Softmax.LOG2E;
}
