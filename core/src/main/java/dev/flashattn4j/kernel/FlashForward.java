package dev.flashattn4j.kernel;

import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.config.MicroKernel;
import dev.flashattn4j.internal.JobPool;
import dev.flashattn4j.internal.Scratch;
import dev.flashattn4j.internal.Simd;
import dev.flashattn4j.internal.Team;
import dev.flashattn4j.internal.TeamJob;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionMask;
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
  private final boolean vector;
  private final MicroKernel micro;
  private final Team team;
  private final boolean ownsTeam;
  private final JobPool<Call> calls = new JobPool<>(Call::new);

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
    this.vector = config.usesVectors();
    this.micro = config.microKernel();
    this.team = team;
    this.ownsTeam = ownsTeam;
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
    Call call = calls.take();
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

  /**
   * One call's state: its tensors, tiles and scale, and the scratch of its calling thread. Reused
   * by later calls once this one has returned (kept by {@link #calls}), so that a stream of calls
   * allocates nothing.
   */
  private final class Call extends TeamJob {
    private final Scratch callerScratch = new Scratch();
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
    private float capFactor;
    private boolean capDivides;

    // Varlen: the packed sequences' first rows (null for a dense batch), and the first item of
    // each sequence (grown, never shrunk).
    private int[] cuQ;
    private int[] cuK;
    private int[] itemStart = new int[0];

    // Per (batch, K/V head): V holds a NaN or ±∞ (grown, never shrunk: no allocation per call).
    private boolean[] valueNotFinite = new boolean[0];

    // The last shape checked, so that repeated calls with the same shapes allocate nothing.
    private final ShapeCache shapes = new ShapeCache();

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
      checkOutput(s, q, k, v, output, lse);
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
      float scale = options.scaleFor(d);
      float cap = options.softcap();
      // Scores in natural units, as the user's float mask is: Q is scaled by scale, or by scale/c
      // before the soft cap c·tanh; the softmax takes differences to base 2 (OnlineSoftmax). A
      // mask of −3.4e38 (Hugging Face's) or a cap of 3e38 stays finite that way.
      qScale = cap > 0 ? scale / cap : scale;
      capFactor = cap;
      // An extreme cap (scale/c beyond 2^±100: c below ~1e-31 or above ~1e29) would make Q·scale/c
      // overflow or lose its bits in subnormals: then Q is scaled by scale alone and the cap pass
      // divides (ScalarMath.softcap), one score at a time.
      capDivides = cap > 0 && !(qScale >= 0x1p-100f && qScale <= 0x1p100f);
      if (capDivides) {
        qScale = scale;
      }
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
      final AttentionShape s = shape;
      final int d = s.headDim();
      final int dv = s.valueDim();
      // The item's sequence: batch entry b, or packed sequence q (varlen) with its own N_q, N_k
      // and first rows in the packed Q and K/V.
      int b;
      int seq;
      int local;
      int nq;
      int nk;
      int qBase;
      int kBase;
      if (cuQ == null) {
        int perBatch = s.kvHeads() * blocksPerHead;
        b = item / perBatch;
        seq = b;
        local = item % perBatch;
        nq = s.queryRows();
        nk = s.keyRows();
        qBase = 0;
        kBase = 0;
      } else {
        b = 0;
        seq = sequenceOf(item);
        local = item - itemStart[seq];
        qBase = cuQ[seq];
        kBase = cuK[seq];
        nq = cuQ[seq + 1] - qBase;
        nk = cuK[seq + 1] - kBase;
      }
      int blocks = (group * nq + br - 1) / br;
      int hk = local / blocks;
      // The last query blocks first: under causality they hold the most keys.
      int qb = blocks - 1 - local % blocks;
      int p0 = qb * br;
      int rows = Math.min(br, group * nq - p0);
      int lanes = vector ? Simd.LANES : 1;
      int rowsPad = (rows + lanes - 1) / lanes * lanes;
      int[] head = ws.rowHead;
      int[] pos = ws.rowPos;
      for (int r = 0; r < rows; r++) {
        head[r] = hk * group + (p0 + r) % group;
        pos[r] = (p0 + r) / group;
      }

      // Qᵀ panel: qt[c·B_r + r] = q[head r, pos r][c] · scale; padding rows are 0.
      float[] qt = ws.qt;
      float[] qd = q.data();
      for (int r = 0; r < rows; r++) {
        int src = q.rowOffset(b, head[r], qBase + pos[r]);
        for (int c = 0, dst = r; c < d; c++, dst += br) {
          qt[dst] = qd[src + c] * qScale;
        }
      }
      for (int r = rows; r < rowsPad; r++) {
        for (int c = 0, dst = r; c < d; c++, dst += br) {
          qt[dst] = 0f;
        }
      }

      OnlineSoftmax sm = ws.softmax;
      sm.reset(rowsPad);
      if (options.hasSinks()) {
        // an attention sink: one more logit in every row, without a value: m = sink, l = e⁰
        for (int r = 0; r < rows; r++) {
          sm.rowMax[r] = options.sink(head[r]);
          sm.rowSum[r] = 1f;
        }
      }
      BlockInfo info = ws.info;
      info.set(options, pos, rows, nq, nk);
      AttentionMask mask = options.mask();
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
        // S ← c·tanh(S/c); S ← S + mask; S ← −∞ outside each row's key range (diagonal tiles)
        if (capDivides) {
          TileMask.softcapDividing(st, br, rowsPad, keys, capFactor);
        } else if (capFactor > 0) {
          TileMask.softcap(st, br, rowsPad, keys, capFactor, vector);
        }
        if (options.hasAlibi()) {
          TileMask.alibi(options, head, pos, j0, st, br, rows, keys, nq, nk);
        }
        if (mask != null) {
          TileMask.apply(mask, b, head, pos, qBase, kBase + j0, st, br, rows, keys);
        }
        if (tile == BlockInfo.Tile.PARTIAL) {
          TileMask.cutRange(info.start, info.end, j0, st, br, rows, keys);
        }
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

      // O_i = Oᵀ / l; LSE_i = m + ln l; a row that saw no key gets O = 0, LSE = −∞; a row that
      // saw a NaN or +∞ score gets NaN, as in PyTorch
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
     * Marks the (batch, K/V head) pairs whose V holds a NaN or ±∞, when some row cannot see some
     * key (a mask, causality or a window): one pass over V, O(N_k·d_v) against the call's
     * O(N_q·N_k·d).
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

  private static void checkOutput(
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
