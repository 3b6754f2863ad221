package dev.flashattn4j.kernel;

import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.config.MicroKernel;
import dev.flashattn4j.internal.DropoutBits;
import dev.flashattn4j.internal.JobPool;
import dev.flashattn4j.internal.ScalarMath;
import dev.flashattn4j.internal.Scratch;
import dev.flashattn4j.internal.Simd;
import dev.flashattn4j.internal.Softmax;
import dev.flashattn4j.internal.Team;
import dev.flashattn4j.internal.TeamJob;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionGradients;
import dev.flashattn4j.values.AttentionMask;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionShape;
import dev.flashattn4j.values.Dropout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * The backward pass of attention (FlashAttention-2's, on the CPU): from Q, K, V, the forward's O
 * and LSE, and dO, the gradients dQ, dK and dV, recomputing the scores tile by tile instead of
 * storing the N_q × N_k attention matrix. For a block of B_r query rows and a tile of B_c keys:
 *
 * <pre>
 *   S = scale·Q Kᵀ (soft-capped, masked)     P = exp(S − LSE)           (as the forward computed)
 *   dP = dO Vᵀ                                dS = P ∘ (dP − D) · cap′    D = rowsum(dO ∘ O)
 *   dV += Pᵀ dO      dK += dSᵀ Q · scale      dQ += dS K · scale
 * </pre>
 *
 * with cap′ = 1 − (S/c)² under a soft cap c. The products run on the forward's register-blocked
 * micro-kernels ({@link PanelKernel}), SIMD over the rows of the block.
 *
 * <p>Work is one item per (batch, K/V head, key chunk): the item runs its query blocks in order and
 * its key tiles in order, accumulating dK and dV of its keys in scratch (O(chunk·d) per thread) and
 * dQ of a block in a panel. When the chunk's K, V, dK and dV outgrow a few L2s, the item loads the
 * panels of a group of blocks at once and runs each sub-chunk of its keys against every block of
 * the group ({@link Tiles#backwardGroupBlocks}), so that a thread keeps a bounded set hot instead
 * of sweeping all its keys once per block (9–10% faster at N = 4096, d = 128); every sum keeps its
 * order, so the bits are the same; the G query heads that share the K/V head are packed in its rows
 * (GQA), so dK and dV sum over them without any reduction. With many (batch, K/V head) pairs the
 * chunk is every key. With few ({@link #chunkCount}: a function of the shape alone, never of the
 * threads) the keys are cut into chunks of at least {@value #MIN_CHUNK_KEYS}, so that the cores
 * have work, and the chunks add their part of a block's dQ in chunk order: chunk c waits for chunk
 * c − 1 to have added its part. Items are claimed in order, chunk 0 of every pair first, so the one
 * it waits for is running or done (done long before, when there are several pairs). No atomics on
 * the gradients and no order that depends on scheduling: the gradients have the same bits for any
 * thread count. Tiles no row can see (causal, window) are skipped as in the forward.
 */
public final class FlashBackward {

  /**
   * Fewer (sequence, K/V head) pairs than this cut their keys into chunks: twice the machine's
   * cores, read once (as the tile sizes are chosen from its caches), and at least 4. Never the
   * engine's threads, so the bits do not depend on them. Measured on 2 cores: cutting H = 8 into 16
   * items cost 2–5% on 2 threads, while H = 1 went from one busy core to two.
   */
  static final int SPLIT_BELOW = Math.max(4, 2 * Runtime.getRuntime().availableProcessors());

  /** The fewest keys of a chunk: below that, reloading a block's panels per chunk would show. */
  static final int MIN_CHUNK_KEYS = 512;

  private static final VarHandle TURN = MethodHandles.arrayElementVarHandle(int[].class);

  /**
   * How many key chunks each (sequence, K/V head) of a call with {@code pairs} such pairs and
   * {@code nk} keys is cut into: 1 from {@value #SPLIT_BELOW} pairs on, else enough for that many
   * items, with chunks of at least {@value #MIN_CHUNK_KEYS} keys.
   */
  static int chunkCount(int pairs, int nk) {
    if (pairs >= SPLIT_BELOW || nk <= MIN_CHUNK_KEYS) {
      return 1;
    }
    return Math.min(ceilDiv(SPLIT_BELOW, pairs), ceilDiv(nk, MIN_CHUNK_KEYS));
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }

  private final KernelConfig config;
  private final boolean vector;
  private final MicroKernel micro;
  private final Team team;
  private final JobPool<Call> calls = new JobPool<>(Call::new);

  /** A backward kernel on an engine's team. */
  public FlashBackward(KernelConfig config, Team team) {
    if (config == null || team == null) {
      throw new IllegalArgumentException("config and team must not be null");
    }
    this.config = config;
    this.vector = config.usesVectors();
    this.micro = config.microKernel();
    this.team = team;
  }

  /**
   * The gradients into new tensors with the ranks of q, k and v.
   *
   * @param o the forward's output (B, H_q, N_q, d_v)
   * @param lse the forward's LSE, B·H_q·N_q floats
   * @param dOut the gradient of the loss with respect to O, (B, H_q, N_q, d_v)
   */
  public AttentionGradients backward(
      Tensor q, Tensor k, Tensor v, Tensor o, float[] lse, Tensor dOut, AttentionOptions options) {
    AttentionShape s = AttentionShape.of(q, k, v, options);
    Tensor dq = Tensor.zeros(q.shape());
    Tensor dk = Tensor.zeros(k.shape());
    Tensor dv = Tensor.zeros(v.shape());
    float[] dsinks = options.hasSinks() ? new float[s.queryHeads()] : null;
    backward(q, k, v, o, lse, dOut, options, dq, dk, dv, dsinks);
    return new AttentionGradients(dq, dk, dv, dsinks);
  }

  /**
   * {@link #backward(Tensor, Tensor, Tensor, Tensor, float[], Tensor, AttentionOptions, Tensor,
   * Tensor, Tensor, float[])} without the sinks' gradient.
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
    backward(q, k, v, o, lse, dOut, options, dq, dk, dv, null);
  }

  /**
   * The gradients into caller-owned tensors (any strides, overwritten): allocates nothing once
   * warmed up with these shapes.
   *
   * @param dsinks H_q floats for the sinks' gradient (overwritten), or null not to compute it
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
    run(q, k, v, o, lse, dOut, null, null, options, dq, dk, dv, dsinks);
  }

  private static void check(
      AttentionShape s,
      Tensor q,
      Tensor k,
      Tensor v,
      Tensor o,
      float[] lse,
      Tensor dOut,
      Tensor dq,
      Tensor dk,
      Tensor dv) {
    if (o == null || lse == null || dOut == null || dq == null || dk == null || dv == null) {
      throw new IllegalArgumentException("o, lse, dOut, dq, dk and dv must not be null");
    }
    sameShape("o", o, s.batch(), s.queryHeads(), s.queryRows(), s.valueDim());
    sameShape("dOut", dOut, s.batch(), s.queryHeads(), s.queryRows(), s.valueDim());
    sameShape("dq", dq, s.batch(), s.queryHeads(), s.queryRows(), s.headDim());
    sameShape("dk", dk, s.batch(), s.kvHeads(), s.keyRows(), s.headDim());
    sameShape("dv", dv, s.batch(), s.kvHeads(), s.keyRows(), s.valueDim());
    if (lse.length != s.outputRows()) {
      throw new IllegalArgumentException(
          "lse has " + lse.length + " floats, needs B·H_q·N_q = " + s.outputRows());
    }
    checkGradient(dq, q, k, v, o, dOut);
    checkGradient(dk, q, k, v, o, dOut);
    checkGradient(dv, q, k, v, o, dOut);
    if (dq.data() == dk.data() || dq.data() == dv.data() || dk.data() == dv.data()) {
      throw new IllegalArgumentException("dq, dk and dv must be three different arrays");
    }
  }

  /**
   * The backward of varlen attention: sequence x of the packed batch is rows [cuQ[x], cuQ[x + 1])
   * of Q, O, dO, dQ and rows [cuK[x], cuK[x + 1]) of K, V, dK, dV; one item per (sequence, K/V
   * head). The offsets must have been checked ({@code VarlenAttention.check}).
   *
   * @param lse the varlen forward's LSE, (H_q, total_q) row-major
   * @param dsinks H_q floats for the sinks' gradient (summed over the sequences), or null
   */
  public void varlen(
      Tensor q,
      Tensor k,
      Tensor v,
      Tensor o,
      float[] lse,
      Tensor dOut,
      int[] cuQ,
      int[] cuK,
      AttentionOptions options,
      Tensor dq,
      Tensor dk,
      Tensor dv,
      float[] dsinks) {
    run(q, k, v, o, lse, dOut, cuQ, cuK, options, dq, dk, dv, dsinks);
  }

  /** Checks a call (before anything is written) and runs it on a pooled call object. */
  private void run(
      Tensor q,
      Tensor k,
      Tensor v,
      Tensor o,
      float[] lse,
      Tensor dOut,
      int[] cuQ,
      int[] cuK,
      AttentionOptions options,
      Tensor dq,
      Tensor dk,
      Tensor dv,
      float[] dsinks) {
    if (team.closed()) {
      throw new IllegalStateException("the engine was closed");
    }
    Call call = calls.take();
    try {
      AttentionShape s = call.shapeOf(q, k, v, options);
      check(s, q, k, v, o, lse, dOut, dq, dk, dv);
      if (dsinks != null && (!options.hasSinks() || dsinks.length != s.queryHeads())) {
        throw new IllegalArgumentException(
            "dsinks needs H_q = " + s.queryHeads() + " floats and options with sinks");
      }
      call.run(s, q, k, v, o, lse, dOut, options, dq, dk, dv, dsinks, cuQ, cuK);
    } finally {
      calls.give(call);
    }
  }

  /** The scratch bytes of the callers' pooled call objects (the workers' are their team's). */
  public long scratchBytes() {
    long[] total = {0};
    calls.forEachMade(c -> total[0] += c.callerScratch.bytes());
    return total[0];
  }

  private static void checkGradient(Tensor g, Tensor q, Tensor k, Tensor v, Tensor o, Tensor dOut) {
    float[] a = g.data();
    if (a == q.data() || a == k.data() || a == v.data() || a == o.data() || a == dOut.data()) {
      throw new IllegalArgumentException("dq, dk and dv must not share an array with the inputs");
    }
    if (FlashForward.overlapsItself(g)) {
      throw new IllegalArgumentException(g + " is a view whose elements overlap");
    }
  }

  private static void sameShape(String name, Tensor t, int b, int h, int n, int d) {
    if (t.batch() != b || t.heads() != h || t.rows() != n || t.cols() != d) {
      throw new IllegalArgumentException(
          name
              + " "
              + Arrays.toString(t.shape())
              + " must be ("
              + b
              + ", "
              + h
              + ", "
              + n
              + ", "
              + d
              + ")");
    }
  }

  /** One thread's scratch: the panels of a block, the tiles, dK and dV of an item's keys. */
  static final class Buffers implements Scratch.Sized {
    QueryBlock[] blocks = new QueryBlock[0]; // the query blocks of a group, with their panels
    float[] st = new float[0]; // Sᵀ: [j·B_r + r]
    float[] pt = new float[0]; // Pᵀ
    float[] dst = new float[0]; // dPᵀ, then dSᵀ
    float[] zt = new float[0]; // the dropout factors of the tile
    float[] capt = new float[0]; // the capped scores before a float mask
    DropoutBits dropout;

    DropoutBits dropout(Dropout d) {
      if (dropout == null) {
        dropout = new DropoutBits(d.p(), d.seed(), d.offset());
      } else if (!dropout.draws(d.p(), d.seed(), d.offset())) {
        dropout.reset(d.p(), d.seed(), d.offset());
      }
      return dropout;
    }

    float[] dkAcc = new float[0]; // the item's dK: [j·dPad + c]
    float[] dvAcc = new float[0]; // the item's dV: [j·dvPad + c]
    float[] ones = new float[0];
    // the item's sequence: batch entry b (or 0 for varlen), its first rows and sizes
    int b;
    int seq;
    int qBase;
    int kBase;
    int nq;
    int nk;
    // the item's key chunk [kStart, kEnd), its index, and its sequence and head's first turn
    int chunk;
    int kStart;
    int kEnd;
    int turnBase;

    /**
     * Makes room for the call's tiles; the dropout factors and the capped scores only when the call
     * needs them.
     */
    void ensure(
        int br,
        int bc,
        int dPad,
        int dvPad,
        int keys,
        int groupBlocks,
        boolean dropout,
        boolean keepCapped) {
      if (blocks.length < groupBlocks) {
        QueryBlock[] more = Arrays.copyOf(blocks, groupBlocks);
        for (int g = blocks.length; g < groupBlocks; g++) {
          more[g] = new QueryBlock();
        }
        blocks = more;
      }
      for (int g = 0; g < groupBlocks; g++) {
        blocks[g].ensure(br, dPad, dvPad);
      }
      st = grow(st, bc * br);
      pt = grow(pt, bc * br);
      dst = grow(dst, bc * br);
      if (dropout) {
        zt = grow(zt, bc * br);
      }
      if (keepCapped) {
        capt = grow(capt, bc * br);
      }
      dkAcc = grow(dkAcc, keys * dPad);
      dvAcc = grow(dvAcc, keys * dvPad);
      int onesNeeded = Math.max(br, Math.max(dPad, dvPad));
      if (ones.length < onesNeeded) {
        ones = new float[onesNeeded];
        Arrays.fill(ones, 1f);
      }
    }

    static float[] grow(float[] a, int n) {
      return a.length < n ? new float[n] : a;
    }

    @Override
    public long bytes() {
      long floats =
          (long) st.length
              + pt.length
              + dst.length
              + ones.length
              + dkAcc.length
              + dvAcc.length
              + zt.length
              + capt.length;
      long bytes = Float.BYTES * floats;
      for (QueryBlock blk : blocks) {
        bytes += blk.bytes();
      }
      return bytes;
    }
  }

  /**
   * A block of B_r packed query rows and its panels, kept while an item runs the key sub-chunks of
   * the block's group.
   */
  static final class QueryBlock {
    float[] qt = new float[0]; // Qᵀ, scaled: [c·B_r + r]
    float[] qrm = new float[0]; // Q row-major, unscaled: [r·dPad + c]
    float[] dot = new float[0]; // dOᵀ: [c·B_r + r]
    float[] dorm = new float[0]; // dO row-major: [r·dvPad + c]
    float[] dqt = new float[0]; // dQᵀ of the block: [c·B_r + r]
    float[] lseRow = new float[0]; // the LSE of each row (+∞ for a row that saw no key)
    float[] dRow = new float[0]; // D = rowsum(dO ∘ O)
    int[] head = new int[0];
    int[] pos = new int[0];
    BlockInfo info = new BlockInfo(0);
    int rows;
    int rowsPad;
    int lo; // the keys it sees in the item's chunk: [lo, hi)
    int hi;
    int turn; // its turn among the chunks that add to its dQ
    boolean loaded; // false: it sees no key of the chunk, and the chunk is not the first

    void ensure(int br, int dPad, int dvPad) {
      qt = Buffers.grow(qt, dPad * br);
      qrm = Buffers.grow(qrm, br * dPad);
      dot = Buffers.grow(dot, dvPad * br);
      dorm = Buffers.grow(dorm, br * dvPad);
      dqt = Buffers.grow(dqt, dPad * br);
      if (lseRow.length < br) {
        lseRow = new float[br];
        dRow = new float[br];
        head = new int[br];
        pos = new int[br];
        info = new BlockInfo(br);
      }
    }

    long bytes() {
      long floats =
          (long) qt.length
              + qrm.length
              + dot.length
              + dorm.length
              + dqt.length
              + 2L * lseRow.length;
      return Float.BYTES * floats + Integer.BYTES * 4L * head.length;
    }
  }

  /** One call's state, reused by later calls once it has returned. */
  private final class Call extends TeamJob {
    private final Scratch callerScratch = new Scratch();
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
    private boolean capDivides;
    private boolean keepCapped; // soft cap with ALiBi or a float mask: keep the capped scores
    private double[] dsinkPartial; // per (sequence, query head): written by its item alone
    private int[] cuQ; // varlen: the packed sequences' first rows, or null
    private int[] cuK;
    private int longestChunk;
    private int groupBlocks; // query blocks an item keeps panels for at once
    private int subKeys; // keys of a sub-chunk: the groups' blocks run each sub-chunk in turn
    private float[] dsinks; // the caller's, or null
    // per sequence: key chunks, keys per chunk, first turn
    private int[] chunks = new int[0];
    private int[] chunkLen = new int[0];
    private int[] turnStart = new int[1];
    // per item: its sequence, K/V head and key chunk
    private int[] itemSeq = new int[0];

    /**
     * By (sequence, K/V head): whether its K, or the Q or dO rows of its query heads, hold a NaN or
     * ±∞ while some row cannot see some key (a mask, causality, a window, dropout). Its items then
     * run the three gradient products one term at a time, skipping the pairs whose P or dS is 0, so
     * that the non-finite value reaches only the gradients that depend on it through pairs a row
     * can see (docs/SEMANTICS.md); other pairs keep the register blocks and their bits.
     */
    private boolean[] notFinite = new boolean[0];

    private int[] itemHead = new int[0];
    private int[] itemChunk = new int[0];
    // per (sequence, K/V head, query block): the chunk whose part of dQ goes in next; null when
    // no sequence is cut
    private int[] turns;
    private int[] turnArray = new int[0];

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
      scale = options.scaleFor(d);
      cap = options.softcap();
      qScale = cap > 0 ? scale / cap : scale;
      AttentionMask m = options.mask();
      keepCapped = cap > 0 && (options.hasAlibi() || m != null && !m.isBoolean());
      capDivides = cap > 0 && !(qScale >= 0x1p-100f && qScale <= 0x1p100f);
      if (capDivides) {
        qScale = scale;
      }
      plan(sequences);
      scanInputs(sequences);
      groupBlocks =
          Tiles.backwardGroupBlocks(config, br, dPad, dvPad, ceilDiv(packedRows, br), longestChunk);
      subKeys = Tiles.backwardSubKeys(config, bc, dPad, dvPad, longestChunk);
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

    /**
     * The items: (sequence, K/V head, key chunk), chunk 0 of every pair first, then chunk 1, and so
     * on, so that a chunk's predecessor is always claimed before it (long before, when there are
     * several pairs, so that it has added its parts of dQ by the time they are needed); and the
     * turns of the ordered dQ sums where a sequence is cut.
     */
    private void plan(int sequences) {
      AttentionShape s = shape;
      int pairs = sequences * s.kvHeads();
      if (chunks.length < sequences) {
        chunks = new int[sequences];
        chunkLen = new int[sequences];
        turnStart = new int[sequences + 1];
      }
      boolean cut = false;
      longestChunk = 0;
      int mostChunks = 0;
      int count = 0;
      for (int x = 0; x < sequences; x++) {
        int nq = cuQ == null ? s.queryRows() : cuQ[x + 1] - cuQ[x];
        int nk = cuK == null ? s.keyRows() : cuK[x + 1] - cuK[x];
        int c = chunkCount(pairs, nk);
        int len = nk;
        if (c > 1) {
          len = ceilDiv(ceilDiv(nk, c), bc) * bc; // chunks start on tile edges
          c = ceilDiv(nk, len);
          cut |= c > 1;
        }
        chunks[x] = c;
        chunkLen[x] = len;
        longestChunk = Math.max(longestChunk, len);
        mostChunks = Math.max(mostChunks, c);
        count += s.kvHeads() * c;
        turnStart[x + 1] = turnStart[x] + s.kvHeads() * ceilDiv(group * nq, br);
      }
      if (itemSeq.length < count) {
        itemSeq = new int[count];
        itemHead = new int[count];
        itemChunk = new int[count];
      }
      int n = 0;
      for (int c = 0; c < mostChunks; c++) {
        for (int x = 0; x < sequences; x++) {
          for (int hk = 0; c < chunks[x] && hk < s.kvHeads(); hk++, n++) {
            itemSeq[n] = x;
            itemHead[n] = hk;
            itemChunk[n] = c;
          }
        }
      }
      items = n;
      turns = null;
      if (cut) {
        int t = turnStart[sequences];
        if (turnArray.length < t) {
          turnArray = new int[t];
        }
        Arrays.fill(turnArray, 0, t, 0); // published to the helpers when the team opens the call
        turns = turnArray;
      }
    }

    @Override
    protected void runItem(int item, Scratch scratch) {
      if (!(scratch.backward instanceof Buffers)) {
        scratch.backward = new Buffers();
      }
      Buffers w = (Buffers) scratch.backward;
      int seq = itemSeq[item];
      int hk = itemHead[item];
      w.chunk = itemChunk[item];
      w.seq = seq;
      if (cuQ == null) {
        w.b = seq;
        w.qBase = 0;
        w.kBase = 0;
        w.nq = shape.queryRows();
        w.nk = shape.keyRows();
      } else {
        w.b = 0;
        w.qBase = cuQ[seq];
        w.kBase = cuK[seq];
        w.nq = cuQ[seq + 1] - w.qBase;
        w.nk = cuK[seq + 1] - w.kBase;
      }
      w.kStart = w.chunk * chunkLen[seq];
      w.kEnd = Math.min(w.nk, w.kStart + chunkLen[seq]);
      w.turnBase = turnStart[seq] + hk * ceilDiv(group * w.nq, br);
      w.ensure(
          br, bc, dPad, dvPad, longestChunk, groupBlocks, options.dropout().active(), keepCapped);
      head(w.b, hk, w);
    }

    /**
     * Every query block of (batch b, K/V head hk) against the item's keys, then their dK, dV. The
     * blocks run in groups: a group's panels are loaded once, then each sub-chunk of the keys runs
     * against every block of the group, so that the sub-chunk's K, V, dK and dV stay in cache while
     * the group's blocks pass over them. Each dK row still sums the blocks in order and each dQ row
     * the tiles in order: the bits do not depend on the grouping.
     */
    private void head(int b, int hk, Buffers w) {
      AttentionShape s = shape;
      int d = s.headDim();
      int dvDim = s.valueDim();
      int packedRows = group * w.nq;
      int keys = w.kEnd - w.kStart;
      Arrays.fill(w.dkAcc, 0, keys * dPad, 0f);
      Arrays.fill(w.dvAcc, 0, keys * dvPad, 0f);
      for (int g0 = 0; g0 < packedRows; g0 += groupBlocks * br) {
        int count = Math.min(groupBlocks, ceilDiv(packedRows - g0, br));
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
        int ko = dk.rowOffset(b, hk, w.kBase + w.kStart + j);
        for (int c = 0; c < d; c++) {
          dkd[ko + c] = w.dkAcc[j * dPad + c] * scale;
        }
        int vo = dv.rowOffset(b, hk, w.kBase + w.kStart + j);
        System.arraycopy(w.dvAcc, j * dvPad, dvd, vo, dvDim);
      }
    }

    /**
     * Readies the block of packed query rows [p0, p0 + rows): its rows' heads and positions, the
     * keys it sees in the item's chunk, and, unless it sees none in a chunk after the first, its
     * panels and a zero dQᵀ.
     */
    private void start(int b, int hk, int p0, int rows, QueryBlock blk, Buffers w) {
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
      info.set(options, pos, rows, w.nq, w.nk);
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
    private void tiles(int b, int hk, QueryBlock blk, int c0, int c1, Buffers w) {
      int lo = Math.max(blk.lo, c0);
      int hi = Math.min(blk.hi, c1);
      if (lo >= hi) {
        return;
      }
      AttentionShape s = shape;
      int nq = w.nq;
      int nk = w.nk;
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
        int kOff = k.rowOffset(b, hk, w.kBase + j0);
        int vOff = v.rowOffset(b, hk, w.kBase + j0);
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
        if (capDivides) {
          TileMask.softcapDividing(w.st, br, rowsPad, keys, cap);
        } else if (cap > 0) {
          TileMask.softcap(w.st, br, rowsPad, keys, cap, vector);
        }
        // tanh's derivative needs the capped score before ALiBi or a float mask is added to it
        if (keepCapped) {
          System.arraycopy(w.st, 0, w.capt, 0, keys * br);
        }
        if (options.hasAlibi()) {
          TileMask.alibi(options, head, pos, j0, w.st, br, rows, keys, nq, nk);
        }
        if (mask != null) {
          TileMask.apply(mask, b, head, pos, w.qBase, w.kBase + j0, w.st, br, rows, keys);
        }
        if (tile == BlockInfo.Tile.PARTIAL) {
          TileMask.cutRange(info.start, info.end, j0, w.st, br, rows, keys);
        }
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
          PanelKernel.scalar(
              blk.qrm, dPad, dPad, w.dst, 0, br, 1, keys, rows, w.dkAcc, kAt, w.ones);
          PanelKernel.scalar(
              w.dst, br, rowsPad, kd, kOff, 1, k.rowStride(), d, keys, blk.dqt, w.ones);
        }
      }
    }

    /**
     * dQ = scale · dQᵀ of the block: the first chunk writes it, the others add their parts in chunk
     * order (a block that saw none of a later chunk's keys just passes the turn on).
     */
    private void finish(int b, QueryBlock blk, Buffers w) {
      if (turns != null) {
        awaitTurn(blk.turn, w.chunk);
      }
      if (blk.loaded) {
        int d = shape.headDim();
        float[] dqd = dq.data();
        for (int r = 0; r < blk.rows; r++) {
          int at = dq.rowOffset(b, blk.head[r], w.qBase + blk.pos[r]);
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
      if (turns != null) {
        TURN.setRelease(turns, blk.turn, w.chunk + 1);
      }
    }

    /**
     * Waits until the chunks before {@code chunk} have added their parts of a block's dQ. The chunk
     * before was claimed first, so it is running (or done) on another thread; on one thread the
     * chunks run in order and never wait.
     */
    private void awaitTurn(int turn, int chunk) {
      int spins = 0;
      while ((int) TURN.getAcquire(turns, turn) != chunk) {
        if (failed()) {
          throw new IllegalStateException("another item of the call failed");
        }
        if (++spins < 1 << 12) {
          Thread.onSpinWait();
        } else {
          Thread.yield();
        }
      }
    }

    /** The block's panels: Qᵀ scaled, Q row-major, dOᵀ, dO row-major, D and the LSE per row. */
    private void loadPanels(int b, QueryBlock blk, Buffers w) {
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
        int qo = q.rowOffset(b, h, w.qBase + i);
        for (int c = 0; c < d; c++) {
          float x = qd[qo + c];
          blk.qt[c * br + r] = x * qScale;
          blk.qrm[r * dPad + c] = x;
        }
        int oo = o.rowOffset(b, h, w.qBase + i);
        int go = dOut.rowOffset(b, h, w.qBase + i);
        float dsum = 0f;
        for (int c = 0; c < dvDim; c++) {
          float g = gd[go + c];
          blk.dot[c * br + r] = g;
          blk.dorm[r * dvPad + c] = g;
          dsum = Math.fma(g, od[oo + c], dsum);
        }
        blk.dRow[r] = dsum;
        float l = lse[(b * s.queryHeads() + h) * s.queryRows() + w.qBase + i];
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
    private void dropoutTile(Buffers w, QueryBlock blk, int b, int j0, int keys) {
      w.dropout(options.dropout())
          .tile(w.seq, blk.head, blk.pos, j0, w.zt, br, blk.rows, blk.rowsPad, keys, vector, false);
    }

    /**
     * pt = e^(st − LSE) and dst = pt · (z·dst − D) · (1 − (st/c)²), 0 where pt is 0; then, with
     * dropout, pt ← z·pt (the P̃ of dV).
     */
    private void probabilitiesAndDs(
        Buffers w, QueryBlock blk, int keys, boolean dropout, float[] capped) {
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
              sv == Float.NEGATIVE_INFINITY
                  ? 0f
                  : ScalarMath.exp2((sv - lseRow[r]) * Softmax.LOG2E);
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
}
