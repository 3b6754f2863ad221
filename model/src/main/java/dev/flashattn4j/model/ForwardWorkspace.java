package dev.flashattn4j.model;

import dev.flashattn4j.tensor.Tensor;
import java.util.Arrays;

/**
 * The buffers of {@link Model#forward(dev.flashattn4j.cache.PagedKvCache, int[], int[][], boolean,
 * float[], ForwardWorkspace) forward steps}, kept from one step to the next: the activations of
 * every new token (hidden state, norms, projections, attention, MLP), RoPE's cos/sin, and the small
 * arrays and tensor views that the attention calls take. A warm step of the same batch (decoding:
 * one new token per sequence) allocates nothing.
 *
 * <p>It grows when a step has more new tokens (or sequences) than any before, and stays that size.
 * A step of more than {@link #keepRows()} new tokens (a long prompt) runs on buffers of its own,
 * dropped when it returns, so that a prompt's activations do not stay behind for the decoding that
 * follows.
 *
 * <p>A workspace belongs to the model that made it ({@link Model#newWorkspace()}) and is used by
 * one thread at a time, like the cache it works on: each thread (each {@link Session}) has its own.
 */
public final class ForwardWorkspace {

  /** Rows kept by {@link Model#newWorkspace()}: batched decoding of up to 64 sequences. */
  public static final int DEFAULT_KEEP_ROWS = 64;

  // kinds of cached views (see view): K and V rows written to the cache, by sequence; a run's
  // query, key, value and output, by the run's first sequence
  static final int WRITE_K = 0;
  static final int WRITE_V = 1;
  static final int RUN_Q = 2;
  static final int RUN_K = 3;
  static final int RUN_V = 4;
  static final int RUN_O = 5;
  private static final int KINDS = 6;

  final Transformer owner;
  private final int keepRows;
  private int rowCapacity;
  private int batchCapacity;

  // per new token (row): widths in floats as ModelConfig says
  float[] cos;
  float[] sin;
  float[] x;
  float[] normed;
  float[] q;
  float[] k;
  float[] v;
  float[] attn;
  float[] proj;
  float[] gate;
  float[] up;
  float[] last;

  // per sequence of the step
  int[] start;
  int[] rowStart;
  private Tensor[][] views = new Tensor[KINDS][0];
  private int[][] runIds = new int[0][];
  private int[][] cuSeqlens = new int[0][];
  private float[][] lse = new float[0][];

  ForwardWorkspace(Transformer owner, int keepRows) {
    if (keepRows < 1) {
      throw new IllegalArgumentException("keepRows must be at least 1, not " + keepRows);
    }
    this.owner = owner;
    this.keepRows = keepRows;
  }

  /** Steps of up to this many new tokens reuse the workspace's buffers. */
  public int keepRows() {
    return keepRows;
  }

  /**
   * The buffers for a step of {@code rows} new tokens over {@code batch} sequences: this workspace,
   * grown if it must be, or one for this step alone when it has more than {@link #keepRows()} rows.
   */
  ForwardWorkspace forStep(int rows, int batch) {
    ForwardWorkspace ws =
        rows > keepRows && rows > rowCapacity ? new ForwardWorkspace(owner, rows) : this;
    ws.ensureRows(rows);
    ws.ensureBatch(batch);
    return ws;
  }

  private void ensureRows(int rows) {
    if (rows <= rowCapacity) {
      return;
    }
    ModelConfig c = owner.config;
    int h = c.hidden();
    int qw = c.heads() * c.headDim();
    int kw = c.kvHeads() * c.headDim();
    int half = c.headDim() / 2;
    cos = new float[Math.multiplyExact(rows, half)];
    sin = new float[rows * half];
    x = new float[Math.multiplyExact(rows, h)];
    normed = new float[rows * h];
    q = new float[Math.multiplyExact(rows, qw)];
    k = new float[Math.multiplyExact(rows, kw)];
    v = new float[rows * kw];
    attn = new float[rows * qw];
    proj = new float[rows * h];
    gate = new float[Math.multiplyExact(rows, c.intermediate())];
    up = new float[rows * c.intermediate()];
    last = new float[rows * h];
    rowCapacity = rows;
  }

  private void ensureBatch(int batch) {
    if (batch <= batchCapacity) {
      return;
    }
    start = new int[batch];
    rowStart = new int[batch + 1];
    for (int kind = 0; kind < KINDS; kind++) {
      views[kind] = Arrays.copyOf(views[kind], batch);
    }
    runIds = Arrays.copyOf(runIds, batch);
    cuSeqlens = Arrays.copyOf(cuSeqlens, batch);
    lse = Arrays.copyOf(lse, batch);
    batchCapacity = batch;
  }

  /**
   * The (batch, heads, n, d) view of a token-major (rows, heads·d) buffer whose first element is at
   * {@code offset} (batch blocks of n rows, one after the other): the view kept in slot (kind,
   * slot) when it is that one, else a new one, kept there for the next step.
   */
  Tensor view(int kind, int slot, float[] data, int offset, int batch, int heads, int n, int d) {
    Tensor t = views[kind][slot];
    if (t == null
        || t.data() != data
        || t.offset() != offset
        || t.batch() != batch
        || t.heads() != heads
        || t.rows() != n
        || t.cols() != d) {
      t =
          Tensor.view(
              data,
              offset,
              new int[] {batch, heads, n, d},
              new int[] {n * heads * d, d, heads * d});
      views[kind][slot] = t;
    }
    return t;
  }

  /** seqIds[b0, b1): the array itself when that is all of it, else a copy kept in slot b0. */
  int[] runIds(int[] seqIds, int b0, int b1) {
    if (b0 == 0 && b1 == seqIds.length) {
      return seqIds;
    }
    int[] ids = runIds[b0];
    if (ids == null || ids.length != b1 - b0) {
      ids = new int[b1 - b0];
      runIds[b0] = ids;
    }
    System.arraycopy(seqIds, b0, ids, 0, ids.length);
    return ids;
  }

  /** An int array of {@code length} for the cu_seqlens of the run from b0 (contents undefined). */
  int[] cuSeqlens(int b0, int length) {
    int[] cu = cuSeqlens[b0];
    if (cu == null || cu.length != length) {
      cu = new int[length];
      cuSeqlens[b0] = cu;
    }
    return cu;
  }

  /**
   * A float array of exactly {@code length} for the LSE of the run from b0 (contents undefined).
   */
  float[] lse(int b0, int length) {
    float[] l = lse[b0];
    if (l == null || l.length != length) {
      l = new float[length];
      lse[b0] = l;
    }
    return l;
  }
}
