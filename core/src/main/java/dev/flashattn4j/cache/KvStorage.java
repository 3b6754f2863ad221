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
  FLOAT16(2);

  private final int bytes;

  KvStorage(int bytes) {
    this.bytes = bytes;
  }

  /** Bytes an element takes. */
  public int bytesPerElement() {
    return bytes;
  }
}
