package dev.flashattn4j.values;

import dev.flashattn4j.internal.Checks;

/**
 * What attention computes, shared by every kernel (fast, paper, naive, decode, varlen). For query
 * row i and key j the score is a float32 value
 *
 * <pre>
 *   s = scale · q_i · k_j                    (beyond float32's range: ±∞)
 *   s = softcap · tanh(s / softcap)          when softcap &gt; 0 (any positive finite value)
 *   s = s + mask(i, j)                       added exactly as written, however large;
 *                                            −∞ (or false in a boolean mask) hides the key
 *   s = −∞  when j is outside the causal / window range of row i
 *   O_i = Σ_j softmax_j(s) · v_j,   LSE_i = log Σ_j exp(s)
 * </pre>
 *
 * <p>The rules at the edges (docs/SEMANTICS.md):
 *
 * <ul>
 *   <li>A row with no key left gives O_i = 0 and LSE_i = −∞, never NaN.
 *   <li>A NaN or +∞ score that row i can see makes the row NaN (O_i and LSE_i), as in PyTorch. A
 *       score of −∞ (a q·k that overflows negatively) gives its key weight 0, as in PyTorch.
 *   <li>A key row i cannot see (a mask of false or −∞, causal, window) never changes the row, even
 *       when its K or V holds NaN (PyTorch's masked rows still pick up a NaN of V; these do not). A
 *       NaN or ±∞ in the V of a key the row can see reaches O_i.
 *   <li>Hugging Face's padding mask (float32's most negative value on every key of a row) gives the
 *       softmax of the row's scores (the mean of V when they are equal), as transformers does; a
 *       bias of +3e38 on one key selects that key.
 *   <li>The same inputs give the same bits, whatever the threads, the JIT's state or the other
 *       calls running at the time.
 * </ul>
 *
 * @param scale the factor on q·k, or {@code NaN} for the default 1/√d (the record's own encoding;
 *     the builder's {@link Builder#defaultScale()} says it in words, and its {@link
 *     Builder#scale(float)} refuses NaN)
 * @param causal the causal mask and its alignment
 * @param mask a boolean or additive mask, or null
 * @param window a sliding window, {@link Window#NONE} for none
 * @param softcap the soft cap c &gt; 0, or 0 for none
 * @param dropout dropout on P after the softmax (training), {@link Dropout#NONE} for none
 * @param alibiSlopes ALiBi: per query head h, the score gets −slope_h·|diag(i) − j| (diag: the
 *     causal alignment's diagonal, bottom-right when not causal, as FlashAttention defines it),
 *     added after the soft cap and before the mask; null for none. The array is not copied.
 * @param sinks attention sinks: per query head h, one logit that joins every row's softmax without
 *     a value (gpt-oss): P_ij = e^{s_ij} / (e^{sink_h} + Σ_j e^{s_ij}), LSE_i = log(e^{sink_h} +
 *     Σ_j e^{s_ij}); a row with no key gives O = 0 and LSE = sink_h. Null for none; not copied.
 */
public record AttentionOptions(
    float scale,
    Causal causal,
    AttentionMask mask,
    Window window,
    float softcap,
    Dropout dropout,
    float[] alibiSlopes,
    float[] sinks) {

  /** Plain attention: scale 1/√d, no mask. */
  public static final AttentionOptions DEFAULTS = builder().build();

  /**
   * Checks every option.
   *
   * @throws IllegalArgumentException naming the option that is out of range or null
   */
  public AttentionOptions {
    Checks.notNull(causal, "causal");
    Checks.notNull(window, "window");
    Checks.notNull(dropout, "dropout");
    if (!Float.isNaN(scale) && !(scale > 0 && Float.isFinite(scale))) {
      throw new IllegalArgumentException("scale must be positive and finite, not " + scale);
    }
    if (!(softcap >= 0 && Float.isFinite(softcap))) {
      throw new IllegalArgumentException(
          "softcap must be positive (or 0 for none), not " + softcap);
    }
    finite("alibi slope", alibiSlopes);
    finite("sink", sinks);
  }

  private static void finite(String what, float[] values) {
    if (values == null) {
      return;
    }
    for (int h = 0; h < values.length; h++) {
      if (!Float.isFinite(values[h])) {
        throw new IllegalArgumentException(
            what + " of head " + h + " must be finite, not " + values[h]);
      }
    }
  }

  /** Options without ALiBi or sinks. */
  public AttentionOptions(
      float scale,
      Causal causal,
      AttentionMask mask,
      Window window,
      float softcap,
      Dropout dropout) {
    this(scale, causal, mask, window, softcap, dropout, null, null);
  }

  /** True when ALiBi slopes are set. */
  public boolean hasAlibi() {
    return alibiSlopes != null;
  }

  /** True when attention sinks are set. */
  public boolean hasSinks() {
    return sinks != null;
  }

  /**
   * The ALiBi bias of query head h, row i, key j: −slope_h·|diag(i) − j|, 0 without ALiBi.
   *
   * @param nq N_q
   * @param nk N_k
   */
  public float alibiBias(int h, int i, int j, int nq, int nk) {
    if (alibiSlopes == null) {
      return 0f;
    }
    return -alibiSlopes[h] * (float) Math.abs(alignment().diagonal(i, nq, nk) - j);
  }

  /** The sink logit of query head h, −∞ without sinks. */
  public float sink(int h) {
    return sinks == null ? Float.NEGATIVE_INFINITY : sinks[h];
  }

  /** Options without dropout. */
  public AttentionOptions(
      float scale, Causal causal, AttentionMask mask, Window window, float softcap) {
    this(scale, causal, mask, window, softcap, Dropout.NONE);
  }

  /** A builder with the defaults: scale 1/√d, no causal mask, no mask, window or soft cap. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from these options. */
  public Builder toBuilder() {
    Builder b = Float.isNaN(scale) ? new Builder().defaultScale() : new Builder().scale(scale);
    return b.causal(causal)
        .mask(mask)
        .window(window)
        .softcap(softcap)
        .dropout(dropout)
        .alibi(alibiSlopes)
        .sinks(sinks);
  }

  /** The scale used for head dimension d: {@link #scale()} or 1/√d by default. */
  public float scaleFor(int d) {
    return Float.isNaN(scale) ? (float) (1.0 / Math.sqrt(d)) : scale;
  }

  /** True when some keys of some rows are cut by causality or a window (not by the mask). */
  public boolean hasRangeLimit() {
    return causal != Causal.NONE || !window.isNone();
  }

  /**
   * First key that query row {@code i} may see under causality and the window (before the mask), in
   * [0, nk].
   */
  public int keyStart(int i, int nq, int nk) {
    if (window.left() < 0) {
      return 0;
    }
    long lo = alignment().diagonal(i, nq, nk) - window.left();
    return (int) Math.min(nk, Math.max(0, lo));
  }

  /**
   * One past the last key that query row {@code i} may see under causality and the window, in [0,
   * nk]; the row sees nothing when it is ≤ {@link #keyStart}.
   */
  public int keyEnd(int i, int nq, int nk) {
    long hi = nk;
    if (causal != Causal.NONE) {
      hi = causal.diagonal(i, nq, nk) + 1;
    }
    if (window.right() >= 0) {
      hi = Math.min(hi, alignment().diagonal(i, nq, nk) + window.right() + 1);
    }
    return (int) Math.max(0, Math.min(nk, hi));
  }

  /** The alignment windows use: the causal one, BOTTOM_RIGHT when not causal. */
  public Causal alignment() {
    return causal == Causal.NONE ? Causal.BOTTOM_RIGHT : causal;
  }

  /** Builder of {@link AttentionOptions}. */
  public static final class Builder {

    /** A builder with the defaults ({@link AttentionOptions#builder()}). */
    public Builder() {}

    private float scale = Float.NaN;
    private Causal causal = Causal.NONE;
    private AttentionMask mask;
    private Window window = Window.NONE;
    private float softcap;
    private Dropout dropout = Dropout.NONE;
    private float[] alibi;
    private float[] sinks;

    /**
     * The factor on q·k, positive and finite ({@link #defaultScale()} for 1/√d, the default).
     *
     * @throws IllegalArgumentException for NaN, ±∞, 0 or a negative scale (NaN is not a way to ask
     *     for the default: a scale computed as NaN is a bug upstream, and says so here)
     */
    public Builder scale(float scale) {
      if (!(scale > 0 && Float.isFinite(scale))) {
        throw new IllegalArgumentException(
            "scale must be positive and finite, not "
                + scale
                + " (defaultScale() gives 1/sqrt(d), the default)");
      }
      this.scale = scale;
      return this;
    }

    /** The default scale 1/√d, d the head dimension of the call (as PyTorch's SDPA). */
    public Builder defaultScale() {
      this.scale = Float.NaN;
      return this;
    }

    /** The causal mask and its alignment ({@link Causal#NONE} for none). */
    public Builder causal(Causal causal) {
      this.causal = causal;
      return this;
    }

    /** A boolean or additive mask, broadcast to (B, H, N_q, N_k); null for none. */
    public Builder mask(AttentionMask mask) {
      this.mask = mask;
      return this;
    }

    /** A sliding window of keys around each query's diagonal ({@link Window#NONE} for none). */
    public Builder window(Window window) {
      this.window = window;
      return this;
    }

    /** A window of {@code left} keys before and {@code right} after the diagonal (−1: all). */
    public Builder window(int left, int right) {
      return window(new Window(left, right));
    }

    /** score ← c·tanh(score/c) before masking; 0 for none. */
    public Builder softcap(float softcap) {
      this.softcap = softcap;
      return this;
    }

    /** Dropout on P (training); {@link Dropout#NONE} for none. */
    public Builder dropout(Dropout dropout) {
      this.dropout = dropout;
      return this;
    }

    /** Dropout with probability p, drawn from (seed, offset): see {@link Dropout}. */
    public Builder dropout(float p, long seed, long offset) {
      return dropout(new Dropout(p, seed, offset));
    }

    /** ALiBi slopes, one per query head (null for none); see {@link AttentionOptions}. */
    public Builder alibi(float... slopes) {
      this.alibi = slopes;
      return this;
    }

    /** Attention-sink logits, one per query head (null for none); see {@link AttentionOptions}. */
    public Builder sinks(float... logits) {
      this.sinks = logits;
      return this;
    }

    /**
     * The options.
     *
     * @throws IllegalArgumentException naming the option that is out of range
     */
    public AttentionOptions build() {
      return new AttentionOptions(scale, causal, mask, window, softcap, dropout, alibi, sinks);
    }
  }
}
