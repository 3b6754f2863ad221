package dev.flashattn4j.kernel;

import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.config.MicroKernel;
import dev.flashattn4j.internal.Scratch;
import dev.flashattn4j.internal.Simd;
import dev.flashattn4j.internal.Team;
import dev.flashattn4j.internal.TeamJob;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionShape;
import java.util.Arrays;

/**
 * One forward call's state: its tensors, tiles and score pipeline, and the scratch of its calling
 * thread. Reused by later calls once this one has returned ({@link FlashForward} keeps a pool), so
 * that a stream of calls allocates nothing. Its items are (batch entry or packed sequence, K/V
 * head, block of B_r packed query rows), each the whole FlashAttention-2 inner loop ({@link
 * #block}).
 */
final class ForwardCall extends TeamJob {
  private final KernelConfig config;
  private final Team team;
  private final boolean vector;
  private final MicroKernel micro;
  final Scratch callerScratch = new Scratch();
  private Tensor q;
  private Tensor k;
  private Tensor v;
  private Tensor out;
  private float[] lse;
  private AttentionOptions options;
  private AttentionShape shape;
  private int br;
  private int bc;
  private int blocksPerHead;
  private int group;
  private int packedRows;
  private float qScale;
  private final ScorePipeline pipeline = new ScorePipeline();

  // Varlen: the packed sequences' first rows (null for a dense batch), and the first item of
  // each sequence (grown, never shrunk).
  private int[] cuQ;
  private int[] cuK;
  private int[] itemStart = new int[0];

  // Per (batch, K/V head): V holds a NaN or ±∞ (grown, never shrunk: no allocation per call).
  private boolean[] valueNotFinite = new boolean[0];

  // The last shape checked, so that repeated calls with the same shapes allocate nothing.
  private final ShapeCache shapes = new ShapeCache();

  ForwardCall(KernelConfig config, Team team) {
    this.config = config;
    this.team = team;
    this.vector = config.usesVectors();
    this.micro = config.microKernel();
  }

  void run(
      Tensor q,
      Tensor k,
      Tensor v,
      AttentionOptions options,
      Tensor output,
      float[] lse,
      int[] cuQ,
      int[] cuK,
      int maxThreads) {
    AttentionShape s = check(q, k, v, options);
    FlashForward.checkOutput(s, q, k, v, output, lse);
    this.cuQ = cuQ;
    this.cuK = cuK;
    if (s.outputRows() == 0) {
      return;
    }
    this.q = q;
    this.k = k;
    this.v = v;
    this.out = output;
    this.lse = lse;
    this.options = options;
    this.shape = s;
    int d = s.headDim();
    int dv = s.valueDim();
    // The g = H_q / H_kv query heads that share a K/V head are packed into the rows of one
    // block (row p is query i = p / g of head h_kv·g + p % g), so K and V are read once per
    // group, and a decode step (N_q = 1) fills g lanes instead of one.
    group = s.groupSize();
    if (cuQ == null) {
      packedRows = group * s.queryRows();
      br = Tiles.tileRows(config, packedRows, s.keyRows(), d, dv);
      bc = Tiles.tileCols(config, br, d, dv);
      blocksPerHead = (packedRows + br - 1) / br;
      items = s.batch() * s.kvHeads() * blocksPerHead;
    } else {
      planSequences(s, d, dv);
    }
    qScale = pipeline.prepare(options, d).qScale;
    scanValues(s);
    try {
      team.run(this, callerScratch, maxThreads);
    } finally {
      this.cuQ = null;
      this.cuK = null;
      this.q = null;
      this.k = null;
      this.v = null;
      this.out = null;
      this.lse = null;
      this.options = null;
      pipeline.clear();
    }
  }

  /**
   * Varlen: tiles sized for the longest sequence, and one flat list of (sequence, K/V head, query
   * block) items; itemStart[q] is the first item of sequence q.
   */
  private void planSequences(AttentionShape s, int d, int dv) {
    int sequences = cuQ.length - 1;
    int longestQ = 0;
    int longestK = 0;
    for (int q = 0; q < sequences; q++) {
      longestQ = Math.max(longestQ, cuQ[q + 1] - cuQ[q]);
      longestK = Math.max(longestK, cuK[q + 1] - cuK[q]);
    }
    packedRows = group * longestQ;
    br = Tiles.tileRows(config, Math.max(1, packedRows), Math.max(1, longestK), d, dv);
    bc = Tiles.tileCols(config, br, d, dv);
    if (itemStart.length < sequences + 1) {
      itemStart = new int[sequences + 1];
    }
    long total = 0;
    for (int q = 0; q < sequences; q++) {
      itemStart[q] = (int) total;
      long blocks = ((long) group * (cuQ[q + 1] - cuQ[q]) + br - 1) / br;
      total += blocks * s.kvHeads();
      if (total > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("too many query blocks for one call: " + total);
      }
    }
    itemStart[sequences] = (int) total;
    items = (int) total;
  }

  /** The sequence whose items hold {@code item}: the last q with itemStart[q] ≤ item. */
  private int sequenceOf(int item) {
    int lo = 0;
    int hi = cuQ.length - 1; // itemStart[hi] = items > item
    while (hi - lo > 1) {
      int mid = (lo + hi) >>> 1;
      if (itemStart[mid] <= item) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  @Override
  protected void runItem(int item, Scratch scratch) {
    if (!(scratch.forward instanceof Workspace)) {
      scratch.forward = new Workspace();
    }
    Workspace ws = (Workspace) scratch.forward;
    ws.ensure(br, bc, shape.headDim(), shape.valueDim());
    block(item, ws);
  }

  private AttentionShape check(Tensor q, Tensor k, Tensor v, AttentionOptions options) {
    return shapes.of(q, k, v, options);
  }

  /** One (batch, K/V head, block of packed query rows): the whole FlashAttention-2 inner loop. */
  private void block(int item, Workspace ws) {
    // The item's sequence: batch entry b, or packed sequence q (varlen) with its own N_q, N_k
    // and first rows in the packed Q and K/V.
    int seq;
    int local;
    if (cuQ == null) {
      int perBatch = shape.kvHeads() * blocksPerHead;
      seq = item / perBatch;
      local = item % perBatch;
    } else {
      seq = sequenceOf(item);
      local = item - itemStart[seq];
    }
    SequenceSpan span = ws.span.set(shape, cuQ, cuK, seq);
    int blocks = (group * span.nq + br - 1) / br;
    int hk = local / blocks;
    // The last query blocks first: under causality they hold the most keys.
    int p0 = (blocks - 1 - local % blocks) * br;
    int rows = Math.min(br, group * span.nq - p0);
    int lanes = vector ? Simd.LANES : 1;
    int rowsPad = (rows + lanes - 1) / lanes * lanes;
    for (int r = 0; r < rows; r++) {
      ws.rowHead[r] = hk * group + (p0 + r) % group;
      ws.rowPos[r] = (p0 + r) / group;
    }
    loadQ(ws, rows, rowsPad);
    startRows(ws, rows, rowsPad);
    ws.info.set(options, ws.rowPos, rows, span.nq, span.nk);
    boolean sawKeys = keyTiles(ws, seq, hk, rows, rowsPad);
    writeRows(ws, sawKeys, rows);
  }

  /** The Qᵀ panel: qt[c·B_r + r] = q[head r, pos r][c] · qScale; padding rows are 0. */
  private void loadQ(Workspace ws, int rows, int rowsPad) {
    int d = shape.headDim();
    float[] qt = ws.qt;
    float[] qd = q.data();
    for (int r = 0; r < rows; r++) {
      int src = q.rowOffset(ws.span.b, ws.rowHead[r], ws.span.qBase + ws.rowPos[r]);
      for (int c = 0, dst = r; c < d; c++, dst += br) {
        qt[dst] = qd[src + c] * qScale;
      }
    }
    for (int r = rows; r < rowsPad; r++) {
      for (int c = 0, dst = r; c < d; c++, dst += br) {
        qt[dst] = 0f;
      }
    }
  }

  /** m = −∞, l = 0 for every row; with attention sinks, one more logit without a value. */
  private void startRows(Workspace ws, int rows, int rowsPad) {
    OnlineSoftmax sm = ws.softmax;
    sm.reset(rowsPad);
    if (options.hasSinks()) {
      // an attention sink: one more logit in every row, without a value: m = sink, l = e⁰
      for (int r = 0; r < rows; r++) {
        sm.rowMax[r] = options.sink(ws.rowHead[r]);
        sm.rowSum[r] = 1f;
      }
    }
  }

  /**
   * The key tiles the block's rows can see, each through the score pipeline into the online softmax
   * and Oᵀ.
   *
   * @return false when no tile was visible
   */
  private boolean keyTiles(Workspace ws, int seq, int hk, int rows, int rowsPad) {
    final AttentionShape s = shape;
    final int d = s.headDim();
    final int dv = s.valueDim();
    final SequenceSpan span = ws.span;
    final int b = span.b;
    final int nk = span.nk;
    final int kBase = span.kBase;
    int[] head = ws.rowHead;
    int[] pos = ws.rowPos;
    BlockInfo info = ws.info;
    OnlineSoftmax sm = ws.softmax;
    float[] qt = ws.qt;
    float[] st = ws.s;
    float[] ot = ws.ot;
    float[] kd = k.data();
    float[] vd = v.data();
    boolean first = true;
    for (int j0 = info.lo / bc * bc; j0 < info.hi; j0 += bc) {
      int keys = Math.min(bc, nk - j0);
      BlockInfo.Tile tile = info.classify(j0, keys);
      if (tile == BlockInfo.Tile.SKIP) {
        continue;
      }
      // Sᵀ = K_j Qᵢᵀ (scaled scores, natural units)
      int kOff = k.rowOffset(b, hk, kBase + j0);
      if (vector) {
        PanelKernel.scores(micro, qt, br, rowsPad, kd, kOff, k.rowStride(), keys, d, st);
      } else {
        PanelKernel.scalar(qt, br, rowsPad, kd, kOff, k.rowStride(), 1, keys, d, st, null);
      }
      // S ← c·tanh(S/c); S ← S + ALiBi + mask; S ← −∞ outside each row's key range
      pipeline.capTile(st, br, rowsPad, keys, vector);
      pipeline.biasTile(
          st, br, rows, keys, b, head, pos, j0, span.qBase, kBase, span.nq, nk, info, tile);
      // m_new = max(m, rowmax S); P = exp2(S − m_new); l = α·l + rowsum P
      if (vector) {
        sm.update(st, br, rowsPad, keys);
      } else {
        sm.updateScalar(st, br, rowsPad, keys);
      }
      // P ← P ∘ Z/(1 − p) (training): after the running sum took the undropped P; the mask's
      // batch index is the sequence's (a packed sequence of varlen is its own batch entry)
      if (options.dropout().active()) {
        ws.dropout(options.dropout())
            .tile(seq, head, pos, j0, st, br, rows, rowsPad, keys, vector, true);
      }
      // Oᵀ = α·Oᵀ + V_jᵀ Pᵀ
      int vOff = v.rowOffset(b, hk, kBase + j0);
      float[] alpha = first ? null : sm.alpha;
      if (valueNotFinite[seq * s.kvHeads() + hk]) {
        // V holds a NaN or ±∞: a key whose weight is 0 (one the row cannot see) must not add
        // 0·NaN = NaN to the row, so the products run one at a time and skip p = 0
        PanelKernel.scalarSkippingZeros(
            st, br, rowsPad, vd, vOff, 1, v.rowStride(), dv, keys, ot, alpha);
      } else if (vector) {
        PanelKernel.accumulate(
            micro, st, br, rowsPad, vd, vOff, v.rowStride(), dv, keys, ot, alpha);
      } else {
        PanelKernel.scalar(st, br, rowsPad, vd, vOff, 1, v.rowStride(), dv, keys, ot, alpha);
      }
      first = false;
    }
    return !first;
  }

  /**
   * O = Oᵀ / l and LSE = m + ln l of the block's rows; a row that saw no key gets O = 0 and LSE =
   * −∞, a row that saw a NaN or +∞ score NaN, as in PyTorch.
   */
  private void writeRows(Workspace ws, boolean sawKeys, int rows) {
    final AttentionShape s = shape;
    final int dv = s.valueDim();
    final int b = ws.span.b;
    final int qBase = ws.span.qBase;
    int[] head = ws.rowHead;
    int[] pos = ws.rowPos;
    OnlineSoftmax sm = ws.softmax;
    float[] ot = ws.ot;
    boolean first = !sawKeys;
    float[] od = out.data();
    for (int r = 0; r < rows; r++) {
      // (with a sink, a row that saw no key has LSE = sink and O = 0)
      float rowLse = first && !options.hasSinks() ? Float.NEGATIVE_INFINITY : sm.lse(r);
      lse[(b * s.queryHeads() + head[r]) * s.queryRows() + qBase + pos[r]] = rowLse;
      int dst = out.rowOffset(b, head[r], qBase + pos[r]);
      if (first || rowLse == Float.NEGATIVE_INFINITY || Float.isNaN(rowLse)) {
        float fill = Float.isNaN(rowLse) ? Float.NaN : 0f;
        for (int c = 0; c < dv; c++) {
          od[dst + c] = fill;
        }
      } else {
        float inv = 1f / sm.rowSum[r];
        for (int c = 0, src = r; c < dv; c++, src += br) {
          od[dst + c] = ot[src] * inv;
        }
      }
    }
  }

  /**
   * Marks the (batch, K/V head) pairs whose V holds a NaN or ±∞, when some row cannot see some key
   * (a mask, causality or a window): one pass over V, O(N_k·d_v) against the call's O(N_q·N_k·d).
   */
  private void scanValues(AttentionShape s) {
    int sequences = cuQ == null ? s.batch() : cuQ.length - 1;
    int heads = sequences * s.kvHeads();
    if (valueNotFinite.length < heads) {
      valueNotFinite = new boolean[heads];
    }
    if (options.mask() == null && !options.hasRangeLimit() && !options.dropout().active()) {
      // every row sees every key of its sequence: a NaN in V reaches every row anyway, as it
      // does in PyTorch
      Arrays.fill(valueNotFinite, 0, heads, false);
      return;
    }
    float[] vd = v.data();
    int dv = s.valueDim();
    for (int seq = 0; seq < sequences; seq++) {
      int b = cuQ == null ? seq : 0;
      int from = cuQ == null ? 0 : cuK[seq];
      int to = cuQ == null ? s.keyRows() : cuK[seq + 1];
      for (int h = 0; h < s.kvHeads(); h++) {
        boolean bad = false;
        for (int j = from; j < to && !bad; j++) {
          int o = v.rowOffset(b, h, j);
          // an exponent of all ones (NaN, ±∞) carries into the sign bit: (e + 1)·2²³ ≥ 2³¹;
          // integer ORs, which the JIT vectorizes, instead of a chain of float adds
          int acc = 0;
          for (int c = 0; c < dv; c++) {
            acc |= (Float.floatToRawIntBits(vd[o + c]) & 0x7F80_0000) + 0x0080_0000;
          }
          bad = acc < 0;
        }
        valueNotFinite[seq * s.kvHeads() + h] = bad;
      }
    }
  }
}
