package dev.flashattn4j.kernel.varlen;

import dev.flashattn4j.api.Attention;
import dev.flashattn4j.api.AttentionOptions;
import dev.flashattn4j.api.AttentionResult;
import dev.flashattn4j.api.AttentionShape;
import dev.flashattn4j.tensor.Tensor;
import java.util.Arrays;
import java.util.Objects;

/**
 * Attention over a packed batch of sequences of different lengths (FlashAttention's {@code
 * flash_attn_varlen_func}): the queries of all sequences are stacked in one tensor, their keys and
 * values in another, with no padding, and {@code cu_seqlens} say where each sequence starts. Each
 * sequence attends only to its own keys, with the options (causal alignment, window, softcap,
 * scale) applied within the sequence: for sequence b, N_q = cu_q[b+1] − cu_q[b] and N_k = cu_k[b+1]
 * − cu_k[b].
 *
 * <p>FlashAttention packs as (total, H, d), token-major: see such an array with {@link
 * Tensor#ofBnhd}{@code (data, 1, total, H, d)}, which is a view, not a copy. Each sequence is run
 * by {@link Attention#forward} on views of the packed tensors.
 */
public final class VarlenAttention {

  private VarlenAttention() {}

  /**
   * Attention of every packed sequence over its own keys.
   *
   * @param q (H_q, total_q, d) or (1, H_q, total_q, d) (or (total_q, d) for one head), any strides
   * @param k (H_kv, total_k, d) or (1, H_kv, total_k, d); H_q a multiple of H_kv
   * @param v (H_kv, total_k, d_v) or (1, H_kv, total_k, d_v)
   * @param cuSeqlensQ batch + 1 offsets into the rows of q: 0, ..., total_q, never decreasing
   * @param cuSeqlensK batch + 1 offsets into the rows of k and v: 0, ..., total_k
   * @param options the options of every sequence; no mask
   * @return O of shape (H_q, total_q, d_v) with the rank of q, whose array is laid out token-major
   *     (total_q, H_q, d_v) as FlashAttention's; the LSE (H_q, total_q) row-major, −∞ for a row
   *     with no key
   * @throws IllegalArgumentException for shapes or offsets that don't fit, before any work
   */
  public static AttentionResult forward(
      Tensor q, Tensor k, Tensor v, int[] cuSeqlensQ, int[] cuSeqlensK, AttentionOptions options) {
    AttentionShape shape = AttentionShape.of(q, k, v, options);
    if (shape.batch() != 1) {
      throw new IllegalArgumentException(
          "packed tensors have B = 1 (sequences are located by cu_seqlens), not q "
              + Arrays.toString(q.shape()));
    }
    if (options.mask() != null) {
      throw new IllegalArgumentException(
          "varlen attention does not take a mask: use causal, window and softcap");
    }
    Objects.requireNonNull(cuSeqlensQ, "cu_seqlens_q");
    Objects.requireNonNull(cuSeqlensK, "cu_seqlens_k");
    if (cuSeqlensQ.length != cuSeqlensK.length) {
      throw new IllegalArgumentException(
          "cu_seqlens_q has "
              + cuSeqlensQ.length
              + " offsets and cu_seqlens_k "
              + cuSeqlensK.length
              + ": both need batch + 1");
    }
    CuSeqlens.check("cu_seqlens_q", cuSeqlensQ, q.rows(), "q " + Arrays.toString(q.shape()));
    CuSeqlens.check("cu_seqlens_k", cuSeqlensK, k.rows(), "k " + Arrays.toString(k.shape()));

    int hq = shape.queryHeads();
    int total = shape.queryRows();
    int dv = shape.valueDim();
    float[] outData = new float[Math.toIntExact((long) total * hq * dv)];
    float[] lse = new float[Math.toIntExact((long) total * hq)];
    for (int b = 0; b + 1 < cuSeqlensQ.length; b++) {
      int q0 = cuSeqlensQ[b];
      int nq = cuSeqlensQ[b + 1] - q0;
      int k0 = cuSeqlensK[b];
      int nk = cuSeqlensK[b + 1] - k0;
      if (nq == 0) {
        continue;
      }
      if (nk == 0) { // no key: O = 0 (already), LSE = −∞
        for (int h = 0; h < hq; h++) {
          Arrays.fill(lse, h * total + q0, h * total + q0 + nq, Float.NEGATIVE_INFINITY);
        }
        continue;
      }
      // O of sequence b is written in place: its rows of the token-major (total_q, H_q, d_v) array.
      Tensor ob =
          Tensor.view(
              outData,
              q0 * hq * dv,
              new int[] {1, hq, nq, dv},
              new int[] {hq * nq * dv, dv, hq * dv});
      float[] lb = new float[hq * nq];
      Attention.forward(rows(q, q0, nq), rows(k, k0, nk), rows(v, k0, nk), options, ob, lb);
      for (int h = 0; h < hq; h++) {
        System.arraycopy(lb, h * nq, lse, h * total + q0, nq);
      }
    }
    int[] outShape = {1, hq, total, dv};
    int[] strides = {hq * total * dv, dv, hq * dv}; // token-major: (total_q, H_q, d_v)
    Tensor out =
        Tensor.view(
            outData,
            0,
            Arrays.copyOfRange(outShape, 4 - q.rank(), 4),
            Arrays.copyOfRange(strides, 4 - q.rank(), 3));
    return new AttentionResult(out, lse);
  }

  /** Rows [from, from + n) of a (1, H, N, D) tensor, as a (1, H, n, D) view. */
  private static Tensor rows(Tensor t, int from, int n) {
    return Tensor.view(
        t.data(),
        t.rowOffset(0, 0, from),
        new int[] {1, t.heads(), n, t.cols()},
        new int[] {t.batchStride(), t.headStride(), t.rowStride()});
  }
}
