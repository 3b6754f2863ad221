package dev.flashattn4j.cli.bench;

import dev.flashattn4j.api.Causal;

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

  /** FLOPs as the project counts them: 4·B·H·N²·d, halved when causal. */
  public double flops() {
    double f = 4.0 * batch * heads * (double) n * n * d;
    return causal == Causal.NONE ? f : f / 2;
  }

  /** The causal setting as the command line spells it. */
  public String causalName() {
    return causal.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
  }
}
