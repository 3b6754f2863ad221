package dev.flashattn4j.api;

import dev.flashattn4j.kernel.FlashForward;
import dev.flashattn4j.tensor.Tensor;

/**
 * The library's front door: exact attention on float32 tensors, computed by the fast kernel ({@link
 * FlashForward}: SIMD, every core, O(N·d) extra memory). The inputs are never modified.
 *
 * <p>The methods here run on one default {@link AttentionEngine} sized to the machine ({@link
 * #engine()}), created on first use: calls from many threads run at once and share its threads. For
 * a private team of threads, other tiles or the scalar path, create an {@link AttentionEngine} (and
 * close it when done).
 */
public final class Attention {

  private Attention() {}

  /** The thread count the methods without one use: all cores. */
  public static int defaultThreads() {
    return Runtime.getRuntime().availableProcessors();
  }

  /**
   * The default engine the static methods run on: all cores, default tiles; created on first use,
   * lives as long as the JVM and cannot be closed.
   */
  public static AttentionEngine engine() {
    return DefaultEngine.ENGINE;
  }

  /** The holder idiom: the engine is made when {@link #engine()} is first called. */
  private static final class DefaultEngine {
    static final AttentionEngine ENGINE = AttentionEngine.createDefault();
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
    return engine().forward(q, k, v, options);
  }

  /**
   * Attention of Q over K and V on {@code threads} threads (the calling thread is one of them). The
   * result is bit-for-bit the same for any thread count.
   *
   * @param q (B, H_q, N_q, d)
   * @param k (B, H_kv, N_k, d)
   * @param v (B, H_kv, N_k, d_v)
   * @param threads at least 1; more than the cores runs on the cores
   */
  public static AttentionResult forward(
      Tensor q, Tensor k, Tensor v, AttentionOptions options, int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, not " + threads);
    }
    AttentionShape s = AttentionShape.of(q, k, v, options);
    Tensor o = Tensor.zeros(s.outputShape(q.rank()));
    float[] l = new float[s.outputRows()];
    engine().forward(q, k, v, options, o, l, threads);
    return new AttentionResult(o, l);
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
    engine().forward(q, k, v, options, output, lse);
  }

  /**
   * The backward pass on all cores: dQ, dK, dV from the forward's inputs, its output O and LSE, and
   * dL/dO. See {@link AttentionEngine#backward}.
   *
   * @param o the forward's output
   * @param lse the forward's LSE
   * @param dOut dL/dO, O's shape
   */
  public static AttentionGradients backward(
      Tensor q, Tensor k, Tensor v, Tensor o, float[] lse, Tensor dOut, AttentionOptions options) {
    return engine().backward(q, k, v, o, lse, dOut, options);
  }
}
