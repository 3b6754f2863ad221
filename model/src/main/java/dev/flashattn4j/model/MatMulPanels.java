package dev.flashattn4j.model;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;

/**
 * The register blocks of {@link MatMul}, written out by {@code scripts/gen_matmul_panels.py} (edit
 * the script, not this file). A block {@code panelR} keeps R × 2 accumulators: R rows of x by one
 * panel of W (2 vectors of outputs); each step k loads the panel's two vectors of W (widened from
 * bfloat16 in the {@code Bf16} blocks; in the {@code Q8} blocks widened from int8 and multiplied by
 * the 32-row block's two vectors of scales: q·d, exact in float32), broadcasts x[r][k] for each row
 * and issues 2·R FMAs. Every output is one FMA chain over k ascending, so all blocks give the bits
 * of the scalar twin. 6 rows (12 accumulators) is the main block, 4 and 1 the tails of a chunk.
 */
final class MatMulPanels {

  private static final int L = Simd.LANES;
  private static final int P = PackedMatrix.PANEL;

  private MatMulPanels() {}

  static void panel6(
      float[] x,
      int t,
      PackedMatrix w,
      int p,
      float[] wf,
      int base,
      float[] y,
      float[] bias,
      float[] tail) {
    int k = w.inputs();
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
    int o = w.outputs();
    int col = p * P;
    if (col + P <= o && bias == null) {
      int at = t * o + col;
      a0.intoArray(y, at);
      b0.intoArray(y, at + L);
      at += o;
      a1.intoArray(y, at);
      b1.intoArray(y, at + L);
      at += o;
      a2.intoArray(y, at);
      b2.intoArray(y, at + L);
      at += o;
      a3.intoArray(y, at);
      b3.intoArray(y, at + L);
      at += o;
      a4.intoArray(y, at);
      b4.intoArray(y, at + L);
      at += o;
      a5.intoArray(y, at);
      b5.intoArray(y, at + L);
    } else {
      a0.intoArray(tail, 0);
      b0.intoArray(tail, L);
      MatMul.storeTail(y, t, w, p, bias, tail);
      a1.intoArray(tail, 0);
      b1.intoArray(tail, L);
      MatMul.storeTail(y, t + 1, w, p, bias, tail);
      a2.intoArray(tail, 0);
      b2.intoArray(tail, L);
      MatMul.storeTail(y, t + 2, w, p, bias, tail);
      a3.intoArray(tail, 0);
      b3.intoArray(tail, L);
      MatMul.storeTail(y, t + 3, w, p, bias, tail);
      a4.intoArray(tail, 0);
      b4.intoArray(tail, L);
      MatMul.storeTail(y, t + 4, w, p, bias, tail);
      a5.intoArray(tail, 0);
      b5.intoArray(tail, L);
      MatMul.storeTail(y, t + 5, w, p, bias, tail);
    }
  }

  static void panel6Bf16(
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
    int o = w.outputs();
    int col = p * P;
    if (col + P <= o && bias == null) {
      int at = t * o + col;
      a0.intoArray(y, at);
      b0.intoArray(y, at + L);
      at += o;
      a1.intoArray(y, at);
      b1.intoArray(y, at + L);
      at += o;
      a2.intoArray(y, at);
      b2.intoArray(y, at + L);
      at += o;
      a3.intoArray(y, at);
      b3.intoArray(y, at + L);
      at += o;
      a4.intoArray(y, at);
      b4.intoArray(y, at + L);
      at += o;
      a5.intoArray(y, at);
      b5.intoArray(y, at + L);
    } else {
      a0.intoArray(tail, 0);
      b0.intoArray(tail, L);
      MatMul.storeTail(y, t, w, p, bias, tail);
      a1.intoArray(tail, 0);
      b1.intoArray(tail, L);
      MatMul.storeTail(y, t + 1, w, p, bias, tail);
      a2.intoArray(tail, 0);
      b2.intoArray(tail, L);
      MatMul.storeTail(y, t + 2, w, p, bias, tail);
      a3.intoArray(tail, 0);
      b3.intoArray(tail, L);
      MatMul.storeTail(y, t + 3, w, p, bias, tail);
      a4.intoArray(tail, 0);
      b4.intoArray(tail, L);
      MatMul.storeTail(y, t + 4, w, p, bias, tail);
      a5.intoArray(tail, 0);
      b5.intoArray(tail, L);
      MatMul.storeTail(y, t + 5, w, p, bias, tail);
    }
  }

  static void panel6Q8(
      float[] x, int t, PackedMatrix w, int p, float[] y, float[] bias, float[] tail) {
    int k = w.inputs();
    byte[] wq = w.q8();
    float[] sc = w.scales();
    int blocks = w.blocks();
    int sBase = p * P * blocks;
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
    for (int b = 0; b < blocks; b++) {
      FloatVector s0 = FloatVector.fromArray(Simd.FLOATS, sc, sBase + b * P);
      FloatVector s1 = FloatVector.fromArray(Simd.FLOATS, sc, sBase + b * P + L);
      int end = Math.min(k, (b + 1) * Q8Rows.BLOCK);
      for (int i = b * Q8Rows.BLOCK; i < end; i++) {
        FloatVector w0 = Simd.widenQ8(wq, base + i * P).mul(s0);
        FloatVector w1 = Simd.widenQ8(wq, base + i * P + L).mul(s1);
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
    }
    int o = w.outputs();
    int col = p * P;
    if (col + P <= o && bias == null) {
      int at = t * o + col;
      a0.intoArray(y, at);
      b0.intoArray(y, at + L);
      at += o;
      a1.intoArray(y, at);
      b1.intoArray(y, at + L);
      at += o;
      a2.intoArray(y, at);
      b2.intoArray(y, at + L);
      at += o;
      a3.intoArray(y, at);
      b3.intoArray(y, at + L);
      at += o;
      a4.intoArray(y, at);
      b4.intoArray(y, at + L);
      at += o;
      a5.intoArray(y, at);
      b5.intoArray(y, at + L);
    } else {
      a0.intoArray(tail, 0);
      b0.intoArray(tail, L);
      MatMul.storeTail(y, t, w, p, bias, tail);
      a1.intoArray(tail, 0);
      b1.intoArray(tail, L);
      MatMul.storeTail(y, t + 1, w, p, bias, tail);
      a2.intoArray(tail, 0);
      b2.intoArray(tail, L);
      MatMul.storeTail(y, t + 2, w, p, bias, tail);
      a3.intoArray(tail, 0);
      b3.intoArray(tail, L);
      MatMul.storeTail(y, t + 3, w, p, bias, tail);
      a4.intoArray(tail, 0);
      b4.intoArray(tail, L);
      MatMul.storeTail(y, t + 4, w, p, bias, tail);
      a5.intoArray(tail, 0);
      b5.intoArray(tail, L);
      MatMul.storeTail(y, t + 5, w, p, bias, tail);
    }
  }

  static void panel4(
      float[] x,
      int t,
      PackedMatrix w,
      int p,
      float[] wf,
      int base,
      float[] y,
      float[] bias,
      float[] tail) {
    int k = w.inputs();
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
    int o = w.outputs();
    int col = p * P;
    if (col + P <= o && bias == null) {
      int at = t * o + col;
      a0.intoArray(y, at);
      b0.intoArray(y, at + L);
      at += o;
      a1.intoArray(y, at);
      b1.intoArray(y, at + L);
      at += o;
      a2.intoArray(y, at);
      b2.intoArray(y, at + L);
      at += o;
      a3.intoArray(y, at);
      b3.intoArray(y, at + L);
    } else {
      a0.intoArray(tail, 0);
      b0.intoArray(tail, L);
      MatMul.storeTail(y, t, w, p, bias, tail);
      a1.intoArray(tail, 0);
      b1.intoArray(tail, L);
      MatMul.storeTail(y, t + 1, w, p, bias, tail);
      a2.intoArray(tail, 0);
      b2.intoArray(tail, L);
      MatMul.storeTail(y, t + 2, w, p, bias, tail);
      a3.intoArray(tail, 0);
      b3.intoArray(tail, L);
      MatMul.storeTail(y, t + 3, w, p, bias, tail);
    }
  }

  static void panel4Bf16(
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
    int o = w.outputs();
    int col = p * P;
    if (col + P <= o && bias == null) {
      int at = t * o + col;
      a0.intoArray(y, at);
      b0.intoArray(y, at + L);
      at += o;
      a1.intoArray(y, at);
      b1.intoArray(y, at + L);
      at += o;
      a2.intoArray(y, at);
      b2.intoArray(y, at + L);
      at += o;
      a3.intoArray(y, at);
      b3.intoArray(y, at + L);
    } else {
      a0.intoArray(tail, 0);
      b0.intoArray(tail, L);
      MatMul.storeTail(y, t, w, p, bias, tail);
      a1.intoArray(tail, 0);
      b1.intoArray(tail, L);
      MatMul.storeTail(y, t + 1, w, p, bias, tail);
      a2.intoArray(tail, 0);
      b2.intoArray(tail, L);
      MatMul.storeTail(y, t + 2, w, p, bias, tail);
      a3.intoArray(tail, 0);
      b3.intoArray(tail, L);
      MatMul.storeTail(y, t + 3, w, p, bias, tail);
    }
  }

  static void panel4Q8(
      float[] x, int t, PackedMatrix w, int p, float[] y, float[] bias, float[] tail) {
    int k = w.inputs();
    byte[] wq = w.q8();
    float[] sc = w.scales();
    int blocks = w.blocks();
    int sBase = p * P * blocks;
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
    for (int b = 0; b < blocks; b++) {
      FloatVector s0 = FloatVector.fromArray(Simd.FLOATS, sc, sBase + b * P);
      FloatVector s1 = FloatVector.fromArray(Simd.FLOATS, sc, sBase + b * P + L);
      int end = Math.min(k, (b + 1) * Q8Rows.BLOCK);
      for (int i = b * Q8Rows.BLOCK; i < end; i++) {
        FloatVector w0 = Simd.widenQ8(wq, base + i * P).mul(s0);
        FloatVector w1 = Simd.widenQ8(wq, base + i * P + L).mul(s1);
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
    }
    int o = w.outputs();
    int col = p * P;
    if (col + P <= o && bias == null) {
      int at = t * o + col;
      a0.intoArray(y, at);
      b0.intoArray(y, at + L);
      at += o;
      a1.intoArray(y, at);
      b1.intoArray(y, at + L);
      at += o;
      a2.intoArray(y, at);
      b2.intoArray(y, at + L);
      at += o;
      a3.intoArray(y, at);
      b3.intoArray(y, at + L);
    } else {
      a0.intoArray(tail, 0);
      b0.intoArray(tail, L);
      MatMul.storeTail(y, t, w, p, bias, tail);
      a1.intoArray(tail, 0);
      b1.intoArray(tail, L);
      MatMul.storeTail(y, t + 1, w, p, bias, tail);
      a2.intoArray(tail, 0);
      b2.intoArray(tail, L);
      MatMul.storeTail(y, t + 2, w, p, bias, tail);
      a3.intoArray(tail, 0);
      b3.intoArray(tail, L);
      MatMul.storeTail(y, t + 3, w, p, bias, tail);
    }
  }

  static void panel1(
      float[] x,
      int t,
      PackedMatrix w,
      int p,
      float[] wf,
      int base,
      float[] y,
      float[] bias,
      float[] tail) {
    int k = w.inputs();
    int x0 = t * k;
    FloatVector a0 = FloatVector.zero(Simd.FLOATS);
    FloatVector b0 = a0;
    for (int i = 0; i < k; i++) {
      FloatVector w0 = FloatVector.fromArray(Simd.FLOATS, wf, base + i * P);
      FloatVector w1 = FloatVector.fromArray(Simd.FLOATS, wf, base + i * P + L);
      FloatVector v = FloatVector.broadcast(Simd.FLOATS, x[x0 + i]);
      a0 = w0.fma(v, a0);
      b0 = w1.fma(v, b0);
    }
    int o = w.outputs();
    int col = p * P;
    if (col + P <= o && bias == null) {
      int at = t * o + col;
      a0.intoArray(y, at);
      b0.intoArray(y, at + L);
    } else {
      a0.intoArray(tail, 0);
      b0.intoArray(tail, L);
      MatMul.storeTail(y, t, w, p, bias, tail);
    }
  }

  static void panel1Bf16(
      float[] x, int t, PackedMatrix w, int p, float[] y, float[] bias, float[] tail) {
    int k = w.inputs();
    short[] ws = w.bf16();
    int base = p * P * k;
    int x0 = t * k;
    FloatVector a0 = FloatVector.zero(Simd.FLOATS);
    FloatVector b0 = a0;
    for (int i = 0; i < k; i++) {
      FloatVector w0 = Simd.widen(ShortVector.fromArray(Simd.SHORTS, ws, base + i * P));
      FloatVector w1 = Simd.widen(ShortVector.fromArray(Simd.SHORTS, ws, base + i * P + L));
      FloatVector v = FloatVector.broadcast(Simd.FLOATS, x[x0 + i]);
      a0 = w0.fma(v, a0);
      b0 = w1.fma(v, b0);
    }
    int o = w.outputs();
    int col = p * P;
    if (col + P <= o && bias == null) {
      int at = t * o + col;
      a0.intoArray(y, at);
      b0.intoArray(y, at + L);
    } else {
      a0.intoArray(tail, 0);
      b0.intoArray(tail, L);
      MatMul.storeTail(y, t, w, p, bias, tail);
    }
  }

  static void panel1Q8(
      float[] x, int t, PackedMatrix w, int p, float[] y, float[] bias, float[] tail) {
    int k = w.inputs();
    byte[] wq = w.q8();
    float[] sc = w.scales();
    int blocks = w.blocks();
    int sBase = p * P * blocks;
    int base = p * P * k;
    int x0 = t * k;
    FloatVector a0 = FloatVector.zero(Simd.FLOATS);
    FloatVector b0 = a0;
    for (int b = 0; b < blocks; b++) {
      FloatVector s0 = FloatVector.fromArray(Simd.FLOATS, sc, sBase + b * P);
      FloatVector s1 = FloatVector.fromArray(Simd.FLOATS, sc, sBase + b * P + L);
      int end = Math.min(k, (b + 1) * Q8Rows.BLOCK);
      for (int i = b * Q8Rows.BLOCK; i < end; i++) {
        FloatVector w0 = Simd.widenQ8(wq, base + i * P).mul(s0);
        FloatVector w1 = Simd.widenQ8(wq, base + i * P + L).mul(s1);
        FloatVector v = FloatVector.broadcast(Simd.FLOATS, x[x0 + i]);
        a0 = w0.fma(v, a0);
        b0 = w1.fma(v, b0);
      }
    }
    int o = w.outputs();
    int col = p * P;
    if (col + P <= o && bias == null) {
      int at = t * o + col;
      a0.intoArray(y, at);
      b0.intoArray(y, at + L);
    } else {
      a0.intoArray(tail, 0);
      b0.intoArray(tail, L);
      MatMul.storeTail(y, t, w, p, bias, tail);
    }
  }
}
