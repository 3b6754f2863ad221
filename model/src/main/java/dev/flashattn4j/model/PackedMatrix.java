package dev.flashattn4j.model;

import java.util.Arrays;

/**
 * A weight matrix W (O × K: O outputs, K inputs, as {@code nn.Linear} stores it) repacked for the
 * matrix product: cut into panels of {@link #PANEL} consecutive outputs, each panel stored k-major
 * ({@code [k][j]}, j the output within the panel), so that the product streams one panel from start
 * to end and every FMA adds a whole vector of outputs (the GEMM "B panel" layout). The last panel
 * is padded with zeros. Elements are float32, or bfloat16 patterns kept as they are stored and
 * widened in the product (half the bytes to read).
 */
final class PackedMatrix {

  /** Outputs per panel: two vectors. */
  static final int PANEL = 2 * Simd.LANES;

  private final int outputs;
  private final int inputs;
  private final float[] f32;
  private final short[] bf16;

  private PackedMatrix(int outputs, int inputs, float[] f32, short[] bf16) {
    this.outputs = outputs;
    this.inputs = inputs;
    this.f32 = f32;
    this.bf16 = bf16;
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
    return new PackedMatrix(outputs, inputs, p, null);
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
    return new PackedMatrix(outputs, inputs, null, p);
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

  float[] f32() {
    return f32;
  }

  short[] bf16() {
    return bf16;
  }

  /** Bytes of the packed elements. */
  long bytes() {
    return f32 != null ? 4L * f32.length : 2L * bf16.length;
  }

  /** Element (o, k) as float. */
  float get(int o, int k) {
    int at = (o / PANEL) * PANEL * inputs + k * PANEL + o % PANEL;
    return f32 != null ? f32[at] : Float.intBitsToFloat(bf16[at] << 16);
  }

  /** Row o (K floats) into dst from offset: an embedding lookup in a tied LM head. */
  void row(int o, float[] dst, int offset) {
    int base = (o / PANEL) * PANEL * inputs + o % PANEL;
    if (f32 != null) {
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
    return (f32 != null ? "f32" : "bf16") + Arrays.toString(new int[] {outputs, inputs});
  }
}
