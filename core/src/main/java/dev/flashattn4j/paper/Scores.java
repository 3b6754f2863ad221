package dev.flashattn4j.paper;

import dev.flashattn4j.internal.ScalarMath;
import dev.flashattn4j.internal.Softmax;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionMask;
import dev.flashattn4j.values.AttentionOptions;

/**
 * One score s_ij as {@link AttentionOptions} defines it, shared by the paper's two algorithms:
 * scale·q_i·k_j, soft-capped, plus the mask, −∞ outside the causal/window range of row i.
 */
final class Scores {

  private final Tensor q;
  private final Tensor k;
  private final AttentionOptions options;
  private final float scale;
  private final float cap;
  private final AttentionMask mask;
  private final int nq;
  private final int nk;
  private final int d;

  /**
   * @param q (B, H_q, N_q, d)
   * @param k (B, H_kv, N_k, d)
   */
  Scores(Tensor q, Tensor k, AttentionOptions options) {
    this.q = q;
    this.k = k;
    this.options = options;
    this.d = q.cols();
    this.scale = options.scaleFor(d);
    this.cap = options.softcap();
    this.mask = options.mask();
    this.nq = q.rows();
    this.nk = k.rows();
  }

  /** scale·q_i·k_j soft-capped, before the mask and the causal/window cut. */
  float capped(int b, int h, int hk, int i, int j) {
    float[] qa = q.data();
    float[] ka = k.data();
    int qo = q.rowOffset(b, h, i);
    int ko = k.rowOffset(b, hk, j);
    double dot = 0;
    for (int c = 0; c < d; c++) {
      dot += (double) qa[qo + c] * ka[ko + c];
    }
    float s = (float) dot * scale;
    return cap > 0 ? ScalarMath.softcap(s, cap) : s;
  }

  /** s for batch b, query head h reading K/V head hk, query row i, key j. */
  float score(int b, int h, int hk, int i, int j) {
    if (j < options.keyStart(i, nq, nk) || j >= options.keyEnd(i, nq, nk)) {
      return Float.NEGATIVE_INFINITY;
    }
    float[] qa = q.data();
    float[] ka = k.data();
    int qo = q.rowOffset(b, h, i);
    int ko = k.rowOffset(b, hk, j);
    double dot = 0;
    for (int c = 0; c < d; c++) {
      dot += (double) qa[qo + c] * ka[ko + c];
    }
    float s = (float) dot * scale;
    if (cap > 0) {
      s = ScalarMath.softcap(s, cap);
    }
    s += options.alibiBias(h, i, j, nq, nk); // ALiBi, after the cap, before the mask
    if (mask != null) {
      s = Softmax.mask(s, mask.valueAt(b, h, i, j)); // −∞ (or false) hides the key, even a NaN
    }
    return s;
  }
}
