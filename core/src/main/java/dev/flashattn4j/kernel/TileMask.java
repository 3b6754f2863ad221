package dev.flashattn4j.kernel;

import static dev.flashattn4j.kernel.Simd.LANES;
import static dev.flashattn4j.kernel.Simd.SPECIES;

import dev.flashattn4j.api.AttentionMask;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * What happens to a tile of scores between Q·Kᵀ and the softmax (FlashAttention's {@code mask.h}):
 * the soft cap, the user's mask and the element-wise causal/window cut of a diagonal tile. Every
 * method works on the key-major tile {@code s[j·ld + r]} of base-2 scores.
 */
final class TileMask {

  private static final float LOG2E = (float) (1 / Math.log(2));

  private TileMask() {}

  /**
   * s ← k·tanh(s) for the soft cap c, where the panel of Q was scaled by scale/c and k = c·log2(e).
   *
   * @param rows a multiple of {@link Simd#LANES} when {@code vector}
   */
  static void softcap(float[] s, int ld, int rows, int keys, float k, boolean vector) {
    for (int j = 0; j < keys; j++) {
      int o = j * ld;
      if (vector) {
        for (int r = 0; r < rows; r += LANES) {
          FloatVector x = FloatVector.fromArray(SPECIES, s, o + r);
          x.lanewise(VectorOperators.TANH).mul(k).intoArray(s, o + r);
        }
      } else {
        for (int r = 0; r < rows; r++) {
          s[o + r] = (float) (k * Math.tanh(s[o + r]));
        }
      }
    }
  }

  /**
   * Adds the user's mask, in base 2: s(i, j) += log2(e)·bias(i, j), or −∞ where a boolean mask
   * drops the score. The mask is read in place through its broadcast strides, never expanded.
   *
   * @param head the query head of each tile row
   * @param pos the query index of each tile row
   * @param j0 the key of tile column 0
   * @param rows the real rows of the tile
   */
  static void apply(
      AttentionMask mask,
      int b,
      int[] head,
      int[] pos,
      int j0,
      float[] s,
      int ld,
      int rows,
      int keys) {
    int ks = mask.keyStride();
    if (mask.isBoolean()) {
      boolean[] keep = mask.keepArray();
      for (int r = 0; r < rows; r++) {
        int m = mask.rowOffset(b, head[r], pos[r]) + j0 * ks;
        for (int j = 0; j < keys; j++, m += ks) {
          if (!keep[m]) {
            s[j * ld + r] = Float.NEGATIVE_INFINITY;
          }
        }
      }
    } else {
      float[] bias = mask.biasArray();
      for (int r = 0; r < rows; r++) {
        int m = mask.rowOffset(b, head[r], pos[r]) + j0 * ks;
        for (int j = 0; j < keys; j++, m += ks) {
          s[j * ld + r] += LOG2E * bias[m];
        }
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
