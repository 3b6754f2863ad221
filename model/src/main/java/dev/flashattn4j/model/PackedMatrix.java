package dev.flashattn4j.model;

import java.util.Arrays;

/**
 * A weight matrix W (O × K: O outputs, K inputs, as {@code nn.Linear} stores it) repacked for the
 * matrix product: cut into panels of {@link #PANEL} consecutive outputs, each panel stored k-major
 * ({@code [k][j]}, j the output within the panel), so that the product streams one panel from start
 * to end and every FMA adds a whole vector of outputs (the GEMM "B panel" layout). The last panel
 * is padded with zeros. Elements are float32, or bfloat16 patterns kept as they are stored and
 * widened in the product (half the bytes to read), or Q8_0 ({@link Q8Rows}: int8 values in the same
 * layout, one byte each, and per panel a float32 scale for each (32-input block, output), {@code
 * [block][j]}: about 1.1 bytes a weight; the product widens q and multiplies it by its scale, q·d).
 */
final class PackedMatrix {

  /** Outputs per panel: two vectors. */
  static final int PANEL = 2 * Simd.LANES;

  /**
   * Bytes past the last panel of a Q8_0 matrix: with 128-bit vectors a widening load reads 8 bytes
   * of which it uses 4 ({@link Simd#widenQ8}).
   */
  private static final int Q8_PAD = 64;

  private final int outputs;
  private final int inputs;
  private final float[] f32;
  private final short[] bf16;
  private final byte[] q8;
  private final float[] scales;

  private PackedMatrix(
      int outputs, int inputs, float[] f32, short[] bf16, byte[] q8, float[] scales) {
    this.outputs = outputs;
    this.inputs = inputs;
    this.f32 = f32;
    this.bf16 = bf16;
    this.q8 = q8;
    this.scales = scales;
  }

  private static int packedLength(int outputs, int inputs) {
    long panels = (outputs + PANEL - 1) / PANEL;
    long n = panels * PANEL * inputs;
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "a " + outputs + " × " + inputs + " matrix is too large for one array");
    }
    return (int) n;
  }

  /** Packs a row-major O × K float32 matrix. */
  static PackedMatrix of(float[] rowMajor, int outputs, int inputs) {
    check(rowMajor.length, outputs, inputs);
    float[] p = new float[packedLength(outputs, inputs)];
    for (int o = 0; o < outputs; o++) {
      int base = (o / PANEL) * PANEL * inputs + o % PANEL;
      for (int k = 0; k < inputs; k++) {
        p[base + k * PANEL] = rowMajor[o * inputs + k];
      }
    }
    return new PackedMatrix(outputs, inputs, p, null, null, null);
  }

  /** Packs a row-major O × K matrix of bfloat16 patterns, kept as bfloat16. */
  static PackedMatrix ofBf16(short[] rowMajor, int outputs, int inputs) {
    check(rowMajor.length, outputs, inputs);
    short[] p = new short[packedLength(outputs, inputs)];
    for (int o = 0; o < outputs; o++) {
      int base = (o / PANEL) * PANEL * inputs + o % PANEL;
      for (int k = 0; k < inputs; k++) {
        p[base + k * PANEL] = rowMajor[o * inputs + k];
      }
    }
    return new PackedMatrix(outputs, inputs, null, p, null, null);
  }

  /** Packs a Q8_0 matrix, kept as int8 with float32 scales (the float16 scales widened). */
  static PackedMatrix ofQ8(Q8Rows m) {
    int outputs = m.outputs();
    int inputs = m.inputs();
    int blocks = m.blocks();
    byte[] p = new byte[Math.addExact(packedLength(outputs, inputs), Q8_PAD)];
    float[] s = new float[packedLength(outputs, blocks)];
    byte[] q = m.q();
    short[] d = m.d();
    for (int o = 0; o < outputs; o++) {
      int panel = o / PANEL;
      int j = o % PANEL;
      int base = panel * PANEL * inputs + j;
      for (int k = 0; k < inputs; k++) {
        p[base + k * PANEL] = q[o * inputs + k];
      }
      for (int b = 0; b < blocks; b++) {
        s[(panel * blocks + b) * PANEL + j] = Float.float16ToFloat(d[o * blocks + b]);
      }
    }
    return new PackedMatrix(outputs, inputs, null, null, p, s);
  }

  private static void check(int length, int outputs, int inputs) {
    if ((long) outputs * inputs != length) {
      throw new IllegalArgumentException(
          length + " elements for a " + outputs + " × " + inputs + " matrix");
    }
  }

  int outputs() {
    return outputs;
  }

  int inputs() {
    return inputs;
  }

  int panels() {
    return (outputs + PANEL - 1) / PANEL;
  }

  boolean isBf16() {
    return bf16 != null;
  }

  boolean isQ8() {
    return q8 != null;
  }

  /** Q8_0: blocks of 32 inputs per output. */
  int blocks() {
    return Q8Rows.blocks(inputs);
  }

  byte[] q8() {
    return q8;
  }

  /** Q8_0 scales, per panel {@code [block][j]}. */
  float[] scales() {
    return scales;
  }

  float[] f32() {
    return f32;
  }

  short[] bf16() {
    return bf16;
  }

  /** Bytes of the packed elements. */
  long bytes() {
    if (q8 != null) {
      return q8.length - Q8_PAD + 4L * scales.length;
    }
    return f32 != null ? 4L * f32.length : 2L * bf16.length;
  }

  /** Element (o, k) as float. */
  float get(int o, int k) {
    int at = (o / PANEL) * PANEL * inputs + k * PANEL + o % PANEL;
    if (q8 != null) {
      return q8[at] * scales[((o / PANEL) * blocks() + k / Q8Rows.BLOCK) * PANEL + o % PANEL];
    }
    return f32 != null ? f32[at] : Float.intBitsToFloat(bf16[at] << 16);
  }

  /** Row o (K floats) into dst from offset: an embedding lookup in a tied LM head. */
  void row(int o, float[] dst, int offset) {
    int base = (o / PANEL) * PANEL * inputs + o % PANEL;
    if (q8 != null) {
      for (int k = 0; k < inputs; k++) {
        dst[offset + k] = get(o, k);
      }
    } else if (f32 != null) {
      for (int k = 0; k < inputs; k++) {
        dst[offset + k] = f32[base + k * PANEL];
      }
    } else {
      for (int k = 0; k < inputs; k++) {
        dst[offset + k] = Float.intBitsToFloat(bf16[base + k * PANEL] << 16);
      }
    }
  }

  @Override
  public String toString() {
    return (q8 != null ? "q8_0" : f32 != null ? "f32" : "bf16")
        + Arrays.toString(new int[] {outputs, inputs});
  }
}
