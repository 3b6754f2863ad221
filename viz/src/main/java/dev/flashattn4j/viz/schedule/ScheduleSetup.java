package dev.flashattn4j.viz.schedule;

import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.Causal;
import dev.flashattn4j.values.Window;
import java.util.SplittableRandom;

/**
 * The run a schedule picture shows: Q, K, V of shape (N, d) with entries uniform in [0, 1) (as the
 * seed notebook's {@code np.random.rand}), drawn from {@code seed} in the order Q, K, V, an SRAM of
 * M elements, and optionally a causal mask and a sliding window (whose tiles the pictures show).
 *
 * @param n N, rows of Q, K and V
 * @param d the head dimension
 * @param sram M, the SRAM size in elements
 * @param seed the random seed of Q, K, V
 * @param scale the factor on Q·Kᵀ (the seed notebook uses 1; PyTorch's default is 1/√d)
 * @param causal the causal mask ({@link Causal#NONE} for none)
 * @param window the sliding window ({@link Window#NONE} for none)
 */
public record ScheduleSetup(
    int n, int d, int sram, long seed, float scale, Causal causal, Window window) {

  /**
   * The seed notebook's example as {@code flashattn demo} runs it: N = 6, d = 3, M = 24, seed 2022,
   * scale 1.
   */
  public static final ScheduleSetup SEED = new ScheduleSetup(6, 3, 24, 2022, 1f);

  /** A run without causal mask or window. */
  public ScheduleSetup(int n, int d, int sram, long seed, float scale) {
    this(n, d, sram, seed, scale, Causal.NONE, Window.NONE);
  }

  /**
   * Checks the setup.
   *
   * @throws IllegalArgumentException naming the value out of range
   */
  public ScheduleSetup {
    if (causal == null || window == null) {
      throw new IllegalArgumentException("causal and window must not be null (NONE for none)");
    }
    if (n < 1) {
      throw new IllegalArgumentException("N must be at least 1, not " + n);
    }
    if (d < 1) {
      throw new IllegalArgumentException("d must be at least 1, not " + d);
    }
    if (!(scale > 0 && Float.isFinite(scale))) {
      throw new IllegalArgumentException("the scale must be positive and finite, not " + scale);
    }
  }

  public Tensor q() {
    return tensors()[0];
  }

  public Tensor k() {
    return tensors()[1];
  }

  public Tensor v() {
    return tensors()[2];
  }

  /** Q, K, V, each (N, d). */
  public Tensor[] tensors() {
    SplittableRandom random = new SplittableRandom(seed);
    Tensor[] t = new Tensor[3];
    for (int k = 0; k < 3; k++) {
      t[k] = Tensor.uniform(random, 0, 1, n, d);
    }
    return t;
  }

  /** The options of the run: the scale, the causal mask and the window. */
  public AttentionOptions options() {
    return AttentionOptions.builder().scale(scale).causal(causal).window(window).build();
  }

  /** The same setup with a causal mask and a window. */
  public ScheduleSetup masked(Causal causal, Window window) {
    return new ScheduleSetup(n, d, sram, seed, scale, causal, window);
  }

  /** "causal top-left, window (2, 0)", or "" when no key is hidden. */
  public String maskText() {
    return maskText(causal, window);
  }

  /** {@link #maskText()} of these settings. */
  static String maskText(Causal causal, Window window) {
    String c =
        switch (causal) {
          case NONE -> "";
          case TOP_LEFT -> "causal top-left";
          case BOTTOM_RIGHT -> "causal bottom-right";
        };
    String w =
        window.isNone()
            ? ""
            : "window ("
                + (window.left() < 0 ? "∞" : window.left())
                + ", "
                + (window.right() < 0 ? "∞" : window.right())
                + ")";
    return c.isEmpty() ? w : w.isEmpty() ? c : c + ", " + w;
  }
}
