package dev.flashattn4j.tensor;

import java.util.Locale;

/**
 * The element types of a safetensors file, by the names its header uses ({@code "F32"}, {@code
 * "BF16"}, ...), all little-endian. Every type's layout is checked when a file is opened; the
 * floating-point ones ({@link #isFloat()}) can be read as float32.
 */
public enum SafetensorsDtype {
  /** IEEE double precision; read rounded to float32. */
  F64(8),
  /** IEEE single precision. */
  F32(4),
  /** IEEE half precision; read exactly into float32. */
  F16(2),
  /** bfloat16 (float32's top 16 bits); read exactly into float32. */
  BF16(2),
  F8_E4M3(1),
  F8_E5M2(1),
  I64(8),
  I32(4),
  I16(2),
  I8(1),
  U64(8),
  U32(4),
  U16(2),
  U8(1),
  BOOL(1);

  private final int size;

  SafetensorsDtype(int size) {
    this.size = size;
  }

  /** Bytes an element takes. */
  public int byteSize() {
    return size;
  }

  /** True for F64, F32, F16 and BF16: the types that {@link Safetensors#floats} reads. */
  public boolean isFloat() {
    return this == F64 || this == F32 || this == F16 || this == BF16;
  }

  /** The lower-case name, e.g. {@code bf16}. */
  public String lowerName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The type a header names.
   *
   * @return null when no type has this name
   */
  static SafetensorsDtype byName(String name) {
    for (SafetensorsDtype d : values()) {
      if (d.name().equals(name)) {
        return d;
      }
    }
    return null;
  }
}
