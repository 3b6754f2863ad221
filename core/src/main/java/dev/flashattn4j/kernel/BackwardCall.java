package dev.flashattn4j.kernel;

import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.config.MicroKernel;
import dev.flashattn4j.internal.ScalarMath;
import dev.flashattn4j.internal.Scratch;
import dev.flashattn4j.internal.Simd;
import dev.flashattn4j.internal.Softmax;
import dev.flashattn4j.internal.Team;
import dev.flashattn4j.internal.TeamJob;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionMask;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionShape;
import java.util.Arrays;

/**
 * One backward call's state, reused by later calls once it has returned ({@link FlashBackward}
 * keeps a pool): the call's tensors and sizes, the work list ({@link BackwardWork}), and the items'
 * loop: a group of query blocks against the sub-chunks of an item's keys, tile by tile.
 */
final class BackwardCall extends TeamJob {
  private final KernelConfig config;
  private final Team team;
  private final boolean vector;
  private final MicroKernel micro;

  BackwardCall(KernelConfig config, Team team) {
    this.config = config;
    this.team = team;
    this.vector = config.usesVectors();
    this.micro = config.microKernel();
  }

  final Scratch callerScratch = new Scratch();
  private AttentionShape shape;
  private Tensor q;
  private Tensor k;
  private Tensor v;
  private Tensor o;
  private float[] lse;
  private Tensor dOut;
  private AttentionOptions options;
  private Tensor dq;
  private Tensor dk;
  private Tensor dv;
  private int br;
  private int bc;
  private int dPad;
  private int dvPad;
  private int group;
  private float scale;
  private float qScale;
  private float cap;
  private final ScorePipeline pipeline = new ScorePipeline();
  private boolean keepCapped; // soft cap with ALiBi or a float mask: keep the capped scores
  private double[] dsinkPartial; // per (sequence, query head): written by its item alone
  private int[] cuQ; // varlen: the packed sequences' first rows, or null
  private int[] cuK;
  private int groupBlocks; // query blocks an item keeps panels for at once
  private int subKeys; // keys of a sub-chunk: the groups' blocks run each sub-chunk in turn
  private float[] dsinks; // the caller's, or null
  private final BackwardWork work = new BackwardWork(); // the items, and the dQ turns

  /**
   * By (sequence, K/V head): whether its K, or the Q or dO rows of its query heads, hold a NaN or
   * ±∞ while some row cannot see some key (a mask, causality, a window, dropout). Its items then
   * run the three gradient products one term at a time, skipping the pairs whose P or dS is 0, so
   * that the non-finite value reaches only the gradients that depend on it through pairs a row can
   * see (docs/SEMANTICS.md); other pairs keep the register blocks and their bits.
   */
  private boolean[] notFinite = new boolean[0];

  // The last shape checked, so that repeated calls with the same shapes allocate nothing.
  private final ShapeCache shapes = new ShapeCache();

  AttentionShape shapeOf(Tensor q, Tensor k, Tensor v, AttentionOptions options) {
    return shapes.of(q, k, v, options);
  }

  void run(
      AttentionShape s,
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
      float[] dsinks,
      int[] cuQ,
      int[] cuK) {
    this.shape = s;
    this.dsinks = dsinks;
    this.cuQ = cuQ;
    this.cuK = cuK;
    this.q = q;
    this.k = k;
    this.v = v;
    this.o = o;
    this.lse = lse;
    this.dOut = dOut;
    this.options = options;
    this.dq = dq;
    this.dk = dk;
    this.dv = dv;
    int d = s.headDim();
    int dvDim = s.valueDim();
    int lanes = vector ? Simd.LANES : 1;
    dPad = (d + lanes - 1) / lanes * lanes;
    dvPad = (dvDim + lanes - 1) / lanes * lanes;
    group = s.groupSize();
    // a dense batch: one sequence per batch entry; varlen: tiles for the longest sequence
    int sequences = cuQ == null ? s.batch() : cuQ.length - 1;
    int longestQueries = cuQ == null ? s.queryRows() : 0;
    int longestKeys = cuQ == null ? s.keyRows() : 0;
    for (int x = 0; cuQ != null && x < sequences; x++) {
      longestQueries = Math.max(longestQueries, cuQ[x + 1] - cuQ[x]);
      longestKeys = Math.max(longestKeys, cuK[x + 1] - cuK[x]);
    }
    int packedRows = group * longestQueries;
    br = Tiles.tileRows(config, Math.max(1, packedRows), Math.max(1, longestKeys), d, dvDim);
    bc = Tiles.tileCols(config, br, d, dvDim);
    pipeline.prepare(options, d);
    scale = pipeline.scale;
    cap = pipeline.cap;
    qScale = pipeline.qScale;
    keepCapped = pipeline.keepsCapped();
    items = work.plan(shape, cuQ, cuK, sequences, group, br, bc);
    scanInputs(sequences);
    groupBlocks =
        Tiles.backwardGroupBlocks(
            config, br, dPad, dvPad, BackwardWork.ceilDiv(packedRows, br), work.longestChunk);
    subKeys = Tiles.backwardSubKeys(config, bc, dPad, dvPad, work.longestChunk);
    int pairs = sequences * s.queryHeads();
    if (dsinks != null) {
      if (dsinkPartial == null || dsinkPartial.length < pairs) {
        dsinkPartial = new double[pairs];
      }
      Arrays.fill(dsinkPartial, 0, pairs, 0);
    } else {
      dsinkPartial = null;
    }
    try {
      team.run(this, callerScratch, Integer.MAX_VALUE);
      if (dsinks != null) {
        // summed over the batch in order: the same bits for any thread count
        for (int h = 0; h < s.queryHeads(); h++) {
          double g = 0;
          for (int x = 0; x < sequences; x++) {
            g += dsinkPartial[x * s.queryHeads() + h];
          }
          dsinks[h] = (float) g;
        }
      }
    } finally {
      this.cuQ = null;
      this.cuK = null;
      this.q = null;
      this.k = null;
      this.v = null;
      this.o = null;
      this.lse = null;
      this.dOut = null;
      this.options = null;
      pipeline.clear();
      this.dq = null;
      this.dk = null;
      this.dv = null;
    }
  }

  /** Fills {@link #notFinite}: one pass over K, Q and dO, O(N·d) against the call's O(N²·d). */
  private void scanInputs(int sequences) {
    AttentionShape s = shape;
    int pairs = sequences * s.kvHeads();
    if (notFinite.length < pairs) {
      notFinite = new boolean[pairs];
    }
    Arrays.fill(notFinite, 0, pairs, false);
    if (options.mask() == null && !options.hasRangeLimit() && !options.dropout().active()) {
      return; // every row sees every key: a non-finite value reaches every gradient anyway
    }
    for (int x = 0; x < sequences; x++) {
      int b = cuQ == null ? x : 0;
      int q0 = cuQ == null ? 0 : cuQ[x];
      int q1 = cuQ == null ? s.queryRows() : cuQ[x + 1];
      int k0 = cuQ == null ? 0 : cuK[x];
      int k1 = cuQ == null ? s.keyRows() : cuK[x + 1];
      for (int hk = 0; hk < s.kvHeads(); hk++) {
        boolean bad = !finite(k, b, hk, k0, k1);
        for (int g = 0; g < group && !bad; g++) {
          int h = hk * group + g;
          bad = !finite(q, b, h, q0, q1) || !finite(dOut, b, h, q0, q1);
        }
        notFinite[x * s.kvHeads() + hk] = bad;
      }
    }
  }

  private static boolean finite(Tensor t, int b, int h, int r0, int r1) {
    float[] a = t.data();
    int cols = t.cols();
    for (int r = r0; r < r1; r++) {
      for (int c = 0, o = t.rowOffset(b, h, r); c < cols; c++) {
        if (!Float.isFinite(a[o + c])) {
          return false;
        }
      }
    }
    return true;
  }

  @Override
  protected void runItem(int item, Scratch scratch) {
    if (!(scratch.backward instanceof BackwardBuffers)) {
      scratch.backward = new BackwardBuffers();
    }
    BackwardBuffers w = (BackwardBuffers) scratch.backward;
    int seq = work.itemSeq[item];
    int hk = work.itemHead[item];
    w.chunk = work.itemChunk[item];
    w.seq = seq;
    w.span.set(shape, cuQ, cuK, seq);
    w.kStart = w.chunk * work.chunkLen[seq];
    w.kEnd = Math.min(w.span.nk, w.kStart + work.chunkLen[seq]);
    w.turnBase = work.turnStart[seq] + hk * BackwardWork.ceilDiv(group * w.span.nq, br);
    w.ensure(
        br,
        bc,
        dPad,
        dvPad,
        work.longestChunk,
        groupBlocks,
        options.dropout().active(),
        keepCapped);
    head(w.span.b, hk, w);
  }

  /**
   * Every query block of (batch b, K/V head hk) against the item's keys, then their dK, dV. The
   * blocks run in groups: a group's panels are loaded once, then each sub-chunk of the keys runs
   * against every block of the group, so that the sub-chunk's K, V, dK and dV stay in cache while
   * the group's blocks pass over them. Each dK row still sums the blocks in order and each dQ row
   * the tiles in order: the bits do not depend on the grouping.
   */
  private void head(int b, int hk, BackwardBuffers w) {
    AttentionShape s = shape;
    int d = s.headDim();
    int dvDim = s.valueDim();
    int packedRows = group * w.span.nq;
    int keys = w.kEnd - w.kStart;
    Arrays.fill(w.dkAcc, 0, keys * dPad, 0f);
    Arrays.fill(w.dvAcc, 0, keys * dvPad, 0f);
    for (int g0 = 0; g0 < packedRows; g0 += groupBlocks * br) {
      int count = Math.min(groupBlocks, BackwardWork.ceilDiv(packedRows - g0, br));
      for (int g = 0; g < count; g++) {
        int p0 = g0 + g * br;
        start(b, hk, p0, Math.min(br, packedRows - p0), w.blocks[g], w);
      }
      for (int c0 = w.kStart; c0 < w.kEnd; c0 += subKeys) {
        int c1 = Math.min(w.kEnd, c0 + subKeys);
        for (int g = 0; g < count; g++) {
          tiles(b, hk, w.blocks[g], c0, c1, w);
        }
      }
      for (int g = 0; g < count; g++) {
        finish(b, w.blocks[g], w);
      }
    }
    float[] dkd = dk.data();
    float[] dvd = dv.data();
    for (int j = 0; j < keys; j++) {
      int ko = dk.rowOffset(b, hk, w.span.kBase + w.kStart + j);
      for (int c = 0; c < d; c++) {
        dkd[ko + c] = w.dkAcc[j * dPad + c] * scale;
      }
      int vo = dv.rowOffset(b, hk, w.span.kBase + w.kStart + j);
      System.arraycopy(w.dvAcc, j * dvPad, dvd, vo, dvDim);
    }
  }

  /**
   * Readies the block of packed query rows [p0, p0 + rows): its rows' heads and positions, the keys
   * it sees in the item's chunk, and, unless it sees none in a chunk after the first, its panels
   * and a zero dQᵀ.
   */
  private void start(int b, int hk, int p0, int rows, QueryBlock blk, BackwardBuffers w) {
    int lanes = vector ? Simd.LANES : 1;
    blk.rows = rows;
    blk.rowsPad = (rows + lanes - 1) / lanes * lanes;
    int[] head = blk.head;
    int[] pos = blk.pos;
    for (int r = 0; r < rows; r++) {
      head[r] = hk * group + (p0 + r) % group;
      pos[r] = (p0 + r) / group;
    }
    BlockInfo info = blk.info;
    info.set(options, pos, rows, w.span.nq, w.span.nk);
    blk.lo = Math.max(info.lo, w.kStart);
    blk.hi = Math.min(info.hi, w.kEnd);
    blk.turn = w.turnBase + p0 / br;
    // the first chunk writes every row's dQ (0 where the row sees no key) and the sinks' parts
    blk.loaded = blk.lo < blk.hi || w.chunk == 0;
    if (blk.loaded) {
      loadPanels(b, blk, w);
      Arrays.fill(blk.dqt, 0, dPad * br, 0f);
    }
  }

  /** The block against the key tiles of [c0, c1) it can see. */
  private void tiles(int b, int hk, QueryBlock blk, int c0, int c1, BackwardBuffers w) {
    int lo = Math.max(blk.lo, c0);
    int hi = Math.min(blk.hi, c1);
    if (lo >= hi) {
      return;
    }
    AttentionShape s = shape;
    int nq = w.span.nq;
    int nk = w.span.nk;
    int d = s.headDim();
    int dvDim = s.valueDim();
    int rows = blk.rows;
    int rowsPad = blk.rowsPad;
    int[] head = blk.head;
    int[] pos = blk.pos;
    BlockInfo info = blk.info;
    AttentionMask mask = options.mask();
    float[] kd = k.data();
    float[] vd = v.data();
    // chunks and sub-chunks start on tile edges, so the tiles are the unsplit call's
    for (int j0 = lo / bc * bc; j0 < hi; j0 += bc) {
      int keys = Math.min(bc, nk - j0);
      BlockInfo.Tile tile = info.classify(j0, keys);
      if (tile == BlockInfo.Tile.SKIP) {
        continue;
      }
      int kOff = k.rowOffset(b, hk, w.span.kBase + j0);
      int vOff = v.rowOffset(b, hk, w.span.kBase + j0);
      // Sᵀ = K Qᵀ (scaled), soft-capped, masked, cut: exactly the forward's scores
      if (vector) {
        PanelKernel.scores(micro, blk.qt, br, rowsPad, kd, kOff, k.rowStride(), keys, d, w.st);
        PanelKernel.scores(
            micro, blk.dot, br, rowsPad, vd, vOff, v.rowStride(), keys, dvDim, w.dst);
      } else {
        PanelKernel.scalar(blk.qt, br, rowsPad, kd, kOff, k.rowStride(), 1, keys, d, w.st, null);
        PanelKernel.scalar(
            blk.dot, br, rowsPad, vd, vOff, v.rowStride(), 1, keys, dvDim, w.dst, null);
      }
      pipeline.capTile(w.st, br, rowsPad, keys, vector);
      // tanh's derivative needs the capped score before ALiBi or a float mask is added to it
      if (keepCapped) {
        System.arraycopy(w.st, 0, w.capt, 0, keys * br);
      }
      pipeline.biasTile(
          w.st, br, rows, keys, b, head, pos, j0, w.span.qBase, w.span.kBase, nq, nk, info, tile);
      // dropout: z = 1/(1 − p) where kept, 0 where dropped, the forward's bits
      if (options.dropout().active()) {
        dropoutTile(w, blk, b, j0, keys);
      }
      // P = exp(S − LSE); dS = P ∘ (z·dPᵀ − D) · cap′; P ← z·P for dV
      probabilitiesAndDs(w, blk, keys, options.dropout().active(), keepCapped ? w.capt : w.st);
      // dV_j += Σ_r P[j, r] dO_r;  dK_j += Σ_r dS[j, r] q_r (into the item's accumulators);
      // dQᵀ += Kᵀ dSᵀ
      int vAt = (j0 - w.kStart) * dvPad;
      int kAt = (j0 - w.kStart) * dPad;
      if (notFinite[w.seq * s.kvHeads() + hk]) {
        // a NaN or ±∞ in K, Q or dO: terms whose P or dS is 0 are skipped (see notFinite)
        PanelKernel.scalarSkippingZeroB(
            blk.dorm, dvPad, dvPad, w.pt, 0, br, 1, keys, rows, w.dvAcc, vAt, w.ones);
        PanelKernel.scalarSkippingZeroB(
            blk.qrm, dPad, dPad, w.dst, 0, br, 1, keys, rows, w.dkAcc, kAt, w.ones);
        PanelKernel.scalarSkippingZeros(
            w.dst, br, rowsPad, kd, kOff, 1, k.rowStride(), d, keys, blk.dqt, w.ones);
      } else if (vector) {
        PanelKernel.scores(
            micro, blk.dorm, dvPad, dvPad, w.pt, 0, br, keys, rows, w.dvAcc, vAt, w.ones);
        PanelKernel.scores(
            micro, blk.qrm, dPad, dPad, w.dst, 0, br, keys, rows, w.dkAcc, kAt, w.ones);
        PanelKernel.accumulate(
            micro, w.dst, br, rowsPad, kd, kOff, k.rowStride(), d, keys, blk.dqt, w.ones);
      } else {
        PanelKernel.scalar(
            blk.dorm, dvPad, dvPad, w.pt, 0, br, 1, keys, rows, w.dvAcc, vAt, w.ones);
        PanelKernel.scalar(blk.qrm, dPad, dPad, w.dst, 0, br, 1, keys, rows, w.dkAcc, kAt, w.ones);
        PanelKernel.scalar(
            w.dst, br, rowsPad, kd, kOff, 1, k.rowStride(), d, keys, blk.dqt, w.ones);
      }
    }
  }

  /**
   * dQ = scale · dQᵀ of the block: the first chunk writes it, the others add their parts in chunk
   * order (a block that saw none of a later chunk's keys just passes the turn on).
   */
  private void finish(int b, QueryBlock blk, BackwardBuffers w) {
    work.awaitTurn(blk.turn, w.chunk, this);
    if (blk.loaded) {
      int d = shape.headDim();
      float[] dqd = dq.data();
      for (int r = 0; r < blk.rows; r++) {
        int at = dq.rowOffset(b, blk.head[r], w.span.qBase + blk.pos[r]);
        if (w.chunk == 0) {
          for (int c = 0, src = r; c < d; c++, src += br) {
            dqd[at + c] = blk.dqt[src] * scale;
          }
        } else {
          for (int c = 0, src = r; c < d; c++, src += br) {
            dqd[at + c] += blk.dqt[src] * scale;
          }
        }
      }
    }
    work.passTurn(blk.turn, w.chunk);
  }

  /** The block's panels: Qᵀ scaled, Q row-major, dOᵀ, dO row-major, D and the LSE per row. */
  private void loadPanels(int b, QueryBlock blk, BackwardBuffers w) {
    AttentionShape s = shape;
    int rows = blk.rows;
    int rowsPad = blk.rowsPad;
    int d = s.headDim();
    int dvDim = s.valueDim();
    float[] qd = q.data();
    float[] od = o.data();
    float[] gd = dOut.data();
    Arrays.fill(blk.qrm, 0, rowsPad * dPad, 0f);
    Arrays.fill(blk.dorm, 0, rowsPad * dvPad, 0f);
    for (int r = 0; r < rowsPad; r++) {
      if (r >= rows) {
        for (int c = 0; c < d; c++) {
          blk.qt[c * br + r] = 0f;
        }
        for (int c = 0; c < dvDim; c++) {
          blk.dot[c * br + r] = 0f;
        }
        blk.lseRow[r] = Float.POSITIVE_INFINITY; // P = 0
        blk.dRow[r] = 0f;
        continue;
      }
      int h = blk.head[r];
      int i = blk.pos[r];
      int qo = q.rowOffset(b, h, w.span.qBase + i);
      for (int c = 0; c < d; c++) {
        float x = qd[qo + c];
        blk.qt[c * br + r] = x * qScale;
        blk.qrm[r * dPad + c] = x;
      }
      int oo = o.rowOffset(b, h, w.span.qBase + i);
      int go = dOut.rowOffset(b, h, w.span.qBase + i);
      float dsum = 0f;
      for (int c = 0; c < dvDim; c++) {
        float g = gd[go + c];
        blk.dot[c * br + r] = g;
        blk.dorm[r * dvPad + c] = g;
        dsum = Math.fma(g, od[oo + c], dsum);
      }
      blk.dRow[r] = dsum;
      float l = lse[(b * s.queryHeads() + h) * s.queryRows() + w.span.qBase + i];
      if (dsinkPartial != null && w.chunk == 0) {
        // the sink's gradient: −P_sink·D, P_sink = e^{sink − LSE}; this (b, h) is this item's
        dsinkPartial[w.seq * s.queryHeads() + h] -=
            (double) Softmax.expShift(options.sink(h), l) * dsum;
      }
      // a row that saw no key (LSE −∞) has P = 0 everywhere: e^(s − ∞) = 0
      blk.lseRow[r] = l == Float.NEGATIVE_INFINITY ? Float.POSITIVE_INFINITY : l;
    }
  }

  /**
   * zt[j·B_r + r] = the dropout factor of (sequence, row r, key j0 + j); 0 in padding rows. A
   * packed sequence of varlen is its own batch entry, as in the forward.
   */
  private void dropoutTile(BackwardBuffers w, QueryBlock blk, int b, int j0, int keys) {
    w.dropout(options.dropout())
        .tile(w.seq, blk.head, blk.pos, j0, w.zt, br, blk.rows, blk.rowsPad, keys, vector, false);
  }

  /**
   * pt = e^(st − LSE) and dst = pt · (z·dst − D) · (1 − (st/c)²), 0 where pt is 0; then, with
   * dropout, pt ← z·pt (the P̃ of dV).
   */
  private void probabilitiesAndDs(
      BackwardBuffers w, QueryBlock blk, int keys, boolean dropout, float[] capped) {
    int rowsPad = blk.rowsPad;
    float[] st = w.st;
    float[] pt = w.pt;
    float[] ds = w.dst;
    float[] lseRow = blk.lseRow;
    float[] dRow = blk.dRow;
    float inv = cap > 0 ? 1f / cap : 0f;
    for (int j = 0; j < keys; j++) {
      int at = j * br;
      int r = 0;
      if (vector) {
        r =
            TileVectors.probabilitiesAndDs(
                st, pt, ds, lseRow, dRow, w.zt, capped, at, rowsPad, dropout, cap, inv);
      }
      for (; r < rowsPad; r++) {
        float sv = st[at + r];
        // a key the row cannot see (−∞) has P = 0 even when the row's LSE is NaN
        float p =
            sv == Float.NEGATIVE_INFINITY ? 0f : ScalarMath.exp2((sv - lseRow[r]) * Softmax.LOG2E);
        float dp = ds[at + r];
        if (dropout) {
          float z = w.zt[at + r];
          dp = dp * z;
          pt[at + r] = p * z;
        } else {
          pt[at + r] = p;
        }
        float g = (dp - dRow[r]) * p;
        if (cap > 0) {
          float t = capped[at + r] * inv;
          g = g * (1f - t * t);
        }
        ds[at + r] = p == 0f ? 0f : g;
      }
    }
  }
}
