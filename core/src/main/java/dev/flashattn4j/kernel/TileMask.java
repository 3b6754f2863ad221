package dev.flashattn4j.kernel;

import static dev.flashattn4j.internal.Simd.LANES;

import dev.flashattn4j.internal.ScalarMath;
import dev.flashattn4j.internal.Simd;
import dev.flashattn4j.internal.Softmax;
import dev.flashattn4j.values.AttentionMask;
import dev.flashattn4j.values.AttentionOptions;

/**
 * What happens to a tile of scores between Q·Kᵀ and the softmax (FlashAttention's {@code mask.h}):
 * the soft cap, the user's mask and the element-wise causal/window cut of a diagonal tile. Every
 * method works on the key-major tile {@code s[j·ld + r]} of scores in natural units.
 */
final class TileMask {

  private TileMask() {}

  /**
   * s ← k·tanh(s) for the soft cap c, where the panel of Q was scaled by scale/c and k = c.
   *
   * @param rows a multiple of {@link Simd#LANES} when {@code vector}
   */
  static void softcap(float[] s, int ld, int rows, int keys, float k, boolean vector) {
    for (int j = 0; j < keys; j++) {
      int o = j * ld;
      if (vector) {
        for (int r = 0; r < rows; r += LANES) {
          TileVectors.tanhTimes(s, o + r, k);
        }
      } else {
        for (int r = 0; r < rows; r++) {
          s[o + r] = k * ScalarMath.tanh(s[o + r]);
        }
      }
    }
  }

  /**
   * s ← c·tanh(s/c) for an extreme cap c (see {@link ScalarMath#softcap}), where the panel of Q was
   * scaled by scale alone: one score at a time, the same on the SIMD and scalar paths.
   */
  static void softcapDividing(float[] s, int ld, int rows, int keys, float c) {
    for (int j = 0; j < keys; j++) {
      int o = j * ld;
      for (int r = 0; r < rows; r++) {
        s[o + r] = ScalarMath.softcap(s[o + r], c);
      }
    }
  }

  /**
   * Adds the user's mask exactly as written: s(i, j) += bias(i, j) (scores are in natural units, so
   * no finite bias overflows), or −∞ where a boolean mask drops the score. The mask is read in
   * place through its broadcast strides, never expanded.
   *
   * @param head the query head of each tile row
   * @param pos the query index of each tile row, within its sequence
   * @param rowBase the mask row of query index 0: 0, or a packed sequence's first row (varlen)
   * @param j0 the mask column of tile column 0 (for varlen, the sequence's first key included)
   * @param rows the real rows of the tile
   */
  static void apply(
      AttentionMask mask,
      int b,
      int[] head,
      int[] pos,
      int rowBase,
      int j0,
      float[] s,
      int ld,
      int rows,
      int keys) {
    int ks = mask.keyStride();
    if (mask.isBoolean()) {
      boolean[] keep = mask.keepArray();
      for (int r = 0; r < rows; r++) {
        int m = mask.rowOffset(b, head[r], rowBase + pos[r]) + j0 * ks;
        for (int j = 0; j < keys; j++, m += ks) {
          if (!keep[m]) {
            s[j * ld + r] = Float.NEGATIVE_INFINITY;
          }
        }
      }
    } else {
      float[] bias = mask.biasArray();
      for (int r = 0; r < rows; r++) {
        int m = mask.rowOffset(b, head[r], rowBase + pos[r]) + j0 * ks;
        for (int j = 0; j < keys; j++, m += ks) {
          // −∞ hides the key whatever its score, even NaN; other values are added as written
          s[j * ld + r] = Softmax.mask(s[j * ld + r], bias[m]);
        }
      }
    }
  }

  /**
   * ALiBi: s(r, j) += −slope[head r]·|diag(pos r) − (j0 + j)| ({@link AttentionOptions#alibiBias}),
   * after the soft cap and before the mask.
   *
   * @param nq N_q of the rows' sequence
   * @param nk N_k of the rows' sequence
   */
  static void alibi(
      AttentionOptions options,
      int[] head,
      int[] pos,
      int j0,
      float[] s,
      int ld,
      int rows,
      int keys,
      int nq,
      int nk) {
    for (int r = 0; r < rows; r++) {
      int h = head[r];
      int i = pos[r];
      for (int j = 0; j < keys; j++) {
        s[j * ld + r] += options.alibiBias(h, i, j0 + j, nq, nk);
      }
    }
  }

  /**
   * The element-wise cut of a diagonal tile: s(r, j) = −∞ for keys outside [start[r], end[r]).
   *
   * @param start first visible key of each row (absolute index)
   * @param end one past the last visible key of each row
   * @param j0 the key of tile column 0
   */
  static void cutRange(int[] start, int[] end, int j0, float[] s, int ld, int rows, int keys) {
    for (int r = 0; r < rows; r++) {
      int lo = Math.clamp(start[r] - j0, 0, keys);
      int hi = Math.clamp(end[r] - j0, lo, keys);
      for (int j = 0; j < lo; j++) {
        s[j * ld + r] = Float.NEGATIVE_INFINITY;
      }
      for (int j = hi; j < keys; j++) {
        s[j * ld + r] = Float.NEGATIVE_INFINITY;
      }
    }
  }
}
