package dev.flashattn4j.kernel.varlen;

import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionShape;
import java.util.Arrays;

/**
 * Attention over a packed batch of sequences of different lengths (FlashAttention's {@code
 * flash_attn_varlen_func}): the queries of all sequences are stacked in one tensor, their keys and
 * values in another, with no padding, and {@code cu_seqlens} say where each sequence starts. Each
 * sequence attends only to its own keys, with the options (causal alignment, window, softcap,
 * scale) applied within the sequence: for sequence b, N_q = cu_q[b+1] − cu_q[b] and N_k = cu_k[b+1]
 * − cu_k[b].
 *
 * <p>FlashAttention packs as (total, H, d), token-major: see such an array with {@link
 * Tensor#ofBnhd}{@code (data, 1, total, H, d)}, which is a view, not a copy. The whole batch runs
 * as one flat list of (sequence, K/V head, query block) items on an engine's threads: {@link
 * dev.flashattn4j.api.AttentionEngine#varlen}. The static method here uses the default engine.
 */
public final class VarlenAttention {

  private VarlenAttention() {}

  /**
   * Checks a packed batch before any work: B = 1 (a mask broadcast to the packed rows and keys),
   * and both offset arrays of the same length, starting at 0, never decreasing, ending at the
   * packed row counts.
   *
   * @return the shape of the packed tensors (B = 1, N_q = total_q, N_k = total_k)
   * @throws IllegalArgumentException naming the argument and the values
   */
  public static AttentionShape check(
      Tensor q, Tensor k, Tensor v, int[] cuSeqlensQ, int[] cuSeqlensK, AttentionOptions options) {
    AttentionShape shape = AttentionShape.of(q, k, v, options);
    if (shape.batch() != 1) {
      throw new IllegalArgumentException(
          "packed tensors have B = 1 (sequences are located by cu_seqlens), not q "
              + Arrays.toString(q.shape()));
    }
    CuSeqlens.check("cu_seqlens_q", cuSeqlensQ, q.rows(), "q " + Arrays.toString(q.shape()));
    CuSeqlens.check("cu_seqlens_k", cuSeqlensK, k.rows(), "k " + Arrays.toString(k.shape()));
    if (cuSeqlensQ.length != cuSeqlensK.length) {
      throw new IllegalArgumentException(
          "cu_seqlens_q has "
              + cuSeqlensQ.length
              + " offsets and cu_seqlens_k "
              + cuSeqlensK.length
              + ": both need batch + 1");
    }
    return shape;
  }

  /**
   * A new output for a packed batch: O of shape (H_q, total_q, d_v) with the rank of q, laid out
   * token-major (total_q, H_q, d_v) as FlashAttention's.
   */
  public static Tensor newOutput(Tensor q, AttentionShape shape) {
    if (q == null || shape == null) {
      throw new IllegalArgumentException("q and shape must not be null");
    }
    int hq = shape.queryHeads();
    int total = shape.queryRows();
    int dv = shape.valueDim();
    float[] data = new float[Math.toIntExact((long) total * hq * dv)];
    int[] outShape = {1, hq, total, dv};
    int[] strides = {hq * total * dv, dv, hq * dv}; // token-major: (total_q, H_q, d_v)
    return Tensor.view(
        data,
        0,
        Arrays.copyOfRange(outShape, 4 - q.rank(), 4),
        Arrays.copyOfRange(strides, 4 - q.rank(), 3));
  }
}
