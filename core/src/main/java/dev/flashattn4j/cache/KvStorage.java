package dev.flashattn4j.cache;

import java.util.Arrays;

/** How a {@link PagedKvCache} stores its elements. */
public enum KvStorage {
  /** 4 bytes an element, exact. */
  FLOAT32(4),
  /**
   * 2 bytes an element (IEEE binary16, {@link Float#floatToFloat16}): half the memory and half the
   * bytes a decode step reads, at the cost of rounding K and V to 11 significant bits when they are
   * written and converting them back when they are read.
   */
  FLOAT16(2),
  /**
   * 2 bytes an element (bfloat16: float32's sign, 8-bit exponent and top 7 fraction bits, rounded
   * to nearest even): float32's range, so nothing overflows, with 8 significant bits; converting
   * back is a shift, so a decode step reads half the bytes of float32 for almost no work.
   */
  BFLOAT16(2),
  /**
   * 1 byte an element and one float32 scale a row (a token of one head): q = round(x / s) with s =
   * max|x| / 127 over the row, x ≈ q·s, each element within s/2 of its value. A quarter of
   * float32's memory and of the bytes a decode step reads, plus 8 bytes a token and head for the K
   * and V scales. A row that holds a NaN or ±∞ is stored as NaN (its scale NaN): the lossy format
   * cannot keep a non-finite element apart from its row.
   */
  INT8(1);

  private final int bytes;

  KvStorage(int bytes) {
    this.bytes = bytes;
  }

  /** Bytes an element takes. */
  public int bytesPerElement() {
    return bytes;
  }

  /** The 16-bit pattern that stores x (FLOAT16 or BFLOAT16 only). */
  public short encode(float x) {
    return switch (this) {
      case FLOAT16 -> Float.floatToFloat16(x);
      case BFLOAT16 -> toBfloat16(x);
      case FLOAT32, INT8 ->
          throw new IllegalStateException(name() + " storage has no 16-bit pattern");
    };
  }

  /** The float a stored 16-bit pattern stands for (FLOAT16 or BFLOAT16 only). */
  public float decode(short bits) {
    return switch (this) {
      case FLOAT16 -> Float.float16ToFloat(bits);
      case BFLOAT16 -> Float.intBitsToFloat(bits << 16);
      case FLOAT32, INT8 ->
          throw new IllegalStateException(name() + " storage has no 16-bit pattern");
    };
  }

  /**
   * x as stored: exact for FLOAT32, rounded through the 16-bit pattern for FLOAT16 and BFLOAT16.
   * INT8 rounds a whole row at once: {@link #roundRow}.
   *
   * @throws IllegalStateException for INT8
   */
  public float round(float x) {
    if (this == INT8) {
      throw new IllegalStateException(
          "int8 storage rounds a row at once (one scale a row): roundRow");
    }
    return this == FLOAT32 ? x : decode(encode(x));
  }

  /** Replaces x[off, off + n), one row of K or V, by its values as stored. */
  public void roundRow(float[] x, int off, int n) {
    if (this == INT8) {
      byte[] q = new byte[n];
      float s = quantize(x, off, n, q, 0);
      for (int c = 0; c < n; c++) {
        x[off + c] = q[c] * s;
      }
    } else if (this != FLOAT32) {
      for (int c = 0; c < n; c++) {
        x[off + c] = decode(encode(x[off + c]));
      }
    }
  }

  /**
   * int8 of one row: q[at + c] = round(x[off + c] / s) with s = max|x| / 127; returns s (0 for a
   * row of zeros, NaN for a row with a NaN or ±∞, whose bytes are then 0).
   */
  static float quantize(float[] x, int off, int n, byte[] q, int at) {
    float max = 0f;
    for (int c = 0; c < n; c++) {
      max = Math.max(max, Math.abs(x[off + c])); // NaN-propagating
    }
    if (!(max < Float.POSITIVE_INFINITY)) {
      Arrays.fill(q, at, at + n, (byte) 0);
      return Float.NaN;
    }
    if (max == 0f) {
      Arrays.fill(q, at, at + n, (byte) 0);
      return 0f;
    }
    float s = max / 127f;
    float inv = 127f / max;
    for (int c = 0; c < n; c++) {
      q[at + c] = (byte) Math.clamp(Math.round(x[off + c] * inv), -127, 127);
    }
    return s;
  }

  /**
   * float32 → bfloat16, rounded to nearest, ties to even (as PyTorch's {@code
   * .to(torch.bfloat16)}): the top 16 bits after adding 0x7FFF plus the lowest kept bit; a NaN
   * stays a (quiet) NaN.
   */
  static short toBfloat16(float x) {
    int bits = Float.floatToRawIntBits(x);
    if (Float.isNaN(x)) {
      return (short) ((bits >>> 16) | 0x0040);
    }
    return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
  }
}
