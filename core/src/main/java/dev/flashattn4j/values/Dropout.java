package dev.flashattn4j.values;

import dev.flashattn4j.internal.Checks;
import dev.flashattn4j.internal.DropoutBits;

/**
 * Dropout on the attention probabilities, as PyTorch and FlashAttention apply it: after the
 * softmax, each P_ij is kept with probability 1 − p and scaled by 1/(1 − p), or zeroed; the LSE is
 * that of the undropped row. Whether (b, h, i, j) is kept is a pure function of (seed, offset, b,
 * h, i, j) through Philox4x32-10, so the backward pass regenerates exactly the forward's mask
 * without storing it, and tiles, threads or the order of work never change it. Use a new {@code
 * offset} (or seed) for each training step.
 *
 * <p>The bits: the key is seed + offset·0x9E3779B97F4A7C15 (two 32-bit words, low first), the
 * counter (j / 8, i, h, b); key j takes the 16-bit half j mod 2 (the low half first) of output word
 * (j mod 8) / 2 and is kept when that half is below round((1 − p)·2¹⁶). One Philox block serves
 * eight keys of a row (FlashAttention splits its words into bytes; halves keep the keep rate within
 * 2⁻¹⁷ of 1 − p), and the kernels run it on several rows at once in SIMD.
 *
 * @param p the probability of dropping, in [0, 1); 0 is no dropout
 * @param seed the generator's seed
 * @param offset which draw of the seed (the step), mixed into the key
 */
public record Dropout(float p, long seed, long offset) {

  /** No dropout. */
  public static final Dropout NONE = new Dropout(0f, 0L, 0L);

  /**
   * Checks the probability.
   *
   * @throws IllegalArgumentException unless 0 ≤ p &lt; 1
   */
  public Dropout {
    if (!(p >= 0f && p < 1f)) {
      throw new IllegalArgumentException("dropout p must be in [0, 1), not " + p);
    }
  }

  /** True when some probabilities are dropped (p &gt; 0). */
  public boolean active() {
    return p > 0f;
  }

  /** 1/(1 − p), the factor on a kept probability. */
  public float keepScale() {
    return 1f / (1f - p);
  }

  /** Whether P(b, h, i, j) is kept. */
  public boolean keep(int b, int h, int i, int j) {
    if (!active()) {
      return true;
    }
    return new DropoutBits(p, seed, offset).keep(b, h, i, j);
  }

  /**
   * The keep-mask of one (batch, head): [i·N_k + j] is true where P_ij is kept (FlashAttention's
   * {@code return_attn_probs}, for debugging and for checking against another implementation).
   */
  public boolean[] keepMask(int b, int h, int nq, int nk) {
    if (nq < 0 || nk < 0 || (long) nq * nk > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("no mask of " + nq + " × " + nk);
    }
    boolean[] m = new boolean[nq * nk];
    Rows rows = new Rows(this);
    for (int i = 0; i < nq; i++) {
      for (int j = 0; j < nk; j++) {
        m[i * nk + j] = rows.keep(b, h, i, j);
      }
    }
    return m;
  }

  /**
   * The factor on P(b, h, i, j): 1/(1 − p) when kept, 0 when dropped; reuses one Philox block for
   * eight consecutive keys of a row. Not thread-safe: one per thread.
   */
  public static final class Rows {
    private Dropout dropout;
    private DropoutBits bits;

    /** A generator for {@code dropout}'s keep flags (see {@link #reset}). */
    public Rows(Dropout dropout) {
      reset(dropout);
    }

    /** Starts over with another dropout (a new call). */
    public void reset(Dropout d) {
      Checks.notNull(d, "dropout");
      dropout = d;
      bits = new DropoutBits(d.p(), d.seed(), d.offset());
    }

    /** Whether P(b, h, i, j) is kept. */
    public boolean keep(int b, int h, int i, int j) {
      return bits.keep(b, h, i, j);
    }

    /** 1/(1 − p) when P(b, h, i, j) is kept, else 0. */
    public float factor(int b, int h, int i, int j) {
      return bits.factor(b, h, i, j);
    }

    /** The dropout these rows draw from. */
    public Dropout dropout() {
      return dropout;
    }
  }
}
