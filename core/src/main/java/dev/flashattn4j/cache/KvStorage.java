package dev.flashattn4j.cache;

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
  BFLOAT16(2);

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
      case FLOAT32 -> throw new IllegalStateException("float32 storage has no 16-bit pattern");
    };
  }

  /** The float a stored 16-bit pattern stands for (FLOAT16 or BFLOAT16 only). */
  public float decode(short bits) {
    return switch (this) {
      case FLOAT16 -> Float.float16ToFloat(bits);
      case BFLOAT16 -> Float.intBitsToFloat(bits << 16);
      case FLOAT32 -> throw new IllegalStateException("float32 storage has no 16-bit pattern");
    };
  }

  /** x as stored: exact for FLOAT32, rounded through the 16-bit pattern otherwise. */
  public float round(float x) {
    return this == FLOAT32 ? x : decode(encode(x));
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
