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
  BOOL("|b1", 1);

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
    return this != BOOL;
  }

  /** The type of a {@code descr}, or null when the project does not read it. */
  static NpyDtype ofDescr(String descr) {
    for (NpyDtype t : values()) {
      if (t.descr.equals(descr)) {
        return t;
      }
    }
    return null;
  }
}
