package dev.flashattn4j.cli;

import dev.flashattn4j.api.Attention;
import dev.flashattn4j.api.AttentionEngine;
import dev.flashattn4j.paper.Algorithm1;
import dev.flashattn4j.reference.NaiveAttention;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionGradients;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;

/** The kernels {@code attend} and {@code verify} can run. */
enum Kernel {
  /** The library's facade, {@link Attention#forward}. */
  FAST,
  /** The paper's Algorithm 1 with an SRAM of {@code --sram} floats. */
  PAPER,
  /** The float64 oracle. */
  NAIVE;

  /** The kernel named {@code fast}, {@code paper} or {@code naive}. */
  static Kernel parse(String name) {
    for (Kernel k : values()) {
      if (k.name().equalsIgnoreCase(name)) {
        return k;
      }
    }
    throw new BadInputException("--kernel must be fast, paper or naive, not '" + name + "'");
  }

  /**
   * Runs this kernel.
   *
   * @param q (B, H_q, N_q, d)
   * @param k (B, H_kv, N_k, d)
   * @param v (B, H_kv, N_k, d_v)
   * @param sram M for the paper's kernel, in floats
   * @param threads threads of the fast kernel, 0 for all cores
   */
  AttentionResult run(
      Tensor q, Tensor k, Tensor v, AttentionOptions options, int sram, int threads) {
    return switch (this) {
      case FAST ->
          threads > 0
              ? Attention.forward(q, k, v, options, threads)
              : Attention.forward(q, k, v, options);
      case PAPER -> Algorithm1.compute(q, k, v, options, sram);
      case NAIVE -> NaiveAttention.compute(q, k, v, options);
    };
  }

  /**
   * The gradients dQ, dK, dV of this kernel: the fast backward (after its forward, for O and the
   * LSE) or the float64 oracle's. The paper's Algorithm 4 is not there yet.
   *
   * @param dOut dL/dO, O's shape
   * @param threads threads of the fast kernel, 0 for all cores
   */
  AttentionGradients gradients(
      Tensor q, Tensor k, Tensor v, Tensor dOut, AttentionOptions options, int threads) {
    return switch (this) {
      case FAST -> {
        if (threads > 0) {
          try (AttentionEngine e = AttentionEngine.create(threads)) {
            AttentionResult r = e.forward(q, k, v, options);
            yield e.backward(q, k, v, r.output(), r.lse(), dOut, options);
          }
        }
        AttentionResult r = Attention.forward(q, k, v, options);
        yield Attention.backward(q, k, v, r.output(), r.lse(), dOut, options);
      }
      case NAIVE -> NaiveAttention.backward(q, k, v, dOut, options);
      case PAPER ->
          throw new BadInputException(
              "--kernel paper has no backward pass yet (the paper's Algorithm 4): use fast or"
                  + " naive");
    };
  }

  @Override
  public String toString() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
