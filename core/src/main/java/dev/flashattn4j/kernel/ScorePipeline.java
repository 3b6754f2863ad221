package dev.flashattn4j.kernel;

import static dev.flashattn4j.internal.Simd.LANES;

import dev.flashattn4j.internal.ScalarMath;
import dev.flashattn4j.internal.Simd;
import dev.flashattn4j.internal.Softmax;
import dev.flashattn4j.values.AttentionMask;
import dev.flashattn4j.values.AttentionOptions;

/**
 * The score rule of every kernel, in one place (FlashAttention's {@code mask.h}): what happens to a
 * score between q·k and the softmax. In order: the scale, the soft cap c·tanh(s/c), ALiBi's
 * −slope·|diag(i) − j|, the user's mask (added as written, or −∞ where a boolean mask drops the
 * key), and the causal/window cut. The forward and the backward apply it to a key-major tile of
 * scores ({@link #capTile}, then {@link #biasTile}); the decode step to one score at a time ({@link
 * #score}). Changing the rule is a change to this file (and to {@link Softmax#mask} for how a mask
 * value meets a score).
 *
 * <p>A call prepares its pipeline from its options once ({@link #prepare}; a pooled call object
 * keeps one, so a warm call allocates nothing): the scale, whether Q is pre-scaled by scale/c so
 * that the cap is one tanh a score, and the mask. It holds no per-tile state, so the call's threads
 * share it.
 */
public final class ScorePipeline {

  /** The softmax scale of the call (1/√d by default). */
  public float scale;

  /** The soft cap c, or 0 for none. */
  public float cap;

  /**
   * What Q is multiplied by before Q·Kᵀ on the tile paths: scale/c with a cap, so that the cap pass
   * is k·tanh(s); scale alone without one, or when scale/c would overflow or underflow (a cap below
   * ~1e-31 or above ~1e29: then {@link #capDivides} and the cap pass divides).
   */
  public float qScale;

  /**
   * True when the cap pass divides by c one score at a time (an extreme cap; see {@link #qScale}).
   */
  public boolean capDivides;

  private AttentionOptions options;
  private AttentionMask mask;
  private boolean alibi;

  /** Prepares the pipeline of a call with these options and head dimension d. */
  public ScorePipeline prepare(AttentionOptions options, int d) {
    this.options = options;
    this.mask = options.mask();
    this.alibi = options.hasAlibi();
    this.scale = options.scaleFor(d);
    this.cap = options.softcap();
    // Scores in natural units, as the user's float mask is: Q is scaled by scale, or by scale/c
    // before the soft cap c·tanh; the softmax takes differences to base 2 (OnlineSoftmax). A mask
    // of −3.4e38 (Hugging Face's) or a cap of 3e38 stays finite that way.
    float qs = cap > 0 ? scale / cap : scale;
    this.capDivides = cap > 0 && !(qs >= 0x1p-100f && qs <= 0x1p100f);
    this.qScale = capDivides ? scale : qs;
    return this;
  }

  /** Forgets the call's options (a pooled call object keeps no caller's data). */
  public void clear() {
    options = null;
    mask = null;
  }

  /** True when the rule is the scale alone: no cap, no ALiBi, no mask (decode's fast path). */
  public boolean scaleOnly() {
    return cap == 0 && !alibi && mask == null;
  }

  /**
   * True when the backward must keep the capped scores apart: tanh's derivative needs them before
   * ALiBi or a float mask is added.
   */
  public boolean keepsCapped() {
    return cap > 0 && (alibi || mask != null && !mask.isBoolean());
  }

  /** The call's mask, or null. */
  public AttentionMask mask() {
    return mask;
  }

  /**
   * The first half of the rule on a key-major tile {@code s[j·ld + r]} of Q·Kᵀ computed with Q
   * scaled by {@link #qScale}: the soft cap.
   *
   * @param rows a multiple of the vector lanes when {@code vector}
   */
  public void capTile(float[] s, int ld, int rows, int keys, boolean vector) {
    if (capDivides) {
      softcapDividing(s, ld, rows, keys, cap);
    } else if (cap > 0) {
      softcap(s, ld, rows, keys, cap, vector);
    }
  }

  /**
   * The second half on a key-major tile: ALiBi, the mask and, on a tile the causal or window edge
   * crosses, the cut.
   *
   * @param b the batch entry (or packed sequence) of the tile's rows
   * @param head the query head of each tile row
   * @param pos the query index of each tile row, within its sequence
   * @param rows the real rows of the tile
   * @param j0 the key of tile column 0, within the sequence
   * @param rowBase the mask row of query index 0: 0, or a packed sequence's first row (varlen)
   * @param keyBase the mask column of key 0: 0, or a packed sequence's first key (varlen)
   * @param nq N_q of the rows' sequence
   * @param nk N_k of the rows' sequence
   * @param info the rows' visible key ranges; {@code tile} says whether the tile needs the cut
   */
  public void biasTile(
      float[] s,
      int ld,
      int rows,
      int keys,
      int b,
      int[] head,
      int[] pos,
      int j0,
      int rowBase,
      int keyBase,
      int nq,
      int nk,
      BlockInfo info,
      BlockInfo.Tile tile) {
    if (alibi) {
      alibi(options, head, pos, j0, s, ld, rows, keys, nq, nk);
    }
    if (mask != null) {
      apply(mask, b, head, pos, rowBase, keyBase + j0, s, ld, rows, keys);
    }
    if (tile == BlockInfo.Tile.PARTIAL) {
      cutRange(info.start, info.end, j0, s, ld, rows, keys);
    }
  }

  /**
   * The whole rule on one raw score q·k (the decode step, which cuts by its key ranges itself).
   *
   * @param qk q·k, unscaled
   * @param b the batch entry
   * @param h the query head
   * @param i the query index among the N_q new tokens
   * @param j the key
   * @param nq N_q
   * @param nk the sequence's length
   */
  public float score(float qk, int b, int h, int i, int j, int nq, int nk) {
    float x = qk * scale;
    if (cap > 0) {
      x = ScalarMath.softcap(x, cap);
    }
    x += options.alibiBias(h, i, j, nq, nk);
    if (mask != null) {
      x = Softmax.mask(x, mask.valueAt(b, h, i, j));
    }
    return x;
  }

  /**
   * s ← k·tanh(s) for the soft cap c, where the panel of Q was scaled by scale/c and k = c.
   *
   * @param rows a multiple of {@link Simd#LANES} when {@code vector}
   */
  private static void softcap(float[] s, int ld, int rows, int keys, float k, boolean vector) {
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
  private static void softcapDividing(float[] s, int ld, int rows, int keys, float c) {
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
  private static void apply(
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
  private static void alibi(
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
  private static void cutRange(
      int[] start, int[] end, int j0, float[] s, int ld, int rows, int keys) {
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
