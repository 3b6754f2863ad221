package dev.flashattn4j.values;

/**
 * Causal masking, with its alignment made explicit. When N_q = N_k the two alignments agree; they
 * differ when the queries are the last N_q positions of a longer sequence (decoding with a KV
 * cache) or the first ones.
 */
public enum Causal {
  /** No causal mask. */
  NONE,
  /** PyTorch SDPA's {@code is_causal}: query i sees keys j ≤ i. */
  TOP_LEFT,
  /** FlashAttention 2.1+: query i sees keys j ≤ i + N_k − N_q (queries are the last rows). */
  BOTTOM_RIGHT;

  /**
   * The key index on the diagonal of query row {@code i}: the last key it may see when causal.
   *
   * @param nq N_q
   * @param nk N_k
   */
  public long diagonal(long i, int nq, int nk) {
    return this == TOP_LEFT ? i : i + nk - nq;
  }
}
