package dev.flashattn4j.kernel;

import dev.flashattn4j.api.AttentionMask;
import dev.flashattn4j.api.AttentionOptions;
import dev.flashattn4j.api.AttentionResult;
import dev.flashattn4j.api.AttentionShape;
import dev.flashattn4j.tensor.Tensor;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

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
 * <p>An instance owns its threads and workspaces: {@link #close()} it when done (the shared
 * instances of {@link #shared(int)} live as long as the JVM). Calls on one instance run one at a
 * time; use one instance per calling thread for concurrent calls.
 */
public final class FlashForward implements AutoCloseable {

  private static final ConcurrentHashMap<Integer, FlashForward> SHARED = new ConcurrentHashMap<>();

  private final KernelConfig config;
  private final boolean vector;
  private final MicroKernel micro;
  private final Workspace[] workspaces;
  private final WorkerPool pool;
  private final ReentrantLock lock = new ReentrantLock();
  private final AtomicInteger next = new AtomicInteger();

  // The job of the current call, set under the lock before the team runs.
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
  private int items;
  private float qScale;
  private float capFactor;

  // Per (batch, K/V head): V holds a NaN or ±∞ (grown, never shrunk: no allocation per call).
  private boolean[] valueNotFinite = new boolean[0];

  // The last shape checked, so that repeated calls with the same shapes allocate nothing.
  private AttentionShape checkedShape;
  private AttentionMask checkedMask;

  /** A kernel with its own threads and workspaces. */
  public FlashForward(KernelConfig config) {
    this.config = config;
    this.vector = config.usesVectors();
    this.micro = config.microKernel();
    workspaces = new Workspace[config.threads()];
    for (int i = 0; i < workspaces.length; i++) {
      workspaces[i] = new Workspace();
    }
    pool = new WorkerPool(config.threads(), this::work, "flashattn-forward");
  }

  /**
   * A kernel with {@code threads} threads and the default configuration, shared by the whole JVM
   * (created on first use, never closed). Calls on it from several threads run one at a time.
   */
  public static FlashForward shared(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, not " + threads);
    }
    return SHARED.computeIfAbsent(
        threads, t -> new FlashForward(KernelConfig.defaults().withThreads(t)));
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
    lock.lock();
    try {
      AttentionShape s = check(q, k, v, options);
      checkOutput(s, q, k, v, output, lse);
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
      packedRows = group * s.queryRows();
      br = config.tileRows(packedRows, s.keyRows(), d, dv);
      bc = config.tileCols(br, d, dv);
      blocksPerHead = (packedRows + br - 1) / br;
      items = s.batch() * s.kvHeads() * blocksPerHead;
      float scale = options.scaleFor(d);
      float cap = options.softcap();
      // Scores in natural units, as the user's float mask is: Q is scaled by scale, or by scale/c
      // before the soft cap c·tanh; the softmax takes differences to base 2 (OnlineSoftmax). A
      // mask of −3.4e38 (Hugging Face's) or a cap of 3e38 stays finite that way.
      qScale = cap > 0 ? scale / cap : scale;
      capFactor = cap;
      scanValues(s);
      next.set(0);
      pool.run();
    } finally {
      this.q = null;
      this.k = null;
      this.v = null;
      this.out = null;
      this.lse = null;
      this.options = null;
      lock.unlock();
    }
  }

  private AttentionShape check(Tensor q, Tensor k, Tensor v, AttentionOptions options) {
    AttentionShape s = checkedShape;
    if (s != null
        && options != null
        && options.mask() == checkedMask
        && q != null
        && k != null
        && v != null
        && q.batch() == s.batch()
        && k.batch() == s.batch()
        && v.batch() == s.batch()
        && q.heads() == s.queryHeads()
        && k.heads() == s.kvHeads()
        && v.heads() == s.kvHeads()
        && q.rows() == s.queryRows()
        && k.rows() == s.keyRows()
        && v.rows() == s.keyRows()
        && q.cols() == s.headDim()
        && k.cols() == s.headDim()
        && v.cols() == s.valueDim()) {
      return s;
    }
    s = AttentionShape.of(q, k, v, options);
    checkedShape = s;
    checkedMask = options.mask();
    return s;
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

  /** What team member {@code w} runs: items taken in order from the shared counter. */
  private void work(int w) {
    Workspace ws = workspaces[w];
    ws.ensure(br, bc, shape.headDim(), shape.valueDim());
    for (int item = next.getAndIncrement(); item < items; item = next.getAndIncrement()) {
      block(item, ws);
    }
  }

  /** One (batch, K/V head, block of packed query rows): the whole FlashAttention-2 inner loop. */
  private void block(int item, Workspace ws) {
    final AttentionShape s = shape;
    final int nq = s.queryRows();
    final int nk = s.keyRows();
    final int d = s.headDim();
    final int dv = s.valueDim();
    int bk = item / blocksPerHead;
    // The last query blocks first: under causality they hold the most keys.
    int qb = blocksPerHead - 1 - item % blocksPerHead;
    int b = bk / s.kvHeads();
    int hk = bk % s.kvHeads();
    int p0 = qb * br;
    int rows = Math.min(br, packedRows - p0);
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
      int src = q.rowOffset(b, head[r], pos[r]);
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
      int kOff = k.rowOffset(b, hk, j0);
      if (vector) {
        PanelKernel.scores(micro, qt, br, rowsPad, kd, kOff, k.rowStride(), keys, d, st);
      } else {
        PanelKernel.scalar(qt, br, rowsPad, kd, kOff, k.rowStride(), 1, keys, d, st, null);
      }
      // S ← c·tanh(S/c); S ← S + mask; S ← −∞ outside each row's key range (diagonal tiles)
      if (capFactor > 0) {
        TileMask.softcap(st, br, rowsPad, keys, capFactor, vector);
      }
      if (mask != null) {
        TileMask.apply(mask, b, head, pos, j0, st, br, rows, keys);
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
      // Oᵀ = α·Oᵀ + V_jᵀ Pᵀ
      int vOff = v.rowOffset(b, hk, j0);
      float[] alpha = first ? null : sm.alpha;
      if (valueNotFinite[b * s.kvHeads() + hk]) {
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
      float rowLse = first ? Float.NEGATIVE_INFINITY : sm.lse(r);
      lse[(b * s.queryHeads() + head[r]) * nq + pos[r]] = rowLse;
      int dst = out.rowOffset(b, head[r], pos[r]);
      if (rowLse == Float.NEGATIVE_INFINITY || Float.isNaN(rowLse)) {
        float fill = rowLse == Float.NEGATIVE_INFINITY ? 0f : Float.NaN;
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
    int heads = s.batch() * s.kvHeads();
    if (valueNotFinite.length < heads) {
      valueNotFinite = new boolean[heads];
    }
    if (options.mask() == null && !options.hasRangeLimit()) {
      // every row sees every key: a NaN in V reaches every row anyway, as it does in PyTorch
      Arrays.fill(valueNotFinite, 0, heads, false);
      return;
    }
    float[] vd = v.data();
    int dv = s.valueDim();
    for (int b = 0; b < s.batch(); b++) {
      for (int h = 0; h < s.kvHeads(); h++) {
        boolean bad = false;
        for (int j = 0; j < s.keyRows() && !bad; j++) {
          int o = v.rowOffset(b, h, j);
          float acc = 0f;
          for (int c = 0; c < dv; c++) {
            acc += vd[o + c] * 0f; // 0 for every finite value, NaN for NaN and ±∞
          }
          bad = acc != 0f;
        }
        valueNotFinite[b * s.kvHeads() + h] = bad;
      }
    }
  }

  /**
   * The scratch bytes this kernel's threads hold now (each thread's {@link Workspace}), the extra
   * memory of a call beyond its inputs and outputs.
   */
  public long workspaceBytes() {
    long total = 0;
    for (Workspace w : workspaces) {
      total += w.bytes();
    }
    return total;
  }

  /**
   * The bytes one thread's workspace needs for a call of this shape (the documented budget).
   *
   * @param rows the query rows of one K/V head: (H_q / H_kv)·N_q
   * @param keys N_k
   */
  public long workspaceBytesPerThread(int rows, int keys, int d, int dv) {
    int r = config.tileRows(rows, keys, d, dv);
    return Workspace.bytes(r, config.tileCols(r, d, dv), d, dv);
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
    int r = config.tileRows(rows, keys, d, dv);
    return new int[] {r, config.tileCols(r, d, dv)};
  }

  /** Stops this kernel's threads; later calls fail. */
  @Override
  public void close() {
    pool.close();
  }
}
