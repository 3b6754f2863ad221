package dev.flashattn4j.kernel.decode;

import dev.flashattn4j.cache.KvStorage;
import dev.flashattn4j.cache.PagedKvCache;
import dev.flashattn4j.internal.Scratch;
import dev.flashattn4j.internal.TeamJob;
import dev.flashattn4j.kernel.ScorePipeline;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionOptions;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * What one decode call does, laid out before any work starts: the sequences' lengths and block
 * tables, the key range of every query row, the chunks of keys and the tasks that compute them.
 * Reused from call to call; its arrays only grow.
 *
 * <p>The keys [0, L) of a sequence are cut into chunks of {@code chunkKeys} keys at fixed
 * boundaries (c·chunkKeys). For every (sequence b, KV head g, chunk c) one partial result (m, l,
 * unnormalised acc) is computed and stored; a task computes a run of consecutive chunks of one (b,
 * g). The last task of a (b, g) to finish merges its chunks in chunk order. So the bits of the
 * result depend on chunkKeys but not on how many tasks (splits) or threads there are.
 */
final class DecodePlan extends TeamJob {

  /** The scratch of the thread that makes the call. */
  final Scratch callerScratch = new Scratch();

  // The call.
  PagedKvCache cache;
  int layer;
  Tensor q;
  Tensor out;
  float[] lse;
  boolean simd;
  boolean halfWidth; // narrow pages: 16-bit or int8
  boolean fused; // int8 or bfloat16 pages read in place by the fused kernels (DecodeFused)
  boolean widened; // narrow pages widened to float32 block by block first (float16, or unfused)
  KvStorage storage;

  // Sizes.
  int batch;
  int queryHeads;
  int kvHeads;
  int group; // G = H_q / H_kv
  int queryRows; // the rows of q: N_q, or total_q of a ragged call
  int maxRows; // the most query rows of one (b, g): G · max_b N_q(b)
  boolean ragged; // q packs the sequences' rows along N (cu_seqlens), batch entry 0
  int headDim;
  int valueDim;
  int pageSize;
  int chunkKeys;
  final ScorePipeline pipeline = new ScorePipeline(); // the score rule of every kernel
  AttentionOptions options; // ALiBi slopes and sinks

  // Per sequence b: its new tokens N_q(b) and their first row in q (0 unless ragged), its first
  // entry in rowStart/rowEnd; its length and pages; its chunks and the float offset of its partial
  // results.
  int[] newTokens = new int[0];
  int[] qBase = new int[0];
  int[] rowBase = new int[0];
  int[] length = new int[0];
  int[] tableOffset = new int[0];
  int[] chunks = new int[0];
  int[] partialBase = new int[0]; // float offset of (b, g = 0, c = 0); (b, g, c) adds records
  int[] tables = new int[0];
  int[] rowStart = new int[0]; // [rowBase[b] + i]: first visible key of query row i of b
  int[] rowEnd = new int[0]; // one past the last

  // Partial results: record of (b, g, c) = (m[R_b], l[R_b], acc[R_b·d_v]), R_b = G · N_q(b).
  float[] partials = new float[0];

  // Tasks: (b, g, chunks [c0, c1)).
  int[] taskSeq = new int[0];
  int[] taskHead = new int[0];
  int[] taskFrom = new int[0];
  int[] taskTo = new int[0];
  AtomicIntegerArray remaining = new AtomicIntegerArray(0);

  /** The query rows of (b, g): G · N_q(b). */
  int rows(int b) {
    return group * newTokens[b];
  }

  /** Floats of one partial result of sequence b. */
  int recordSize(int b) {
    return rows(b) * (valueDim + 2);
  }

  /** The float offset of the partial result of (b, g, c). */
  int record(int b, int g, int c) {
    return partialBase[b] + (g * chunks[b] + c) * recordSize(b);
  }

  /** Batch entry of q, out and the LSE for sequence b: b, or 0 when ragged. */
  int qBatch(int b) {
    return ragged ? 0 : b;
  }

  /** Lays out a call whose arguments have been checked. */
  void prepare(
      PagedKvCache cache,
      int layer,
      int[] seqIds,
      Tensor q,
      int[] cuSeqlensQ,
      AttentionOptions options,
      Tensor out,
      float[] lse,
      boolean simd,
      boolean fuse,
      int chunkKeys,
      int splits,
      int threads) {
    this.cache = cache;
    this.layer = layer;
    this.q = q;
    this.out = out;
    this.lse = lse;
    this.simd = simd;
    this.storage = cache.storage();
    this.halfWidth = storage != KvStorage.FLOAT32;
    this.fused = fuse && (storage == KvStorage.INT8 || storage == KvStorage.BFLOAT16);
    this.widened = halfWidth && !fused;
    ragged = cuSeqlensQ != null;
    batch = ragged ? cuSeqlensQ.length - 1 : q.batch();
    queryHeads = q.heads();
    kvHeads = cache.kvHeads();
    group = queryHeads / kvHeads;
    queryRows = q.rows();
    headDim = cache.headDim();
    valueDim = cache.valueDim();
    pageSize = cache.pageSize();
    this.chunkKeys = chunkKeys;
    pipeline.prepare(options, headDim);
    this.options = options;

    if (length.length < batch) {
      length = new int[batch];
      tableOffset = new int[batch];
      chunks = new int[batch];
      partialBase = new int[batch];
      newTokens = new int[batch];
      qBase = new int[batch];
      rowBase = new int[batch];
    }
    int totalRows = ragged ? queryRows : batch * queryRows;
    if (rowStart.length < totalRows) {
      rowStart = new int[totalRows];
      rowEnd = new int[totalRows];
    }
    long tablePages = 0;
    long floats = 0;
    maxRows = 0;
    for (int b = 0; b < batch; b++) {
      int len = cache.length(seqIds[b]);
      int nq = ragged ? cuSeqlensQ[b + 1] - cuSeqlensQ[b] : queryRows;
      newTokens[b] = nq;
      qBase[b] = ragged ? cuSeqlensQ[b] : 0;
      rowBase[b] = ragged ? cuSeqlensQ[b] : b * queryRows;
      maxRows = Math.max(maxRows, group * nq);
      length[b] = len;
      tableOffset[b] = (int) tablePages;
      tablePages += (len + (long) pageSize - 1) / pageSize;
      chunks[b] = (int) ((len + (long) chunkKeys - 1) / chunkKeys);
      partialBase[b] = Math.toIntExact(floats);
      floats += (long) kvHeads * chunks[b] * recordSize(b);
      // bottom-right: query i of the N_q new tokens sits at position L − N_q + i
      for (int i = 0; i < nq; i++) {
        rowStart[rowBase[b] + i] = options.keyStart(i, nq, len);
        rowEnd[rowBase[b] + i] = options.keyEnd(i, nq, len);
      }
    }
    if (tables.length < tablePages) {
      tables = new int[Math.toIntExact(tablePages)];
    }
    for (int b = 0; b < batch; b++) {
      cache.copyBlockTable(seqIds[b], tables, tableOffset[b]);
    }
    if (partials.length < floats) {
      partials = new float[Math.toIntExact(floats)];
    }

    layOutTasks(splits, threads);
  }

  /**
   * The tasks: for every (b, g), its chunks cut into runs of consecutive chunks (one task each),
   * and the count of tasks that merges the last.
   */
  private void layOutTasks(int splits, int threads) {
    // Splits per (b, g): as asked, or enough for ~16 tasks per thread (small tasks even out the
    // threads when one is slowed); never more than its chunks.
    int pairs = batch * kvHeads;
    int autoSplits = Math.max(1, (16 * threads + pairs - 1) / Math.max(1, pairs));
    int want = splits > 0 ? splits : autoSplits;
    int tasks = 0;
    for (int b = 0; b < batch; b++) {
      tasks += kvHeads * Math.max(1, Math.min(want, chunks[b]));
    }
    if (taskSeq.length < tasks) {
      taskSeq = new int[tasks];
      taskHead = new int[tasks];
      taskFrom = new int[tasks];
      taskTo = new int[tasks];
    }
    if (remaining.length() < pairs) {
      remaining = new AtomicIntegerArray(pairs);
    }
    int t = 0;
    for (int b = 0; b < batch; b++) {
      int n = chunks[b];
      int parts = Math.max(1, Math.min(want, n));
      for (int g = 0; g < kvHeads; g++) {
        remaining.set(b * kvHeads + g, parts);
        for (int s = 0; s < parts; s++) {
          taskSeq[t] = b;
          taskHead[t] = g;
          taskFrom[t] = (int) ((long) s * n / parts);
          taskTo[t] = (int) ((long) (s + 1) * n / parts);
          t++;
        }
      }
    }
    items = t;
  }

  /** Runs task {@code item} with the running thread's decode buffers. */
  @Override
  protected void runItem(int item, Scratch scratch) {
    if (!(scratch.decode instanceof DecodeWorker)) {
      scratch.decode = new DecodeWorker();
    }
    ((DecodeWorker) scratch.decode).run(this, item);
  }

  /** Drops the references to the call's tensors and cache. */
  void clear() {
    cache = null;
    options = null;
    pipeline.clear();
    q = null;
    out = null;
    lse = null;
  }
}
