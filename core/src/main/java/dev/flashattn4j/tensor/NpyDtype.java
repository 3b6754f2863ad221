package dev.flashattn4j.tensor;

/** The .npy element types the project reads (all of them little-endian or byte-sized). */
public enum NpyDtype {
  /** IEEE half precision, {@code '<f2'}; read exactly into float32. */
  FLOAT16("<f2", 2),
  /** IEEE single precision, {@code '<f4'}. */
  FLOAT32("<f4", 4),
  /** IEEE double precision, {@code '<f8'}. */
  FLOAT64("<f8", 8),
  /** NumPy's bool, one byte, {@code '|b1'}. */
  BOOL("|b1", 1),
  /** Signed 8-bit integers, {@code '|i1'} (PyTorch's int8 masks). */
  INT8("|i1", 1),
  /** Unsigned 8-bit integers, {@code '|u1'} (PyTorch's uint8 masks). */
  UINT8("|u1", 1),
  /** Signed 16-bit integers, {@code '<i2'}. */
  INT16("<i2", 2),
  /** Signed 32-bit integers, {@code '<i4'}. */
  INT32("<i4", 4),
  /** Signed 64-bit integers, {@code '<i8'}. */
  INT64("<i8", 8);

  private final String descr;
  private final int itemSize;

  NpyDtype(String descr, int itemSize) {
    this.descr = descr;
    this.itemSize = itemSize;
  }

  /** The header's {@code descr} string, e.g. {@code '<f4'}. */
  public String descr() {
    return descr;
  }

  /** Bytes per element. */
  public int itemSize() {
    return itemSize;
  }

  /** True for the three floating-point types. */
  public boolean isFloat() {
    return this == FLOAT16 || this == FLOAT32 || this == FLOAT64;
  }

  /** True for the integer types (int8, uint8, int16, int32, int64). */
  public boolean isInteger() {
    return !isFloat() && this != BOOL;
  }

  /** The type of a {@code descr}, or null when the project does not read it. */
  static NpyDtype ofDescr(String descr) {
    // a one-byte type has no byte order: '<i1' and '=u1' are '|i1' and '|u1'
    if (descr.length() == 3 && descr.endsWith("1") && "<>=".indexOf(descr.charAt(0)) >= 0) {
      descr = "|" + descr.substring(1);
    }
    for (NpyDtype t : values()) {
      if (t.descr.equals(descr)) {
        return t;
      }
    }
    return null;
  }
}
