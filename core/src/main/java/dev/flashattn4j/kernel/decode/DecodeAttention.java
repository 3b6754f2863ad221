package dev.flashattn4j.kernel.decode;

import dev.flashattn4j.cache.PagedKvCache;
import dev.flashattn4j.internal.JobPool;
import dev.flashattn4j.internal.Team;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import java.util.Arrays;

/**
 * The decode step: attention of the N_q newest tokens of each sequence of a batch over all the keys
 * and values that a {@link PagedKvCache} holds for it (FlashAttention's {@code
 * flash_attn_with_kvcache}, after the new tokens' K and V have been appended). N_q = 1 is plain
 * decoding; a few is speculative decoding. Sequences may have different lengths.
 *
 * <p>Query row i of a sequence of length L sits at position L − N_q + i: with {@code
 * Causal.BOTTOM_RIGHT} it sees keys j ≤ L − N_q + i. Sliding windows and softcap apply as in {@link
 * AttentionOptions}; a mask (boolean or float, as in {@link AttentionOptions}) broadcasts to (B,
 * H_q, N_q, L) with L the longest sequence: key j of sequence b is its column j, so a key-padding
 * mask of a left-padded batch works as it does in the forward pass.
 *
 * <p>How it runs. The step reads every cached K and V row once, so memory bandwidth bounds it. All
 * G = H_q / H_kv query heads of a KV group (and all N_q new tokens) are processed together, so each
 * K/V row is read once per group, not once per query head (GQA). The keys of a sequence are cut in
 * chunks of {@link Builder#chunkKeys} keys; chunks are spread over threads (flash-decoding, split
 * KV) and their partial results merged by their log-sum-exp. Chunk boundaries are fixed by key
 * index and chunks are merged in order, so <b>the result has the same bits for any number of
 * threads or splits</b>.
 *
 * <p>Re-entrant: steps from many threads run at once. Each step's plan lives in a call object of
 * its own, taken from a lock-free pool; the threads' scratch is reused from step to step (no
 * allocation in the hot path). Close it to stop its threads.
 */
public final class DecodeAttention implements AutoCloseable {

  /** Keys per chunk unless the builder says otherwise. */
  public static final int DEFAULT_CHUNK_KEYS = 1024;

  private final int splits;
  private final int chunkKeys;
  private final boolean simd;
  private final boolean fused;
  private final Team team;
  private final boolean ownsTeam;
  private final JobPool<DecodePlan> calls = new JobPool<>(DecodePlan::new);

  private DecodeAttention(Builder b) {
    this.splits = b.splits;
    this.chunkKeys = b.chunkKeys;
    this.simd = b.vector;
    this.fused = b.fused;
    this.ownsTeam = b.team == null;
    this.team = ownsTeam ? new Team(b.threads, "flashattn-decode") : b.team;
  }

  /** A decode step with the defaults: all processors, automatic splits, SIMD unless disabled. */
  public static DecodeAttention create() {
    return builder().build();
  }

  /** A builder with the defaults: all cores, automatic splits, the JVM's vector setting. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Attends the newest N_q tokens of each sequence to the sequence's cached keys and values.
   *
   * @param cache the cache, holding the new tokens' K and V already
   * @param layer the layer whose K and V to read
   * @param seqIds the B sequences, one per batch entry of q
   * @param q (B, H_q, N_q, d), any strides; H_q a multiple of the cache's H_kv
   * @return O of shape (B, H_q, N_q, d_v) with the rank of q, and the LSE (B, H_q, N_q)
   */
  public AttentionResult decode(
      PagedKvCache cache, int layer, int[] seqIds, Tensor q, AttentionOptions options) {
    if (q == null || cache == null) {
      throw new IllegalArgumentException("cache and q must not be null");
    }
    int[] shape = {q.batch(), q.heads(), q.rows(), cache.valueDim()};
    Tensor out = Tensor.zeros(Arrays.copyOfRange(shape, 4 - q.rank(), 4));
    float[] lse = new float[Math.multiplyExact(q.batch() * q.heads(), q.rows())];
    decode(cache, layer, seqIds, q, options, out, lse);
    return new AttentionResult(out, lse);
  }

  /**
   * As {@link #decode(PagedKvCache, int, int[], Tensor, AttentionOptions)}, into the caller's
   * buffers: no allocation once the scratch has grown to the sizes.
   *
   * @param out (B, H_q, N_q, d_v), any strides, written
   * @param lse B·H_q·N_q floats, (B, H_q, N_q) row-major, written
   */
  public void decode(
      PagedKvCache cache,
      int layer,
      int[] seqIds,
      Tensor q,
      AttentionOptions options,
      Tensor out,
      float[] lse) {
    check(cache, layer, seqIds, q, options, out, lse);
    run(cache, layer, seqIds, q, null, options, out, lse);
  }

  /**
   * One decode call for sequences with different numbers of new tokens (a speculative step checks
   * several, a chunk of a long prompt is prefilled over its cached prefix, others decode one): the
   * new tokens' queries of all sequences packed along N, as varlen packs them. Query i of the
   * N_q(b) = cuSeqlensQ[b + 1] − cuSeqlensQ[b] new tokens of sequence b sits at position L_b −
   * N_q(b) + i of its L_b cached tokens (bottom-right: the new tokens' K and V are in the cache
   * already).
   *
   * @param q (H_q, total_q, d) or (1, H_q, total_q, d), any strides; rows [cu[b], cu[b + 1]) are
   *     sequence b's
   * @param cuSeqlensQ B + 1 offsets: 0, ..., total_q, never decreasing (a sequence may have 0 rows)
   * @param out (1, H_q, total_q, d_v) (any rank that means it), any strides, written
   * @param lse H_q·total_q floats, (H_q, total_q) row-major, written
   * @throws IllegalArgumentException for shapes or offsets that do not fit, a mask (not taken here:
   *     a sequence's keys are its own, with no common column), or more new tokens than a sequence
   *     holds
   */
  public void decodeRagged(
      PagedKvCache cache,
      int layer,
      int[] seqIds,
      Tensor q,
      int[] cuSeqlensQ,
      AttentionOptions options,
      Tensor out,
      float[] lse) {
    checkRagged(cache, layer, seqIds, q, cuSeqlensQ, options, out, lse);
    run(cache, layer, seqIds, q, cuSeqlensQ, options, out, lse);
  }

  private void run(
      PagedKvCache cache,
      int layer,
      int[] seqIds,
      Tensor q,
      int[] cuSeqlensQ,
      AttentionOptions options,
      Tensor out,
      float[] lse) {
    if (team.closed()) {
      throw new IllegalStateException("the engine was closed");
    }
    DecodePlan plan = calls.take();
    try {
      int threads = team.threads();
      plan.prepare(
          cache,
          layer,
          seqIds,
          q,
          cuSeqlensQ,
          options,
          out,
          lse,
          simd,
          fused,
          chunkKeys,
          splits,
          threads);
      team.run(plan, plan.callerScratch, threads);
    } finally {
      plan.clear();
      calls.give(plan);
    }
  }

  private static void checkRagged(
      PagedKvCache cache,
      int layer,
      int[] seqIds,
      Tensor q,
      int[] cu,
      AttentionOptions options,
      Tensor out,
      float[] lse) {
    if (cache == null || seqIds == null || q == null || cu == null || options == null) {
      throw new IllegalArgumentException(
          "cache, seqIds, q, cuSeqlensQ and options must not be null");
    }
    if (q.batch() != 1) {
      throw new IllegalArgumentException(
          "a ragged call packs the sequences along N: q must be (H_q, total_q, d) or (1, H_q,"
              + " total_q, d), not "
              + Arrays.toString(q.shape()));
    }
    if (cu.length != seqIds.length + 1 || cu[0] != 0 || cu[cu.length - 1] != q.rows()) {
      throw new IllegalArgumentException(
          "cuSeqlensQ must hold "
              + (seqIds.length + 1)
              + " offsets from 0 to total_q = "
              + q.rows()
              + ", not "
              + Arrays.toString(cu));
    }
    for (int b = 0; b < seqIds.length; b++) {
      if (cu[b + 1] < cu[b]) {
        throw new IllegalArgumentException(
            "cuSeqlensQ must never decrease: " + Arrays.toString(cu));
      }
      if (cache.contains(seqIds[b]) && cu[b + 1] - cu[b] > cache.length(seqIds[b])) {
        throw new IllegalArgumentException(
            "sequence "
                + seqIds[b]
                + " has "
                + (cu[b + 1] - cu[b])
                + " new tokens but holds "
                + cache.length(seqIds[b])
                + ": write the new tokens' K and V into the cache first");
      }
    }
    if (options.mask() != null) {
      throw new IllegalArgumentException(
          "a ragged decode call takes no mask (causal, a window, ALiBi, a soft cap and sinks"
              + " work): decode the sequences that need one with decode(...)");
    }
    check(cache, layer, seqIds, q, options, out, lse, seqIds.length);
  }

  private static void check(
      PagedKvCache cache,
      int layer,
      int[] seqIds,
      Tensor q,
      AttentionOptions options,
      Tensor out,
      float[] lse) {
    check(cache, layer, seqIds, q, options, out, lse, q == null ? 0 : q.batch());
  }

  private static void check(
      PagedKvCache cache,
      int layer,
      int[] seqIds,
      Tensor q,
      AttentionOptions options,
      Tensor out,
      float[] lse,
      int sequences) {
    if (cache == null || seqIds == null || q == null || options == null) {
      throw new IllegalArgumentException("cache, seqIds, q and options must not be null");
    }
    if (out == null || lse == null) {
      throw new IllegalArgumentException("out and lse must not be null");
    }
    if (layer < 0 || layer >= cache.layers()) {
      throw new IllegalArgumentException(
          "layer " + layer + " is not in [0, " + cache.layers() + ")");
    }
    if (seqIds.length != sequences) {
      throw new IllegalArgumentException(
          seqIds.length
              + " sequence ids for a batch of "
              + q.batch()
              + " in q "
              + Arrays.toString(q.shape()));
    }

    for (int id : seqIds) {
      if (!cache.contains(id)) {
        throw new IllegalArgumentException(
            "sequence "
                + id
                + " is not in the cache (live: "
                + Arrays.toString(cache.sequenceIds())
                + ")");
      }
    }
    if (q.cols() != cache.headDim()) {
      throw new IllegalArgumentException(
          "d of q "
              + Arrays.toString(q.shape())
              + " must equal the cache's head dimension "
              + cache.headDim());
    }
    if (q.heads() % cache.kvHeads() != 0) {
      throw new IllegalArgumentException(
          "the heads of q "
              + Arrays.toString(q.shape())
              + " must be a multiple of the cache's "
              + cache.kvHeads()
              + " K/V heads");
    }
    if (options.mask() != null) {
      // (B, H_q, N_q, L) with L the longest sequence: key j of sequence b is column j
      int longest = 0;
      for (int id : seqIds) {
        longest = Math.max(longest, cache.length(id));
      }
      options.mask().checkBroadcastsTo(q.batch(), q.heads(), q.rows(), longest);
    }
    if (options.dropout().active()) {
      throw new IllegalArgumentException("decode does not take dropout (it is for training)");
    }
    if (out.batch() != q.batch()
        || out.heads() != q.heads()
        || out.rows() != q.rows()
        || out.cols() != cache.valueDim()) {
      throw new IllegalArgumentException(
          "out "
              + Arrays.toString(out.shape())
              + " must be (B, H_q, N_q, d_v) = ("
              + q.batch()
              + ", "
              + q.heads()
              + ", "
              + q.rows()
              + ", "
              + cache.valueDim()
              + ")");
    }
    long rows = (long) q.batch() * q.heads() * q.rows();
    if (lse.length != rows) {
      throw new IllegalArgumentException(
          "lse has " + lse.length + " floats but (B, H_q, N_q) needs " + rows);
    }
  }

  /** The scratch bytes of the callers' plans (the workers' are counted by their team's owner). */
  public long scratchBytes() {
    long[] total = {0};
    calls.forEachMade(p -> total[0] += p.callerScratch.bytes());
    return total[0];
  }

  /** Threads the step runs on, counting the caller (the builder's, capped at the cores). */
  public int threads() {
    return team.threads();
  }

  /** Keys per chunk: the one parameter (besides SIMD or scalar) the result's bits depend on. */
  public int chunkKeys() {
    return chunkKeys;
  }

  /** True when the SIMD kernels run, false for the scalar twins. */
  public boolean vector() {
    return simd;
  }

  /** Lanes of the SIMD kernels' float vectors. */
  public static int vectorLanes() {
    return DecodeSimd.lanes();
  }

  /**
   * Stops the threads (when this step owns them; not an engine's); later steps throw {@link
   * IllegalStateException}. A step running at the time finishes on its caller's thread.
   */
  @Override
  public void close() {
    if (ownsTeam) {
      team.close();
    }
  }

  /** Builder of {@link DecodeAttention}. */
  public static final class Builder {

    /** A builder with the defaults ({@link DecodeAttention#builder()}). */
    public Builder() {}

    private int threads = Runtime.getRuntime().availableProcessors();
    private int splits;
    private int chunkKeys = DEFAULT_CHUNK_KEYS;
    private boolean vector = DecodeSimd.VECTOR_BY_DEFAULT;
    private boolean fused = true;
    private Team team;

    /** Runs on an engine's team instead of threads of its own ({@link #threads} is then unused). */
    public Builder team(Team team) {
      this.team = team;
      return this;
    }

    /** Threads to run on (default: available processors). */
    public Builder threads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("threads must be at least 1, not " + threads);
      }
      this.threads = threads;
      return this;
    }

    /**
     * Tasks the chunks of one (sequence, KV head) are spread over; 0 (default) picks enough to keep
     * every thread busy. Changes the speed, never the result.
     */
    public Builder splits(int splits) {
      if (splits < 0) {
        throw new IllegalArgumentException("splits must be 0 (auto) or positive, not " + splits);
      }
      this.splits = splits;
      return this;
    }

    /** Keys per chunk (default {@value DecodeAttention#DEFAULT_CHUNK_KEYS}). */
    public Builder chunkKeys(int chunkKeys) {
      if (chunkKeys < 1) {
        throw new IllegalArgumentException("chunkKeys must be at least 1, not " + chunkKeys);
      }
      this.chunkKeys = chunkKeys;
      return this;
    }

    /**
     * SIMD kernels (true) or their scalar twins (false); the default is SIMD unless the system
     * property {@code flashattn.vector.bits} is 0.
     */
    public Builder vector(boolean vector) {
      this.vector = vector;
      return this;
    }

    /**
     * Narrow pages (int8, 16-bit) read in place by the fused kernels (true, the default), or first
     * widened to float32 block by block (false): the earlier path, kept for the tests that compare
     * the two and for A/B measurements.
     */
    Builder fused(boolean fused) {
      this.fused = fused;
      return this;
    }

    /** The decode step, with threads of its own unless {@link #team} gave it an engine's. */
    public DecodeAttention build() {
      return new DecodeAttention(this);
    }
  }
}
