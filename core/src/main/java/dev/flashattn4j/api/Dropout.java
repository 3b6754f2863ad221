package dev.flashattn4j.api;

import dev.flashattn4j.internal.Philox;

/**
 * Dropout on the attention probabilities, as PyTorch and FlashAttention apply it: after the
 * softmax, each P_ij is kept with probability 1 − p and scaled by 1/(1 − p), or zeroed; the LSE is
 * that of the undropped row. Whether (b, h, i, j) is kept is a pure function of (seed, offset, b,
 * h, i, j) through Philox4x32-10, so the backward pass regenerates exactly the forward's mask
 * without storing it, and tiles, threads or the order of work never change it. Use a new {@code
 * offset} (or seed) for each training step.
 *
 * <p>The bits: the key is seed + offset·0x9E3779B97F4A7C15 (two 32-bit words, low first), the
 * counter (j / 4, i, h, b); of the four output words, key j takes word j mod 4 and is kept when it
 * is below round((1 − p)·2³²) as an unsigned number.
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

  /** Keys below this, as unsigned 32-bit words, are kept. */
  long threshold() {
    return Math.round((1.0 - p) * 4294967296.0);
  }

  /** The first word of the key. */
  int key0() {
    return (int) mixedKey();
  }

  /** The second word of the key. */
  int key1() {
    return (int) (mixedKey() >>> 32);
  }

  private long mixedKey() {
    return seed + offset * 0x9E3779B97F4A7C15L;
  }

  /** Whether P(b, h, i, j) is kept. */
  public boolean keep(int b, int h, int i, int j) {
    if (!active()) {
      return true;
    }
    int[] w = new int[4];
    Philox.block(j >>> 2, i, h, b, key0(), key1(), w);
    return (w[j & 3] & 0xFFFFFFFFL) < threshold();
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
   * four consecutive keys of a row. Not thread-safe: one per thread (the kernels keep one in their
   * scratch).
   */
  public static final class Rows {
    private final int[] words = new int[4];
    private Dropout dropout;
    private long threshold;
    private int k0;
    private int k1;
    private float scale;
    private int cb = -1;
    private int ch;
    private int ci;
    private int cj = -1;

    /** A generator for {@code dropout}'s keep flags (see {@link #reset}). */
    public Rows(Dropout dropout) {
      reset(dropout);
    }

    /** Starts over with another dropout (a new call). */
    public void reset(Dropout d) {
      dropout = d;
      threshold = d.threshold();
      k0 = d.key0();
      k1 = d.key1();
      scale = d.keepScale();
      cb = -1;
      cj = -1;
    }

    /** Whether P(b, h, i, j) is kept. */
    public boolean keep(int b, int h, int i, int j) {
      int block = j >>> 2;
      if (block != cj || i != ci || h != ch || b != cb) {
        Philox.block(block, i, h, b, k0, k1, words);
        cb = b;
        ch = h;
        ci = i;
        cj = block;
      }
      return (words[j & 3] & 0xFFFFFFFFL) < threshold;
    }

    /** 1/(1 − p) when P(b, h, i, j) is kept, else 0. */
    public float factor(int b, int h, int i, int j) {
      return keep(b, h, i, j) ? scale : 0f;
    }

    /** The dropout these rows draw from. */
    public Dropout dropout() {
      return dropout;
    }
  }
}
