package dev.flashattn4j.values;

import dev.flashattn4j.tensor.Tensor;

/**
 * The gradients of a loss with respect to the inputs of attention, given its gradient dO with
 * respect to the output: dQ has Q's shape, dK K's and dV V's (with GQA/MQA, dK and dV sum over the
 * query heads that share each K/V head).
 *
 * @param dq (B, H_q, N_q, d), with the rank of q
 * @param dk (B, H_kv, N_k, d), with the rank of k
 * @param dv (B, H_kv, N_k, d_v), with the rank of v
 * @param dsinks the gradient of each query head's sink logit (summed over the batch and the rows),
 *     or null without sinks
 */
public record AttentionGradients(Tensor dq, Tensor dk, Tensor dv, float[] dsinks) {

  /** Gradients without sinks. */
  public AttentionGradients(Tensor dq, Tensor dk, Tensor dv) {
    this(dq, dk, dv, null);
  }
}
