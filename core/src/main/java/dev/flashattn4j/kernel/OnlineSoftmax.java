package dev.flashattn4j.kernel;

import dev.flashattn4j.internal.Simd;
import dev.flashattn4j.internal.Softmax;
import java.util.Arrays;

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
  final float[] tileSum;

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
    // the SIMD loop lives apart, so that this class loads without the Vector API module
    TileVectors.update(this, s, ld, rows, keys);
  }

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
   * it; the exp pass does not, see {@link TileVectors#FLOOR_BITS}).
   *
   * @return m + ln l
   */
  float lse(int r) {
    return Softmax.lse(rowMax[r], rowSum[r]);
  }
}
