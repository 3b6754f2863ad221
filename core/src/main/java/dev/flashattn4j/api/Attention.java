package dev.flashattn4j.api;

import dev.flashattn4j.reference.NaiveAttention;
import dev.flashattn4j.tensor.Tensor;

/**
 * The library's front door: exact attention on float32 tensors.
 *
 * <p>Placeholder until the fast kernel lands: it runs the oracle.
 */
public final class Attention {

  private Attention() {}

  /**
   * Attention of Q over K and V.
   *
   * @param q (B, H_q, N_q, d); (N, d) and (H, N, d) mean B = 1 (and H = 1)
   * @param k (B, H_kv, N_k, d), H_q a multiple of H_kv
   * @param v (B, H_kv, N_k, d_v)
   * @return O of shape (B, H_q, N_q, d_v) with the rank of q, and the LSE of each row
   */
  public static AttentionResult forward(Tensor q, Tensor k, Tensor v, AttentionOptions options) {
    return NaiveAttention.compute(q, k, v, options);
  }
}
