package dev.flashattn4j.viz.schedule;

import dev.flashattn4j.api.AttentionOptions;
import dev.flashattn4j.tensor.Tensor;
import java.util.SplittableRandom;

/**
 * The run a schedule picture shows: Q, K, V of shape (N, d) with entries uniform in [0, 1) (as the
 * seed notebook's {@code np.random.rand}), drawn from {@code seed} in the order Q, K, V, and an
 * SRAM of M elements.
 *
 * @param n N, rows of Q, K and V
 * @param d the head dimension
 * @param sram M, the SRAM size in elements
 * @param seed the random seed of Q, K, V
 * @param scale the factor on Q·Kᵀ (the seed notebook uses 1; PyTorch's default is 1/√d)
 */
public record ScheduleSetup(int n, int d, int sram, long seed, float scale) {

  /**
   * The seed notebook's example as {@code flashattn demo} runs it: N = 6, d = 3, M = 24, seed 2022,
   * scale 1.
   */
  public static final ScheduleSetup SEED = new ScheduleSetup(6, 3, 24, 2022, 1f);

  public ScheduleSetup {
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

  public AttentionOptions options() {
    return AttentionOptions.builder().scale(scale).build();
  }
}
