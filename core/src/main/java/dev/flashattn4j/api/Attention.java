package dev.flashattn4j.api;

import dev.flashattn4j.cache.PagedKvCache;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionGradients;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.AttentionShape;
import java.time.Duration;

/**
 * The library's front door: exact attention on float32 tensors, computed by the fast kernel (SIMD,
 * every core, O(N·d) extra memory). The inputs are never modified.
 *
 * {@snippet file="dev/flashattn4j/snippets/CoreSnippetsTest.java" region="forward"}
 *
 * <p>The backward pass, for training:
 *
 * {@snippet file="dev/flashattn4j/snippets/CoreSnippetsTest.java" region="backward"}
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
   * Compiles the default engine's kernels for calls of this shape before the first real one ({@link
   * AttentionEngine#warmUp}): a server calls it at start so that its first request runs near a warm
   * call's time.
   *
   * @return the calls made
   */
  public static int warmUp(
      int[] qShape, int[] kvShape, AttentionOptions options, boolean backward, Duration limit) {
    return engine().warmUp(qShape, kvShape, options, backward, limit);
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
   * Attention of every packed sequence over its own keys, on the default engine ({@link
   * AttentionEngine#varlen}): FlashAttention's {@code flash_attn_varlen_func}.
   *
   * @param q (H_q, total_q, d) or (1, H_q, total_q, d) (or (total_q, d) for one head), any strides
   * @param k (H_kv, total_k, d) or (1, H_kv, total_k, d); H_q a multiple of H_kv
   * @param v (H_kv, total_k, d_v) or (1, H_kv, total_k, d_v)
   * @param cuSeqlensQ batch + 1 offsets into the rows of q: 0, ..., total_q, never decreasing
   * @param cuSeqlensK batch + 1 offsets into the rows of k and v: 0, ..., total_k
   * @param options the options of every sequence. A mask is indexed with the packed rows and keys,
   *     broadcast to (1, H_q, total_q, total_k) as for one long sequence; only the entries of a
   *     sequence's own rows and keys are read. Dropout draws the keep bits of sequence x as those
   *     of batch entry x, row and key counted within the sequence.
   * @return O of shape (H_q, total_q, d_v) with the rank of q, whose array is laid out token-major
   *     (total_q, H_q, d_v) as FlashAttention's; the LSE (H_q, total_q) row-major, −∞ for a row
   *     with no key
   * @throws IllegalArgumentException for shapes or offsets that don't fit, before any work
   */
  public static AttentionResult varlen(
      Tensor q, Tensor k, Tensor v, int[] cuSeqlensQ, int[] cuSeqlensK, AttentionOptions options) {
    return engine().varlen(q, k, v, cuSeqlensQ, cuSeqlensK, options);
  }

  /**
   * The decode step on the default engine ({@link AttentionEngine#decode}): attention of the N_q
   * newest tokens of each sequence over everything the paged cache holds for it.
   *
   * @param cache the cache, holding the new tokens' K and V already
   * @param layer the layer whose K and V to read
   * @param seqIds the B sequences, one per batch entry of q
   * @param q (B, H_q, N_q, d), any strides
   * @param options scale, soft cap, mask, window, ALiBi and sinks; causal is bottom-right
   * @return O (B, H_q, N_q, d_v) with the rank of q, and the LSE (B, H_q, N_q)
   * @throws IllegalArgumentException for shapes that do not fit the cache, before any work
   */
  public static AttentionResult decode(
      PagedKvCache cache, int layer, int[] seqIds, Tensor q, AttentionOptions options) {
    return engine().decode(cache, layer, seqIds, q, options);
  }

  /**
   * One decode call for sequences with different numbers of new tokens, packed along N, on the
   * default engine ({@link AttentionEngine#decode(PagedKvCache, int, int[], Tensor, int[],
   * AttentionOptions)}): chunked prefill over a cached prefix, speculative steps and one-token
   * steps together.
   */
  public static AttentionResult decode(
      PagedKvCache cache,
      int layer,
      int[] seqIds,
      Tensor q,
      int[] cuSeqlensQ,
      AttentionOptions options) {
    return engine().decode(cache, layer, seqIds, q, cuSeqlensQ, options);
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
