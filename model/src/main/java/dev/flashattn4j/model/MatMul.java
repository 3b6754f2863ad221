package dev.flashattn4j.model;

import jdk.incubator.vector.FloatVector;

/**
 * The linear layers' product y = x·Wᵀ (+ b): x is T × K row-major, W a {@link PackedMatrix} (O ×
 * K), y T × O row-major.
 *
 * <p>Every element is y[t][o] = fma(x[t][K−1], W[o][K−1], ... fma(x[t][0], W[o][0], 0)) (+ b[o]):
 * one fused multiply-add per k, k ascending, in float32. The SIMD kernels keep that order (a vector
 * holds consecutive outputs, never consecutive k), so the result does not depend on the vector
 * width, the scalar twin, the blocking, the threads, or which rows share a call: a prompt run alone
 * and in a batch gives the same bits.
 *
 * <p>Q8_0 weights ({@link Q8Rows}) keep the same order with W[o][k] = q·d, the int8 value times its
 * block's scale, which float32 holds exactly: the product of a Q8_0 matrix is, bit for bit, the
 * float32 product of its dequantised matrix. With few rows (decoding) each weight is widened and
 * scaled in a register, so the bytes read are about a quarter of float32's; a chunk of {@value
 * #WIDEN_ROWS} rows or more dequantises each panel once into the thread's scratch and runs the
 * float32 blocks over it (prefill: the widening is not repeated for every 6 rows).
 *
 * <p>The work is cut in (72-row chunk of x, group of panels) tasks; inside a task a panel (K × 2
 * vectors of W) is read once per 6 rows of x: 12 vector accumulators, 2 loads of W and 6 broadcasts
 * of x per k (then 4 rows, then 1, for the chunk's last rows); the blocks are {@link MatMulPanels},
 * generated. With T = 1 (decoding) the product streams W once, split over the threads by panels.
 */
final class MatMul {

  /**
   * Rows of x per micro-kernel call: 6 × 2 vectors = 12 accumulators, which fit 16 vector
   * registers. 12 rows (24 accumulators, for 32 registers) ran at 0.97–1.0× the speed on Zen 5
   * (AVX-512): the row bases of x spill; see docs/BENCHMARKS.md.
   */
  private static final int ROWS = 6;

  private static final int ROW_CHUNK = 72;

  /**
   * Rows of a chunk from which a Q8_0 panel is dequantised once into the thread's scratch (K × 2
   * vectors of floats, in L2) and multiplied by the float32 blocks, instead of widening it again
   * for every 6 rows: the same weights, so the same bits.
   */
  private static final int WIDEN_ROWS = 12;

  private static final int P = PackedMatrix.PANEL;

  private MatMul() {}

  /**
   * y = x·Wᵀ + b.
   *
   * @param x T × K, row-major from offset 0
   * @param rows T
   * @param w O × K
   * @param bias O floats, or null
   * @param y T × O, row-major from offset 0, overwritten
   */
  static void multiply(
      Workers workers, float[] x, int rows, PackedMatrix w, float[] bias, float[] y) {
    int k = w.inputs();
    int o = w.outputs();
    if ((long) rows * k > x.length || (long) rows * o > y.length) {
      throw new IllegalArgumentException(
          "x holds "
              + x.length
              + " and y "
              + y.length
              + " floats: too few for "
              + rows
              + " rows of "
              + w);
    }
    if (rows == 0) {
      return;
    }
    int panels = w.panels();
    int chunks = (rows + ROW_CHUNK - 1) / ROW_CHUNK;
    int want = 4 * workers.threads();
    int groups = Math.max(1, Math.min(panels, (want + chunks - 1) / chunks));
    if (workers.threads() == 1) {
      groups = 1;
    }
    Product job = workers.products().take();
    try {
      boolean widen = w.isQ8() && Simd.ENABLED && rows >= WIDEN_ROWS;
      job.ensureScratch(widen ? 2 * P + P * k : 2 * P);
      job.set(x, rows, w, bias, y, groups);
      workers.run(job, chunks * groups);
    } finally {
      job.set(null, 0, null, null, null, 1);
      workers.products().give(job);
    }
  }

  /**
   * One product's tasks, (72-row chunk of x, group of panels) each: a reusable call object (from
   * the workers' pool), its scratch for each thread the 2-vector tail of a panel, then (Q8_0, many
   * rows) a dequantised panel, K × 2 vectors.
   */
  static final class Product extends Workers.Job {
    private float[] x;
    private int rows;
    private PackedMatrix w;
    private float[] bias;
    private float[] y;
    private int groups;

    Product(int threads) {
      super(threads, 2 * P);
    }

    private void set(float[] x, int rows, PackedMatrix w, float[] bias, float[] y, int groups) {
      this.x = x;
      this.rows = rows;
      this.w = w;
      this.bias = bias;
      this.y = y;
      this.groups = groups;
    }

    @Override
    void run(int task, float[] tail) {
      int panels = w.panels();
      int c = task / groups;
      int gi = task % groups;
      int t0 = c * ROW_CHUNK;
      int t1 = Math.min(rows, t0 + ROW_CHUNK);
      int p0 = (int) ((long) panels * gi / groups);
      int p1 = (int) ((long) panels * (gi + 1) / groups);
      boolean widen = w.isQ8() && Simd.ENABLED && t1 - t0 >= WIDEN_ROWS;
      for (int p = p0; p < p1; p++) {
        if (widen) {
          widenedPanel(x, t0, t1, w, p, y, bias, tail);
          continue;
        }
        int t = t0;
        for (; t + ROWS <= t1; t += ROWS) {
          panel(x, t, ROWS, w, p, y, bias, tail);
        }
        for (; t + 4 <= t1; t += 4) {
          panel(x, t, 4, w, p, y, bias, tail);
        }
        for (; t < t1; t++) {
          panel(x, t, 1, w, p, y, bias, tail);
        }
      }
    }
  }

  /**
   * Rows [t0, t1) of y, outputs of Q8_0 panel p: the panel dequantised (q·d, exact) into {@code
   * scratch} from offset 2P on, then the float32 blocks over it.
   */
  private static void widenedPanel(
      float[] x, int t0, int t1, PackedMatrix w, int p, float[] y, float[] bias, float[] scratch) {
    int k = w.inputs();
    int blocks = w.blocks();
    byte[] q = w.q8();
    float[] sc = w.scales();
    int base = p * P * k;
    int sBase = p * P * blocks;
    int l = Simd.LANES;
    for (int b = 0; b < blocks; b++) {
      FloatVector s0 = FloatVector.fromArray(Simd.FLOATS, sc, sBase + b * P);
      FloatVector s1 = FloatVector.fromArray(Simd.FLOATS, sc, sBase + b * P + l);
      int end = Math.min(k, (b + 1) * Q8Rows.BLOCK);
      for (int i = b * Q8Rows.BLOCK; i < end; i++) {
        Simd.widenQ8(q, base + i * P).mul(s0).intoArray(scratch, 2 * P + i * P);
        Simd.widenQ8(q, base + i * P + l).mul(s1).intoArray(scratch, 2 * P + i * P + l);
      }
    }
    int t = t0;
    for (; t + ROWS <= t1; t += ROWS) {
      MatMulPanels.panel6(x, t, w, p, scratch, 2 * P, y, bias, scratch);
    }
    for (; t + 4 <= t1; t += 4) {
      MatMulPanels.panel4(x, t, w, p, scratch, 2 * P, y, bias, scratch);
    }
    for (; t < t1; t++) {
      MatMulPanels.panel1(x, t, w, p, scratch, 2 * P, y, bias, scratch);
    }
  }

  /** Rows [t, t + n) (n = 6, 4 or 1) of y, outputs of panel p ({@link MatMulPanels}). */
  private static void panel(
      float[] x, int t, int n, PackedMatrix w, int p, float[] y, float[] bias, float[] tail) {
    if (!Simd.ENABLED) {
      scalarPanel(x, t, n, w, p, y, bias, tail);
      return;
    }
    if (w.isQ8()) {
      switch (n) {
        case 6 -> MatMulPanels.panel6Q8(x, t, w, p, y, bias, tail);
        case 4 -> MatMulPanels.panel4Q8(x, t, w, p, y, bias, tail);
        default -> MatMulPanels.panel1Q8(x, t, w, p, y, bias, tail);
      }
      return;
    }
    boolean bf16 = w.isBf16();
    switch (n) {
      case 6 -> {
        if (bf16) {
          MatMulPanels.panel6Bf16(x, t, w, p, y, bias, tail);
        } else {
          MatMulPanels.panel6(x, t, w, p, w.f32(), p * P * w.inputs(), y, bias, tail);
        }
      }
      case 4 -> {
        if (bf16) {
          MatMulPanels.panel4Bf16(x, t, w, p, y, bias, tail);
        } else {
          MatMulPanels.panel4(x, t, w, p, w.f32(), p * P * w.inputs(), y, bias, tail);
        }
      }
      default -> {
        if (bf16) {
          MatMulPanels.panel1Bf16(x, t, w, p, y, bias, tail);
        } else {
          MatMulPanels.panel1(x, t, w, p, w.f32(), p * P * w.inputs(), y, bias, tail);
        }
      }
    }
  }

  /**
   * Row t of a panel whose outputs are in {@code tail} (2 vectors, written there by the block):
   * those below O into y, plus the bias. The blocks store whole panels without a bias themselves.
   */
  static void storeTail(float[] y, int t, PackedMatrix w, int p, float[] bias, float[] tail) {
    int o = w.outputs();
    int col = p * P;
    int at = t * o + col;
    int n = Math.min(P, o - col);
    for (int j = 0; j < n; j++) {
      y[at + j] = bias == null ? tail[j] : tail[j] + bias[col + j];
    }
  }

  /** The scalar twin: the same fused multiply-adds in the same order, one output at a time. */
  private static void scalarPanel(
      float[] x, int t, int n, PackedMatrix w, int p, float[] y, float[] bias, float[] acc) {
    int k = w.inputs();
    int o = w.outputs();
    int col = p * P;
    int cols = Math.min(P, o - col);
    for (int r = 0; r < n; r++) {
      int xr = (t + r) * k;
      for (int j = 0; j < cols; j++) {
        float s = 0f;
        for (int i = 0; i < k; i++) {
          s = Math.fma(w.get(col + j, i), x[xr + i], s);
        }
        y[(t + r) * o + col + j] = bias == null ? s : s + bias[col + j];
      }
    }
  }
}
