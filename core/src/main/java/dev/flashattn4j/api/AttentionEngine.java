package dev.flashattn4j.api;

import dev.flashattn4j.cache.PagedKvCache;
import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.internal.Team;
import dev.flashattn4j.kernel.FlashBackward;
import dev.flashattn4j.kernel.FlashForward;
import dev.flashattn4j.kernel.decode.DecodeAttention;
import dev.flashattn4j.kernel.varlen.VarlenAttention;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionGradients;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.AttentionShape;
import java.time.Duration;
import java.util.SplittableRandom;

/**
 * The threads and tile configuration that attention runs on: one closeable object that runs the
 * forward pass, the backward pass, the KV-cache decode step and packed variable-length batches.
 *
 * {@snippet file="dev/flashattn4j/snippets/CoreSnippetsTest.java" region="engine"}
 *
 * <p><b>Threading contract.</b> An engine is re-entrant: calls from any number of threads run at
 * once. Each call keeps its state (its tensors, tiles, the caller's scratch) in a call object of
 * its own, taken from a lock-free pool and given back when it returns, so nothing is shared between
 * calls but the team of worker threads: the calling thread works on its own call, and idle workers
 * help whichever calls are open. No call waits for another; when every worker is busy a call runs
 * on its caller's thread alone. The bits of a result never depend on the number of threads, on
 * which threads helped, or on what else ran at the time.
 *
 * <p>The team has {@code min(config.threads(), available processors)} threads counting the caller:
 * more would only take turns on the same cores. {@link #close()} stops the workers; a call running
 * at that moment finishes on its caller's thread (it never hangs), and later calls throw {@link
 * IllegalStateException}. The static methods of {@link Attention} use one default engine sized to
 * the machine ({@link Attention#engine()}), which lives as long as the JVM.
 */
public final class AttentionEngine implements AutoCloseable {

  private final KernelConfig config;
  private final Team team;
  private final FlashForward forward;
  private final FlashBackward backward;
  private final DecodeAttention decode;
  private final boolean closeable;

  private AttentionEngine(KernelConfig config, boolean closeable) {
    if (config == null) {
      throw new IllegalArgumentException("config must not be null");
    }
    this.config = config;
    this.closeable = closeable;
    this.team = new Team(config.threads(), "flashattn");
    this.forward = new FlashForward(config, team);
    this.backward = new FlashBackward(config, team);
    DecodeAttention.Builder d = DecodeAttention.builder().team(team).vector(config.usesVectors());
    if (config.decodeChunkKeys() > 0) {
      d.chunkKeys(config.decodeChunkKeys());
    }
    this.decode = d.build();
  }

  /** An engine on all cores with the default tiles: what {@link Attention} uses. */
  public static AttentionEngine create() {
    return new AttentionEngine(KernelConfig.defaults(), true);
  }

  /** An engine on at most {@code threads} threads (capped at the cores), default tiles. */
  public static AttentionEngine create(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, not " + threads);
    }
    return new AttentionEngine(KernelConfig.defaults().withThreads(threads), true);
  }

  /** An engine with this configuration (threads, tiles, vectors, micro-kernel). */
  public static AttentionEngine create(KernelConfig config) {
    return new AttentionEngine(config, true);
  }

  /** The default engine of {@link Attention}: cannot be closed. */
  static AttentionEngine createDefault() {
    return new AttentionEngine(KernelConfig.defaults(), false);
  }

  /** The configuration the engine was made with. */
  public KernelConfig config() {
    return config;
  }

  /** The threads one call runs on, counting its caller. */
  public int threads() {
    return team.threads();
  }

  /**
   * Compiles the kernels for calls of this shape before the first real one, so that it runs at
   * speed: a JVM runs a new method slowly until the JIT has compiled it (the first causal call of H
   * = 8, N = 1024, d = 64 took 3 s against 9 ms warm, docs/BENCHMARKS.md). Runs the forward (and
   * the backward when asked) on random inputs of these shapes until the time per call has stopped
   * falling, or {@code limit} has passed. Outputs, caches and other calls are untouched; calls of
   * other shapes share most of the compiled code.
   *
   * <pre>{@code
   * try (AttentionEngine engine = AttentionEngine.create()) {
   *   engine.warmUp(new int[] {1, 8, 1024, 64}, new int[] {1, 8, 1024, 64},
   *       AttentionOptions.builder().causal(Causal.TOP_LEFT).build(), false, Duration.ofSeconds(10));
   *   // ... serve: the first request now runs near a warm call's time
   * }
   * }</pre>
   *
   * @param qShape Q's shape, (B, H_q, N_q, d) or shorter, as {@link #forward} takes it
   * @param kvShape K's and V's shape (d_v = d)
   * @param backward true to compile the backward pass too
   * @param limit the most time to spend
   * @return the calls made
   * @throws IllegalArgumentException for shapes or options that do not fit, before any work
   * @throws IllegalStateException when the engine was closed
   */
  public int warmUp(
      int[] qShape, int[] kvShape, AttentionOptions options, boolean backward, Duration limit) {
    if (qShape == null || kvShape == null || options == null || limit == null) {
      throw new IllegalArgumentException("qShape, kvShape, options and limit must not be null");
    }
    if (limit.isNegative()) {
      throw new IllegalArgumentException("limit must not be negative, not " + limit);
    }
    if (team.closed()) {
      throw new IllegalStateException("the engine was closed");
    }
    SplittableRandom random = new SplittableRandom(42);
    Tensor q = Tensor.uniform(random, -1f, 1f, qShape.clone());
    Tensor k = Tensor.uniform(random, -1f, 1f, kvShape.clone());
    Tensor v = Tensor.uniform(random, -1f, 1f, kvShape.clone());
    AttentionShape shape = AttentionShape.of(q, k, v, options);
    Tensor out = Tensor.zeros(q.shape());
    float[] lse = new float[shape.outputRows()];
    Tensor dOut = backward ? Tensor.uniform(random, -1f, 1f, q.shape()) : null;
    Tensor dq = backward ? Tensor.zeros(q.shape()) : null;
    Tensor dk = backward ? Tensor.zeros(k.shape()) : null;
    Tensor dv = backward ? Tensor.zeros(v.shape()) : null;
    long deadline = System.nanoTime() + Math.min(limit.toNanos(), Long.MAX_VALUE / 2);
    // Stop when three windows of five calls in a row are no faster than the best window so far
    // by 3% (the JIT has compiled what this shape runs), or at the deadline.
    long best = Long.MAX_VALUE;
    int calm = 0;
    int calls = 0;
    while (System.nanoTime() < deadline && calm < 3) {
      long[] window = new long[5];
      for (int i = 0; i < window.length && System.nanoTime() < deadline; i++) {
        long t0 = System.nanoTime();
        forward.forward(q, k, v, options, out, lse);
        if (backward) {
          this.backward.backward(q, k, v, out, lse, dOut, options, dq, dk, dv);
        }
        window[i] = System.nanoTime() - t0;
        calls++;
      }
      java.util.Arrays.sort(window);
      long median = window[window.length / 2];
      if (median < best * 0.97) {
        best = median;
        calm = 0;
      } else {
        calm++;
      }
    }
    return calls;
  }

  /**
   * Attention of Q over K and V into new arrays.
   *
   * @param q (B, H_q, N_q, d); (N, d) and (H, N, d) mean B = 1 (and H = 1)
   * @param k (B, H_kv, N_k, d), H_q a multiple of H_kv
   * @param v (B, H_kv, N_k, d_v)
   * @return O (B, H_q, N_q, d_v) with the rank of q, and the LSE (B, H_q, N_q) row-major
   * @throws IllegalArgumentException naming the argument and the shapes when they don't fit
   * @throws IllegalStateException when the engine was closed
   */
  public AttentionResult forward(Tensor q, Tensor k, Tensor v, AttentionOptions options) {
    return forward.forward(q, k, v, options);
  }

  /**
   * Attention into caller-owned buffers: allocates nothing once warmed up with these shapes (the
   * inference loop's entry). The inputs are not modified.
   *
   * @param output (B, H_q, N_q, d_v), any rank and strides; not sharing an array with q, k, v and
   *     not overlapping itself
   * @param lse B·H_q·N_q floats, (B, H_q, N_q) row-major: the natural log-sum-exp of each row
   */
  public void forward(
      Tensor q, Tensor k, Tensor v, AttentionOptions options, Tensor output, float[] lse) {
    forward.forward(q, k, v, options, output, lse);
  }

  /**
   * As {@link #forward(Tensor, Tensor, Tensor, AttentionOptions, Tensor, float[])} on at most
   * {@code threads} of the engine's threads (counting the caller); the bits do not depend on it.
   */
  public void forward(
      Tensor q,
      Tensor k,
      Tensor v,
      AttentionOptions options,
      Tensor output,
      float[] lse,
      int threads) {
    forward.forward(q, k, v, options, output, lse, threads);
  }

  /**
   * The backward pass: the gradients of a loss with respect to Q, K and V, given its gradient dO
   * with respect to the output O of {@link #forward} (and that call's LSE). The scores are
   * recomputed tile by tile (O(N·d) extra memory); the result has the same bits for any number of
   * threads. See {@link FlashBackward}.
   *
   * @param o the forward's output (B, H_q, N_q, d_v)
   * @param lse the forward's LSE, B·H_q·N_q floats
   * @param dOut dL/dO, (B, H_q, N_q, d_v)
   * @return dQ, dK, dV with the shapes and ranks of q, k, v (dK and dV summed over each GQA group)
   */
  public AttentionGradients backward(
      Tensor q, Tensor k, Tensor v, Tensor o, float[] lse, Tensor dOut, AttentionOptions options) {
    return backward.backward(q, k, v, o, lse, dOut, options);
  }

  /**
   * The backward pass into caller-owned tensors (any strides; overwritten): allocates nothing once
   * warmed up with these shapes.
   */
  public void backward(
      Tensor q,
      Tensor k,
      Tensor v,
      Tensor o,
      float[] lse,
      Tensor dOut,
      AttentionOptions options,
      Tensor dq,
      Tensor dk,
      Tensor dv) {
    backward.backward(q, k, v, o, lse, dOut, options, dq, dk, dv, null);
  }

  /**
   * As {@link #backward(Tensor, Tensor, Tensor, Tensor, float[], Tensor, AttentionOptions, Tensor,
   * Tensor, Tensor)}, also writing the gradient of each query head's sink logit.
   *
   * @param dsinks H_q floats (overwritten); the options must have sinks
   */
  public void backward(
      Tensor q,
      Tensor k,
      Tensor v,
      Tensor o,
      float[] lse,
      Tensor dOut,
      AttentionOptions options,
      Tensor dq,
      Tensor dk,
      Tensor dv,
      float[] dsinks) {
    backward.backward(q, k, v, o, lse, dOut, options, dq, dk, dv, dsinks);
  }

  /**
   * The decode step: attention of the N_q newest tokens of each sequence over everything the cache
   * holds for it (see {@link DecodeAttention}).
   *
   * @param cache the cache, holding the new tokens' K and V already
   * @param layer the layer whose K and V to read
   * @param seqIds the B sequences, one per batch entry of q
   * @param q (B, H_q, N_q, d), any strides
   * @return O (B, H_q, N_q, d_v) with the rank of q, and the LSE (B, H_q, N_q)
   */
  public AttentionResult decode(
      PagedKvCache cache, int layer, int[] seqIds, Tensor q, AttentionOptions options) {
    return decode.decode(cache, layer, seqIds, q, options);
  }

  /**
   * One decode call for sequences with different numbers of new tokens, packed along N (as {@link
   * #varlen} packs them): a speculative step that checks several tokens, a chunk of a long prompt
   * prefilled over its cached prefix (chunked prefill, and a prompt whose prefix another request
   * already cached), and plain one-token steps, all in one call on the engine's threads. Query i of
   * sequence b's N_q(b) new tokens sits at position L_b − N_q(b) + i of its L_b cached tokens
   * (bottom-right causal).
   *
   * @param q (H_q, total_q, d) or (1, H_q, total_q, d), any strides; rows [cu[b], cu[b + 1]) are
   *     sequence b's new tokens, whose K and V the cache holds already
   * @param cuSeqlensQ B + 1 offsets: 0, ..., total_q, never decreasing
   * @return O (H_q, total_q, d_v) with the rank of q, and the LSE (H_q, total_q)
   * @throws IllegalArgumentException for shapes or offsets that do not fit, or a mask (not taken
   *     here)
   */
  public AttentionResult decode(
      PagedKvCache cache,
      int layer,
      int[] seqIds,
      Tensor q,
      int[] cuSeqlensQ,
      AttentionOptions options) {
    if (q == null || cache == null) {
      throw new IllegalArgumentException("cache and q must not be null");
    }
    int[] shape = {q.batch(), q.heads(), q.rows(), cache.valueDim()};
    Tensor out = Tensor.zeros(java.util.Arrays.copyOfRange(shape, 4 - q.rank(), 4));
    float[] lse = new float[Math.multiplyExact(q.batch() * q.heads(), q.rows())];
    decode.decodeRagged(cache, layer, seqIds, q, cuSeqlensQ, options, out, lse);
    return new AttentionResult(out, lse);
  }

  /**
   * The ragged decode call into caller-owned buffers: no allocation once warmed up.
   *
   * @param out (1, H_q, total_q, d_v) (any rank that means it), any strides
   * @param lse H_q·total_q floats, (H_q, total_q) row-major
   */
  public void decode(
      PagedKvCache cache,
      int layer,
      int[] seqIds,
      Tensor q,
      int[] cuSeqlensQ,
      AttentionOptions options,
      Tensor out,
      float[] lse) {
    decode.decodeRagged(cache, layer, seqIds, q, cuSeqlensQ, options, out, lse);
  }

  /** The decode step into caller-owned buffers: no allocation once warmed up. */
  public void decode(
      PagedKvCache cache,
      int layer,
      int[] seqIds,
      Tensor q,
      AttentionOptions options,
      Tensor output,
      float[] lse) {
    decode.decode(cache, layer, seqIds, q, options, output, lse);
  }

  /**
   * Attention of every sequence of a packed batch over its own keys (FlashAttention's {@code
   * flash_attn_varlen_func}; see {@link VarlenAttention}), as one flat list of work items.
   *
   * @param q (H_q, total_q, d) or (1, H_q, total_q, d), any strides
   * @param k (H_kv, total_k, d) or (1, H_kv, total_k, d)
   * @param v (H_kv, total_k, d_v) or (1, H_kv, total_k, d_v)
   * @param cuSeqlensQ batch + 1 offsets into the rows of q: 0, ..., total_q, never decreasing
   * @param cuSeqlensK batch + 1 offsets into the rows of k and v: 0, ..., total_k
   * @return O (H_q, total_q, d_v) with the rank of q, laid out token-major (total_q, H_q, d_v); the
   *     LSE (H_q, total_q) row-major, −∞ for a row with no key
   */
  public AttentionResult varlen(
      Tensor q, Tensor k, Tensor v, int[] cuSeqlensQ, int[] cuSeqlensK, AttentionOptions options) {
    AttentionShape shape = VarlenAttention.check(q, k, v, cuSeqlensQ, cuSeqlensK, options);
    Tensor out = VarlenAttention.newOutput(q, shape);
    float[] lse = new float[Math.toIntExact((long) shape.queryHeads() * shape.queryRows())];
    forward.varlen(q, k, v, cuSeqlensQ, cuSeqlensK, options, out, lse, Integer.MAX_VALUE);
    return new AttentionResult(out, lse);
  }

  /**
   * Packed attention into caller-owned buffers: no allocation once warmed up.
   *
   * @param output (1, H_q, total_q, d_v) (any rank that means it), any strides
   * @param lse H_q·total_q floats, (H_q, total_q) row-major
   */
  public void varlen(
      Tensor q,
      Tensor k,
      Tensor v,
      int[] cuSeqlensQ,
      int[] cuSeqlensK,
      AttentionOptions options,
      Tensor output,
      float[] lse) {
    VarlenAttention.check(q, k, v, cuSeqlensQ, cuSeqlensK, options);
    forward.varlen(q, k, v, cuSeqlensQ, cuSeqlensK, options, output, lse, Integer.MAX_VALUE);
  }

  /**
   * The backward pass of {@link #varlen}: dQ, dK, dV of every packed sequence (and the sinks'
   * gradient, summed over the sequences), from the varlen forward's O and LSE.
   *
   * @param o the varlen forward's output (1, H_q, total_q, d_v), any strides
   * @param lse its LSE, (H_q, total_q) row-major
   * @param dOut dL/dO, O's shape
   * @return dQ, dK, dV with the shapes and ranks of q, k, v (contiguous)
   */
  public AttentionGradients varlenBackward(
      Tensor q,
      Tensor k,
      Tensor v,
      Tensor o,
      float[] lse,
      Tensor dOut,
      int[] cuSeqlensQ,
      int[] cuSeqlensK,
      AttentionOptions options) {
    AttentionShape shape = VarlenAttention.check(q, k, v, cuSeqlensQ, cuSeqlensK, options);
    Tensor dq = Tensor.zeros(q.shape());
    Tensor dk = Tensor.zeros(k.shape());
    Tensor dv = Tensor.zeros(v.shape());
    float[] dsinks = options.hasSinks() ? new float[shape.queryHeads()] : null;
    backward.varlen(q, k, v, o, lse, dOut, cuSeqlensQ, cuSeqlensK, options, dq, dk, dv, dsinks);
    return new AttentionGradients(dq, dk, dv, dsinks);
  }

  /**
   * The scratch bytes the engine's threads and calls hold now: the extra memory of attention beyond
   * its inputs and outputs, O(tile), never O(N²).
   */
  public long workspaceBytes() {
    return forward.workspaceBytes() + decode.scratchBytes() + backward.scratchBytes();
  }

  /**
   * Stops the worker threads. A call running now finishes on its caller's thread; later calls throw
   * {@link IllegalStateException}. Idempotent.
   *
   * @throws IllegalStateException on the default engine of {@link Attention}, which every caller of
   *     the static methods shares
   */
  @Override
  public void close() {
    if (!closeable) {
      throw new IllegalStateException(
          "the default engine is shared by every caller of Attention and cannot be closed");
    }
    team.close();
  }
}
