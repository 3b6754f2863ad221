package dev.flashattn4j.model;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;

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
 * <p>The work is cut in (72-row chunk of x, group of panels) tasks; inside a task a panel (K × 2
 * vectors of W) is read once per 6 rows of x: 12 vector accumulators, 2 loads of W and 6 broadcasts
 * of x per k (then 4 rows, then 1, for the chunk's last rows). With T = 1 (decoding) the product
 * streams W once, split over the threads by panels.
 */
final class MatMul {

  /** Rows of x per micro-kernel call: 6 × 2 vectors = 12 accumulators (16 AVX2 registers). */
  private static final int ROWS = 6;

  private static final int ROW_CHUNK = 72;
  private static final int L = Simd.LANES;
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
    int g = groups;
    workers.forEach(
        chunks * groups,
        task -> {
          int c = task / g;
          int gi = task % g;
          int t0 = c * ROW_CHUNK;
          int t1 = Math.min(rows, t0 + ROW_CHUNK);
          int p0 = (int) ((long) panels * gi / g);
          int p1 = (int) ((long) panels * (gi + 1) / g);
          float[] tail = new float[2 * P];
          for (int p = p0; p < p1; p++) {
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
        });
  }

  /** Rows [t, t + n) (n = 6, 4 or 1) of y, outputs of panel p. */
  private static void panel(
      float[] x, int t, int n, PackedMatrix w, int p, float[] y, float[] bias, float[] tail) {
    if (!Simd.ENABLED) {
      scalarPanel(x, t, n, w, p, y, bias, tail);
    } else if (n == 6) {
      if (w.isBf16()) {
        panel6Bf16(x, t, w, p, y, bias, tail);
      } else {
        panel6(x, t, w, p, y, bias, tail);
      }
    } else if (n == 4) {
      if (w.isBf16()) {
        panel4Bf16(x, t, w, p, y, bias, tail);
      } else {
        panel4(x, t, w, p, y, bias, tail);
      }
    } else if (w.isBf16()) {
      panel1Bf16(x, t, w, p, y, bias, tail);
    } else {
      panel1(x, t, w, p, y, bias, tail);
    }
  }

  private static void panel4(
      float[] x, int t, PackedMatrix w, int p, float[] y, float[] bias, float[] tail) {
    int k = w.inputs();
    float[] wf = w.f32();
    int base = p * P * k;
    int x0 = t * k;
    int x1 = x0 + k;
    int x2 = x1 + k;
    int x3 = x2 + k;
    FloatVector a0 = FloatVector.zero(Simd.FLOATS);
    FloatVector b0 = a0;
    FloatVector a1 = a0;
    FloatVector b1 = a0;
    FloatVector a2 = a0;
    FloatVector b2 = a0;
    FloatVector a3 = a0;
    FloatVector b3 = a0;
    for (int i = 0; i < k; i++) {
      // acc[r][j] = fma(W[panel j][i], x[r][i], acc[r][j])
      FloatVector w0 = FloatVector.fromArray(Simd.FLOATS, wf, base + i * P);
      FloatVector w1 = FloatVector.fromArray(Simd.FLOATS, wf, base + i * P + L);
      FloatVector v = FloatVector.broadcast(Simd.FLOATS, x[x0 + i]);
      a0 = w0.fma(v, a0);
      b0 = w1.fma(v, b0);
      v = FloatVector.broadcast(Simd.FLOATS, x[x1 + i]);
      a1 = w0.fma(v, a1);
      b1 = w1.fma(v, b1);
      v = FloatVector.broadcast(Simd.FLOATS, x[x2 + i]);
      a2 = w0.fma(v, a2);
      b2 = w1.fma(v, b2);
      v = FloatVector.broadcast(Simd.FLOATS, x[x3 + i]);
      a3 = w0.fma(v, a3);
      b3 = w1.fma(v, b3);
    }
    store(a0, b0, y, t, w, p, bias, tail);
    store(a1, b1, y, t + 1, w, p, bias, tail);
    store(a2, b2, y, t + 2, w, p, bias, tail);
    store(a3, b3, y, t + 3, w, p, bias, tail);
  }

  private static void panel4Bf16(
      float[] x, int t, PackedMatrix w, int p, float[] y, float[] bias, float[] tail) {
    int k = w.inputs();
    short[] ws = w.bf16();
    int base = p * P * k;
    int x0 = t * k;
    int x1 = x0 + k;
    int x2 = x1 + k;
    int x3 = x2 + k;
    FloatVector a0 = FloatVector.zero(Simd.FLOATS);
    FloatVector b0 = a0;
    FloatVector a1 = a0;
    FloatVector b1 = a0;
    FloatVector a2 = a0;
    FloatVector b2 = a0;
    FloatVector a3 = a0;
    FloatVector b3 = a0;
    for (int i = 0; i < k; i++) {
      FloatVector w0 = Simd.widen(ShortVector.fromArray(Simd.SHORTS, ws, base + i * P));
      FloatVector w1 = Simd.widen(ShortVector.fromArray(Simd.SHORTS, ws, base + i * P + L));
      FloatVector v = FloatVector.broadcast(Simd.FLOATS, x[x0 + i]);
      a0 = w0.fma(v, a0);
      b0 = w1.fma(v, b0);
      v = FloatVector.broadcast(Simd.FLOATS, x[x1 + i]);
      a1 = w0.fma(v, a1);
      b1 = w1.fma(v, b1);
      v = FloatVector.broadcast(Simd.FLOATS, x[x2 + i]);
      a2 = w0.fma(v, a2);
      b2 = w1.fma(v, b2);
      v = FloatVector.broadcast(Simd.FLOATS, x[x3 + i]);
      a3 = w0.fma(v, a3);
      b3 = w1.fma(v, b3);
    }
    store(a0, b0, y, t, w, p, bias, tail);
    store(a1, b1, y, t + 1, w, p, bias, tail);
    store(a2, b2, y, t + 2, w, p, bias, tail);
    store(a3, b3, y, t + 3, w, p, bias, tail);
  }

  private static void panel6(
      float[] x, int t, PackedMatrix w, int p, float[] y, float[] bias, float[] tail) {
    int k = w.inputs();
    float[] wf = w.f32();
    int base = p * P * k;
    int x0 = t * k;
    int x1 = x0 + k;
    int x2 = x1 + k;
    int x3 = x2 + k;
    int x4 = x3 + k;
    int x5 = x4 + k;
    FloatVector a0 = FloatVector.zero(Simd.FLOATS);
    FloatVector b0 = a0;
    FloatVector a1 = a0;
    FloatVector b1 = a0;
    FloatVector a2 = a0;
    FloatVector b2 = a0;
    FloatVector a3 = a0;
    FloatVector b3 = a0;
    FloatVector a4 = a0;
    FloatVector b4 = a0;
    FloatVector a5 = a0;
    FloatVector b5 = a0;
    for (int i = 0; i < k; i++) {
      // acc[r][j] = fma(W[panel j][i], x[r][i], acc[r][j])
      FloatVector w0 = FloatVector.fromArray(Simd.FLOATS, wf, base + i * P);
      FloatVector w1 = FloatVector.fromArray(Simd.FLOATS, wf, base + i * P + L);
      FloatVector v = FloatVector.broadcast(Simd.FLOATS, x[x0 + i]);
      a0 = w0.fma(v, a0);
      b0 = w1.fma(v, b0);
      v = FloatVector.broadcast(Simd.FLOATS, x[x1 + i]);
      a1 = w0.fma(v, a1);
      b1 = w1.fma(v, b1);
      v = FloatVector.broadcast(Simd.FLOATS, x[x2 + i]);
      a2 = w0.fma(v, a2);
      b2 = w1.fma(v, b2);
      v = FloatVector.broadcast(Simd.FLOATS, x[x3 + i]);
      a3 = w0.fma(v, a3);
      b3 = w1.fma(v, b3);
      v = FloatVector.broadcast(Simd.FLOATS, x[x4 + i]);
      a4 = w0.fma(v, a4);
      b4 = w1.fma(v, b4);
      v = FloatVector.broadcast(Simd.FLOATS, x[x5 + i]);
      a5 = w0.fma(v, a5);
      b5 = w1.fma(v, b5);
    }
    store(a0, b0, y, t, w, p, bias, tail);
    store(a1, b1, y, t + 1, w, p, bias, tail);
    store(a2, b2, y, t + 2, w, p, bias, tail);
    store(a3, b3, y, t + 3, w, p, bias, tail);
    store(a4, b4, y, t + 4, w, p, bias, tail);
    store(a5, b5, y, t + 5, w, p, bias, tail);
  }

  private static void panel6Bf16(
      float[] x, int t, PackedMatrix w, int p, float[] y, float[] bias, float[] tail) {
    int k = w.inputs();
    short[] ws = w.bf16();
    int base = p * P * k;
    int x0 = t * k;
    int x1 = x0 + k;
    int x2 = x1 + k;
    int x3 = x2 + k;
    int x4 = x3 + k;
    int x5 = x4 + k;
    FloatVector a0 = FloatVector.zero(Simd.FLOATS);
    FloatVector b0 = a0;
    FloatVector a1 = a0;
    FloatVector b1 = a0;
    FloatVector a2 = a0;
    FloatVector b2 = a0;
    FloatVector a3 = a0;
    FloatVector b3 = a0;
    FloatVector a4 = a0;
    FloatVector b4 = a0;
    FloatVector a5 = a0;
    FloatVector b5 = a0;
    for (int i = 0; i < k; i++) {
      FloatVector w0 = Simd.widen(ShortVector.fromArray(Simd.SHORTS, ws, base + i * P));
      FloatVector w1 = Simd.widen(ShortVector.fromArray(Simd.SHORTS, ws, base + i * P + L));
      FloatVector v = FloatVector.broadcast(Simd.FLOATS, x[x0 + i]);
      a0 = w0.fma(v, a0);
      b0 = w1.fma(v, b0);
      v = FloatVector.broadcast(Simd.FLOATS, x[x1 + i]);
      a1 = w0.fma(v, a1);
      b1 = w1.fma(v, b1);
      v = FloatVector.broadcast(Simd.FLOATS, x[x2 + i]);
      a2 = w0.fma(v, a2);
      b2 = w1.fma(v, b2);
      v = FloatVector.broadcast(Simd.FLOATS, x[x3 + i]);
      a3 = w0.fma(v, a3);
      b3 = w1.fma(v, b3);
      v = FloatVector.broadcast(Simd.FLOATS, x[x4 + i]);
      a4 = w0.fma(v, a4);
      b4 = w1.fma(v, b4);
      v = FloatVector.broadcast(Simd.FLOATS, x[x5 + i]);
      a5 = w0.fma(v, a5);
      b5 = w1.fma(v, b5);
    }
    store(a0, b0, y, t, w, p, bias, tail);
    store(a1, b1, y, t + 1, w, p, bias, tail);
    store(a2, b2, y, t + 2, w, p, bias, tail);
    store(a3, b3, y, t + 3, w, p, bias, tail);
    store(a4, b4, y, t + 4, w, p, bias, tail);
    store(a5, b5, y, t + 5, w, p, bias, tail);
  }

  private static void panel1(
      float[] x, int t, PackedMatrix w, int p, float[] y, float[] bias, float[] tail) {
    int k = w.inputs();
    float[] wf = w.f32();
    int base = p * P * k;
    int x0 = t * k;
    FloatVector a0 = FloatVector.zero(Simd.FLOATS);
    FloatVector b0 = a0;
    for (int i = 0; i < k; i++) {
      FloatVector v = FloatVector.broadcast(Simd.FLOATS, x[x0 + i]);
      a0 = FloatVector.fromArray(Simd.FLOATS, wf, base + i * P).fma(v, a0);
      b0 = FloatVector.fromArray(Simd.FLOATS, wf, base + i * P + L).fma(v, b0);
    }
    store(a0, b0, y, t, w, p, bias, tail);
  }

  private static void panel1Bf16(
      float[] x, int t, PackedMatrix w, int p, float[] y, float[] bias, float[] tail) {
    int k = w.inputs();
    short[] ws = w.bf16();
    int base = p * P * k;
    int x0 = t * k;
    FloatVector a0 = FloatVector.zero(Simd.FLOATS);
    FloatVector b0 = a0;
    for (int i = 0; i < k; i++) {
      FloatVector v = FloatVector.broadcast(Simd.FLOATS, x[x0 + i]);
      a0 = Simd.widen(ShortVector.fromArray(Simd.SHORTS, ws, base + i * P)).fma(v, a0);
      b0 = Simd.widen(ShortVector.fromArray(Simd.SHORTS, ws, base + i * P + L)).fma(v, b0);
    }
    store(a0, b0, y, t, w, p, bias, tail);
  }

  /** Writes the panel's outputs of row t (those below O), plus the bias. */
  private static void store(
      FloatVector a,
      FloatVector b,
      float[] y,
      int t,
      PackedMatrix w,
      int p,
      float[] bias,
      float[] tail) {
    int o = w.outputs();
    int col = p * P;
    int at = t * o + col;
    if (col + P <= o && bias == null) {
      a.intoArray(y, at);
      b.intoArray(y, at + L);
      return;
    }
    a.intoArray(tail, 0);
    b.intoArray(tail, L);
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
