package dev.flashattn4j.kernel;

import dev.flashattn4j.values.AttentionShape;

/**
 * Where one sequence of a call lies (FlashAttention-2's {@code block_info}): its batch entry, its
 * first query row and first key in the (possibly packed) Q and K/V, and its N_q and N_k. Batch
 * entry b of a padded call is sequence b; a varlen call packs its sequences along the rows of one
 * batch entry, at the offsets cu_seqlens. The forward and the backward resolve every work item
 * through it; one per thread's scratch, set per item, so a warm call allocates nothing.
 */
final class SequenceSpan {

  /** The batch entry of Q, K and V (0 for a packed call). */
  int b;

  /** The sequence's first row of Q, and first key of K and V. */
  int qBase;

  int kBase;

  /** The sequence's query rows and keys. */
  int nq;

  int nk;

  /**
   * Sequence {@code seq} of a call.
   *
   * @param cuQ the packed call's query offsets, or null for a padded call
   * @param cuK the packed call's key offsets (with cuQ)
   */
  SequenceSpan set(AttentionShape shape, int[] cuQ, int[] cuK, int seq) {
    if (cuQ == null) {
      b = seq;
      qBase = 0;
      kBase = 0;
      nq = shape.queryRows();
      nk = shape.keyRows();
    } else {
      b = 0;
      qBase = cuQ[seq];
      kBase = cuK[seq];
      nq = cuQ[seq + 1] - qBase;
      nk = cuK[seq + 1] - kBase;
    }
    return this;
  }
}
