package dev.flashattn4j.model;

/**
 * A weight matrix W (O × K, row-major) in GGML's Q8_0 format: each row cut into blocks of {@link
 * #BLOCK} consecutive inputs, each block 32 int8 values q and one float16 scale d, the weight being
 * q·d. The product q·d is exact in float32 (|q| ≤ 127 has 7 significant bits, d 11), so the
 * dequantised matrix is a float32 matrix and a Q8_0 product can keep the float32 product's order
 * and bits ({@link MatMul}).
 *
 * <p>K need not be a multiple of 32: the last block of a row is short (its scale from its own
 * values), and nothing is stored past K. GGUF files cannot hold such a row (GGML refuses it), so
 * the GGUF reader refuses a Q8_0 or Q4_0 tensor whose rows are not whole blocks.
 *
 * <p>Quantisation is GGML's {@code quantize_row_q8_0_ref} (and the {@code gguf} Python package's
 * {@code Q8_0.quantize_blocks}, bit for bit): amax = max |x| over the block, d = amax / 127 and id
 * = 1 / d in float32 (0 for an all-zero block), q = roundf(x · id) (half away from zero), d stored
 * as float16 (round to nearest even). So a checkpoint quantised here and the same checkpoint
 * quantised by llama.cpp's converter hold the same bytes.
 *
 * @param outputs O
 * @param inputs K
 * @param q O × K int8, row-major
 * @param d O × ⌈K / 32⌉ float16 patterns, row-major: the scale of block b of row o at o·blocks + b
 */
record Q8Rows(int outputs, int inputs, byte[] q, short[] d) {

  /** Inputs per block. */
  static final int BLOCK = 32;

  Q8Rows {
    if (outputs < 0 || inputs < 0) {
      throw new IllegalArgumentException("a " + outputs + " × " + inputs + " matrix");
    }
    if ((long) outputs * inputs != q.length || (long) outputs * blocks(inputs) != d.length) {
      throw new IllegalArgumentException(
          q.length
              + " values and "
              + d.length
              + " scales for a "
              + outputs
              + " × "
              + inputs
              + " Q8_0 matrix");
    }
  }

  /** Blocks per row: ⌈K / 32⌉. */
  static int blocks(int inputs) {
    return (inputs + BLOCK - 1) / BLOCK;
  }

  int blocks() {
    return blocks(inputs);
  }

  /** Quantises a row-major O × K float32 matrix (finite values). */
  static Q8Rows quantize(float[] w, int outputs, int inputs) {
    if ((long) outputs * inputs != w.length) {
      throw new IllegalArgumentException(
          w.length + " elements for a " + outputs + " × " + inputs + " matrix");
    }
    int blocks = blocks(inputs);
    byte[] q = new byte[w.length];
    short[] d = new short[outputs * blocks];
    for (int o = 0; o < outputs; o++) {
      for (int b = 0; b < blocks; b++) {
        int from = o * inputs + b * BLOCK;
        int to = o * inputs + Math.min(inputs, (b + 1) * BLOCK);
        // amax = max |x|, d = amax / 127, id = 1 / d: all in float32, as GGML computes them
        float amax = 0f;
        for (int i = from; i < to; i++) {
          amax = Math.max(amax, Math.abs(w[i]));
        }
        float scale = amax / 127f;
        float id = scale != 0f ? 1f / scale : 0f;
        for (int i = from; i < to; i++) {
          q[i] = (byte) roundHalfAway(w[i] * id);
        }
        d[o * blocks + b] = Float.floatToFloat16(scale);
      }
    }
    return new Q8Rows(outputs, inputs, q, d);
  }

  /** C's roundf: to the nearest integer, halves away from zero (exact: |v| ≤ 127.5 here). */
  static int roundHalfAway(float v) {
    double a = Math.floor(Math.abs((double) v) + 0.5);
    return (int) (v < 0 ? -a : a);
  }

  /** Weight (o, k): q · d, exact in float32. */
  float get(int o, int k) {
    return q[o * inputs + k] * Float.float16ToFloat(d[o * blocks() + k / BLOCK]);
  }

  /** The dequantised matrix, row-major O × K float32 (every element exact). */
  float[] dequantize() {
    float[] w = new float[q.length];
    int blocks = blocks();
    for (int o = 0; o < outputs; o++) {
      for (int k = 0; k < inputs; k++) {
        w[o * inputs + k] = q[o * inputs + k] * Float.float16ToFloat(d[o * blocks + k / BLOCK]);
      }
    }
    return w;
  }

  /** The same matrix with its rows in the order {@code from}: row o is this row from[o]. */
  Q8Rows permuteRows(int[] from) {
    byte[] q2 = new byte[q.length];
    int blocks = blocks();
    short[] d2 = new short[d.length];
    for (int o = 0; o < outputs; o++) {
      System.arraycopy(q, from[o] * inputs, q2, o * inputs, inputs);
      System.arraycopy(d, from[o] * blocks, d2, o * blocks, blocks);
    }
    return new Q8Rows(outputs, inputs, q2, d2);
  }
}
