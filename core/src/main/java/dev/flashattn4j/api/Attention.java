package dev.flashattn4j.api;

import dev.flashattn4j.kernel.FlashForward;
import dev.flashattn4j.tensor.Tensor;

/**
 * The library's front door: exact attention on float32 tensors, computed by the fast kernel ({@link
 * FlashForward}: SIMD, every core, O(N·d) extra memory). The inputs are never modified.
 *
 * <p>The methods here use kernels shared by the JVM, one per thread count; calls from several
 * threads run one at a time on each. For full control (tile sizes, scalar path, a private team of
 * threads) create a {@link FlashForward} with a {@link dev.flashattn4j.kernel.KernelConfig}.
 */
public final class Attention {

  private Attention() {}

  /** The thread count the methods without one use: all cores. */
  public static int defaultThreads() {
    return Runtime.getRuntime().availableProcessors();
  }

  /**
   * Attention of Q over K and V on all cores.
   *
   * @param q (B, H_q, N_q, d); (N, d) and (H, N, d) mean B = 1 (and H = 1)
   * @param k (B, H_kv, N_k, d), H_q a multiple of H_kv
   * @param v (B, H_kv, N_k, d_v)
   * @return O of shape (B, H_q, N_q, d_v) with the rank of q, and the LSE of each row
   * @throws IllegalArgumentException naming the argument and the shapes when they don't fit
   */
  public static AttentionResult forward(Tensor q, Tensor k, Tensor v, AttentionOptions options) {
    return forward(q, k, v, options, defaultThreads());
  }

  /**
   * Attention of Q over K and V on {@code threads} threads (the calling thread is one of them). The
   * result is bit-for-bit the same for any thread count.
   *
   * @param q (B, H_q, N_q, d)
   * @param k (B, H_kv, N_k, d)
   * @param v (B, H_kv, N_k, d_v)
   * @param threads at least 1
   */
  public static AttentionResult forward(
      Tensor q, Tensor k, Tensor v, AttentionOptions options, int threads) {
    return FlashForward.shared(threads).forward(q, k, v, options);
  }

  /**
   * Attention into caller-owned buffers, on all cores: allocates nothing once warmed up with these
   * shapes, for inference loops.
   *
   * @param q (B, H_q, N_q, d)
   * @param k (B, H_kv, N_k, d)
   * @param v (B, H_kv, N_k, d_v)
   * @param output (B, H_q, N_q, d_v), any rank and strides, not sharing an array with the inputs
   * @param lse B·H_q·N_q floats, (B, H_q, N_q) row-major
   */
  public static void forward(
      Tensor q, Tensor k, Tensor v, AttentionOptions options, Tensor output, float[] lse) {
    FlashForward.shared(defaultThreads()).forward(q, k, v, options, output, lse);
  }
}
