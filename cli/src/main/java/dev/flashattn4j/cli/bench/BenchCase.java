package dev.flashattn4j.cli.bench;

import dev.flashattn4j.values.Causal;

/**
 * One shape and kernel to time.
 *
 * @param kernel fast, paper or naive
 * @param threads threads the kernel may use
 * @param batch B
 * @param heads H (query heads = key/value heads)
 * @param n N = N_q = N_k
 * @param d the head dimension (d = d_v)
 * @param causal the causal mask
 */
public record BenchCase(
    String kernel, int threads, int batch, int heads, int n, int d, Causal causal) {

  /**
   * FLOPs as the project counts them: 4·B·H·N²·d, halved when causal; 2.5 times that for a backward
   * kernel (its name ends in "-bwd").
   */
  public double flops() {
    double f = 4.0 * batch * heads * (double) n * n * d;
    f = causal == Causal.NONE ? f : f / 2;
    return backward() ? 2.5 * f : f;
  }

  /** True for the backward pass (fast-bwd, paper-bwd, naive-bwd). */
  public boolean backward() {
    return kernel.endsWith("-bwd");
  }

  /** The causal setting as the command line spells it. */
  public String causalName() {
    return causal.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
  }
}
