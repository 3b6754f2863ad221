package dev.flashattn4j.kernel;

import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.internal.JobPool;
import dev.flashattn4j.internal.Team;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.AttentionShape;
import java.util.Arrays;

/**
 * The fast forward kernel, in FlashAttention-2's loop order: for each block of B_r query rows,
 * stream the key tiles of B_c keys, keep the running max m, sum l and the unnormalised Oᵀ block in
 * a per-thread {@link Workspace}, normalise once at the end, write O and the LSE.
 *
 * <p>Work is one flat list of (batch, K/V head, query block) items, shared by a fixed team of
 * threads ({@link KernelConfig#threads()}). Each output row is computed by exactly one item, always
 * in the same order, so the result is bit-for-bit the same for any thread count. GQA/MQA read the
 * shared K/V head in place; masks are read through their broadcast strides; tiles that no row of a
 * block can see (causal, window) are skipped, and only the diagonal band is cut element by element.
 *
 * <p>Re-entrant: calls from many threads run at once on one instance. Each call's state (its
 * tensors, tiles, the caller's scratch) lives in a call object of its own, taken from a lock-free
 * pool and given back when the call returns; the workers of the {@link Team} help whichever calls
 * are open. An instance made from a {@link KernelConfig} owns its team: {@link #close()} it when
 * done. One made on an engine's team borrows it.
 */
public final class FlashForward implements AutoCloseable {

  private final KernelConfig config;
  private final Team team;
  private final boolean ownsTeam;
  private final JobPool<ForwardCall> calls;

  /** A kernel with its own threads and workspaces. */
  public FlashForward(KernelConfig config) {
    this(config, new Team(config.threads(), "flashattn-forward"), true);
  }

  /** A kernel on a team it borrows (an engine's): closing this kernel leaves the team running. */
  public FlashForward(KernelConfig config, Team team) {
    this(config, team, false);
  }

  private FlashForward(KernelConfig config, Team team, boolean ownsTeam) {
    if (config == null || team == null) {
      throw new IllegalArgumentException("config and team must not be null");
    }
    this.config = config;
    this.team = team;
    this.ownsTeam = ownsTeam;
    this.calls = new JobPool<>(() -> new ForwardCall(config, team));
  }

  /** This kernel's configuration. */
  public KernelConfig config() {
    return config;
  }

  /**
   * Attention of Q over K and V into new arrays.
   *
   * @param q (B, H_q, N_q, d); (N, d) and (H, N, d) mean B = 1 (and H = 1)
   * @param k (B, H_kv, N_k, d), H_q a multiple of H_kv
   * @param v (B, H_kv, N_k, d_v)
   * @return O (B, H_q, N_q, d_v) with the rank of q, and the LSE (B, H_q, N_q) row-major
   * @throws IllegalArgumentException naming the shapes when they don't fit
   */
  public AttentionResult forward(Tensor q, Tensor k, Tensor v, AttentionOptions options) {
    AttentionShape s = AttentionShape.of(q, k, v, options);
    Tensor o = Tensor.zeros(s.outputShape(q.rank()));
    float[] l = new float[s.outputRows()];
    forward(q, k, v, options, o, l);
    return new AttentionResult(o, l);
  }

  /**
   * Attention of Q over K and V into caller-owned buffers: allocates nothing once warmed up with
   * these shapes (the inference loop's entry). The inputs are not modified.
   *
   * @param q (B, H_q, N_q, d)
   * @param k (B, H_kv, N_k, d)
   * @param v (B, H_kv, N_k, d_v)
   * @param output (B, H_q, N_q, d_v), any rank and strides; must not share an array with q, k, v
   * @param lse B·H_q·N_q floats, row-major (B, H_q, N_q): the natural log-sum-exp of each row
   * @throws IllegalArgumentException naming the shapes when they don't fit
   */
  public void forward(
      Tensor q, Tensor k, Tensor v, AttentionOptions options, Tensor output, float[] lse) {
    forward(q, k, v, options, output, lse, Integer.MAX_VALUE);
  }

  /**
   * As {@link #forward(Tensor, Tensor, Tensor, AttentionOptions, Tensor, float[])}, on at most
   * {@code maxThreads} threads of the team (the caller counts as one). The result's bits do not
   * depend on it.
   */
  public void forward(
      Tensor q,
      Tensor k,
      Tensor v,
      AttentionOptions options,
      Tensor output,
      float[] lse,
      int maxThreads) {
    run(q, k, v, options, output, lse, null, null, maxThreads);
  }

  /** Runs a call on a pooled call object (which checks it before anything is written). */
  private void run(
      Tensor q,
      Tensor k,
      Tensor v,
      AttentionOptions options,
      Tensor output,
      float[] lse,
      int[] cuQ,
      int[] cuK,
      int maxThreads) {
    if (maxThreads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, not " + maxThreads);
    }
    if (team.closed()) {
      throw new IllegalStateException("the engine was closed");
    }
    ForwardCall call = calls.take();
    try {
      call.run(q, k, v, options, output, lse, cuQ, cuK, maxThreads);
    } finally {
      calls.give(call);
    }
  }

  /**
   * Varlen attention into caller-owned buffers: sequence q of the packed batch is rows [cuQ[q],
   * cuQ[q + 1]) of Q and O and rows [cuK[q], cuK[q + 1]) of K and V, and attends only to its own
   * keys, with the options applied within it. One flat list of (sequence, K/V head, query block)
   * items runs on the team, as a dense call's does. The offsets must have been checked ({@code
   * VarlenAttention.check}).
   *
   * @param q (1, H_q, total_q, d), any strides
   * @param output (1, H_q, total_q, d_v), any strides
   * @param lse H_q·total_q floats, (H_q, total_q) row-major
   */
  public void varlen(
      Tensor q,
      Tensor k,
      Tensor v,
      int[] cuQ,
      int[] cuK,
      AttentionOptions options,
      Tensor output,
      float[] lse,
      int maxThreads) {
    run(q, k, v, options, output, lse, cuQ, cuK, maxThreads);
  }

  static void checkOutput(
      AttentionShape s, Tensor q, Tensor k, Tensor v, Tensor output, float[] lse) {
    if (output == null || lse == null) {
      throw new IllegalArgumentException("output and lse must not be null");
    }
    if (output.batch() != s.batch()
        || output.heads() != s.queryHeads()
        || output.rows() != s.queryRows()
        || output.cols() != s.valueDim()) {
      throw new IllegalArgumentException(
          "output "
              + output
              + " must be (B, H_q, N_q, d_v) = "
              + Arrays.toString(s.outputShape(4)));
    }
    if (lse.length != s.outputRows()) {
      throw new IllegalArgumentException(
          "lse has " + lse.length + " floats, needs B·H_q·N_q = " + s.outputRows());
    }
    float[] o = output.data();
    if (o == q.data() || o == k.data() || o == v.data()) {
      throw new IllegalArgumentException("output must not share an array with q, k or v");
    }
    if (overlapsItself(output)) {
      throw new IllegalArgumentException(
          "output "
              + output
              + " is a view whose elements overlap: two outputs would share a float");
    }
  }

  /**
   * True when two elements of the view may be one float: sorted by stride, each dimension's stride
   * must reach past everything the smaller ones span (the column dimension has stride 1).
   */
  static boolean overlapsItself(Tensor t) {
    if (t.batch() == 0 || t.heads() == 0 || t.rows() == 0 || t.cols() == 0) {
      return false; // no element, nothing to share (an empty sequence, as PyTorch accepts)
    }
    // the three outer dimensions sorted by stride, by hand: no allocation on the call's path
    long s0 = t.rowStride();
    long n0 = t.rows();
    long s1 = t.headStride();
    long n1 = t.heads();
    long s2 = t.batchStride();
    long n2 = t.batch();
    if (s1 < s0) {
      long a = s0;
      s0 = s1;
      s1 = a;
      a = n0;
      n0 = n1;
      n1 = a;
    }
    if (s2 < s1) {
      long a = s1;
      s1 = s2;
      s2 = a;
      a = n1;
      n1 = n2;
      n2 = a;
    }
    if (s1 < s0) {
      long a = s0;
      s0 = s1;
      s1 = a;
      a = n0;
      n0 = n1;
      n1 = a;
    }
    long span = t.cols();
    if (n0 > 1) {
      if (s0 < span) {
        return true;
      }
      span += s0 * (n0 - 1);
    }
    if (n1 > 1) {
      if (s1 < span) {
        return true;
      }
      span += s1 * (n1 - 1);
    }
    return n2 > 1 && s2 < span;
  }

  /**
   * The scratch bytes this kernel's threads hold now (each worker's and each caller's {@link
   * Workspace}), the extra memory of calls beyond their inputs and outputs.
   */
  public long workspaceBytes() {
    long[] total = {team.workerScratchBytes()};
    calls.forEachMade(c -> total[0] += c.callerScratch.bytes());
    return total[0];
  }

  /**
   * The bytes one thread's workspace needs for a call of this shape (the documented budget).
   *
   * @param rows the query rows of one K/V head: (H_q / H_kv)·N_q
   * @param keys N_k
   */
  public long workspaceBytesPerThread(int rows, int keys, int d, int dv) {
    int r = Tiles.tileRows(config, rows, keys, d, dv);
    return Workspace.bytes(r, Tiles.tileCols(config, r, d, dv), d, dv);
  }

  /** {@link #workspaceBytesPerThread(int, int, int, int)} with as many keys as query rows. */
  public long workspaceBytesPerThread(int rows, int d, int dv) {
    return workspaceBytesPerThread(rows, rows, d, dv);
  }

  /** {@link #tiles(int, int, int, int)} with as many keys as query rows. */
  public int[] tiles(int rows, int d, int dv) {
    return tiles(rows, rows, d, dv);
  }

  /**
   * The tile sizes (B_r, B_c) this kernel uses for a call of this shape.
   *
   * @param rows the query rows of one K/V head: (H_q / H_kv)·N_q
   * @param keys N_k
   */
  public int[] tiles(int rows, int keys, int d, int dv) {
    int r = Tiles.tileRows(config, rows, keys, d, dv);
    return new int[] {r, Tiles.tileCols(config, r, d, dv)};
  }

  /** The threads a call runs on, counting its caller (the configuration's, capped at the cores). */
  public int threads() {
    return team.threads();
  }

  /**
   * Stops this kernel's threads (when it owns them); later calls throw {@link
   * IllegalStateException}. A call running at the time finishes on its own thread.
   */
  @Override
  public void close() {
    if (ownsTeam) {
      team.close();
    }
  }
}
