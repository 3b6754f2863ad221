package dev.flashattn4j.paper;

import dev.flashattn4j.api.AttentionOptions;
import dev.flashattn4j.api.AttentionResult;
import dev.flashattn4j.tensor.Tensor;

/** The paper's Algorithm 1 (placeholder: being written). */
public final class Algorithm1 {

  private Algorithm1() {}

  /**
   * Runs Algorithm 1 with an SRAM of {@code sram} floats.
   *
   * @param q (B, H_q, N_q, d)
   * @param k (B, H_kv, N_k, d)
   * @param v (B, H_kv, N_k, d_v)
   * @param sram M, the SRAM size in elements
   */
  public static AttentionResult compute(
      Tensor q, Tensor k, Tensor v, AttentionOptions options, int sram) {
    throw new UnsupportedOperationException("Algorithm1 is not written yet");
  }
}
