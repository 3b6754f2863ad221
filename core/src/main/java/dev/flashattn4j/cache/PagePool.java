package dev.flashattn4j.cache;

import dev.flashattn4j.tensor.Tensor;
import java.util.Arrays;
import java.util.function.Supplier;

/**
 * The pages of a {@link PagedKvCache}: for every layer, K and V arrays of {@code pageSize} token
 * slots of every head, allocated as sequences first need them (and kept for reuse), with a
 * reference count per page and the free list. The cache decides which sequence holds which page;
 * this class holds the bytes. Not thread-safe: the cache's one writer changes it.
 */
final class PagePool {

  final int layers;
  final int kvHeads;
  final int headDim;
  final int valueDim;
  final int pageSize;
  final int pages;
  final KvStorage storage;
  private final int keyLength;
  private final int valueLength;

  // [layer][page] -> K rows [head][slot][d] and V rows [head][slot][d_v], in one of three kinds:
  // float32, 16-bit patterns, or int8 with one scale per (head, slot) in [layer][page][head·P +
  // slot]. Pages [0, allocated) have arrays; the outer arrays grow by doubling up to the capacity.
  private float[][][] keys32;
  private float[][][] values32;
  private short[][][] keys16;
  private short[][][] values16;
  private byte[][][] keys8;
  private byte[][][] values8;
  private float[][][] keyScales;
  private float[][][] valueScales;
  int allocated;

  // refCount[page] for the allocated pages; freeList[0, freeCount) the allocated pages no sequence
  // holds (pages never allocated are free too: freePages() counts them)
  int[] refCount;
  private int[] freeList;
  int freeCount;

  PagePool(
      int layers,
      int kvHeads,
      int headDim,
      int valueDim,
      int pageSize,
      int pages,
      KvStorage storage) {
    this.layers = layers;
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    this.valueDim = valueDim;
    this.pageSize = pageSize;
    this.pages = pages;
    this.storage = storage;
    this.keyLength = kvHeads * pageSize * headDim;
    this.valueLength = kvHeads * pageSize * valueDim;
    int slots = Math.min(pages, 16);
    switch (storage) {
      case FLOAT32 -> {
        keys32 = new float[layers][slots][];
        values32 = new float[layers][slots][];
      }
      case FLOAT16, BFLOAT16 -> {
        keys16 = new short[layers][slots][];
        values16 = new short[layers][slots][];
      }
      case INT8 -> {
        keys8 = new byte[layers][slots][];
        values8 = new byte[layers][slots][];
        keyScales = new float[layers][slots][];
        valueScales = new float[layers][slots][];
      }
    }
    refCount = new int[slots];
    freeList = new int[slots];
  }

  /** Pages no sequence holds: freed ones, and those not allocated yet. */
  int freePages() {
    return freeCount + pages - allocated;
  }

  /** How many sequences share a page (0: free); the page is in [0, pages). */
  int refCount(int page) {
    if (page < 0 || page >= pages) {
      throw new IllegalArgumentException("page " + page + " is not in [0, " + pages + ")");
    }
    return page < allocated ? refCount[page] : 0;
  }

  /** Bytes of one page, all layers (int8: with its two float32 scales a token and head). */
  long bytesPerPage() {
    long scales = storage == KvStorage.INT8 ? 2L * Float.BYTES : 0;
    return (long) layers
        * kvHeads
        * pageSize
        * ((headDim + valueDim) * (long) storage.bytesPerElement() + scales);
  }

  /**
   * Allocates pages [allocated, allocated + count) and puts them on the free list, lowest on top.
   * Every array is made before a field changes, so running out of memory leaves the cache as it
   * was.
   */
  void allocatePages(int count) {
    int newAllocated = allocated + count;
    int slots = refCount.length;
    while (slots < newAllocated) {
      slots = (int) Math.min(pages, 2L * slots);
    }
    int scales = kvHeads * pageSize;
    float[][][] k32;
    float[][][] v32;
    short[][][] k16;
    short[][][] v16;
    byte[][][] k8;
    byte[][][] v8;
    float[][][] ks;
    float[][][] vs;
    int[] counts;
    int[] free;
    try {
      k32 = grow(keys32, slots, newAllocated, () -> new float[keyLength]);
      v32 = grow(values32, slots, newAllocated, () -> new float[valueLength]);
      k16 = grow(keys16, slots, newAllocated, () -> new short[keyLength]);
      v16 = grow(values16, slots, newAllocated, () -> new short[valueLength]);
      k8 = grow(keys8, slots, newAllocated, () -> new byte[keyLength]);
      v8 = grow(values8, slots, newAllocated, () -> new byte[valueLength]);
      ks = grow(keyScales, slots, newAllocated, () -> new float[scales]);
      vs = grow(valueScales, slots, newAllocated, () -> new float[scales]);
      counts = Arrays.copyOf(refCount, slots);
      free = Arrays.copyOf(freeList, slots);
    } catch (OutOfMemoryError e) {
      throw new IllegalStateException(
          "out of memory growing the KV cache from "
              + allocated
              + " to "
              + newAllocated
              + " pages of "
              + bytesPerPage() / 1024
              + " KiB: give the JVM more memory (-Xmx) or the cache fewer pages",
          e);
    }
    keys32 = k32;
    values32 = v32;
    keys16 = k16;
    values16 = v16;
    keys8 = k8;
    values8 = v8;
    keyScales = ks;
    valueScales = vs;
    refCount = counts;
    freeList = free;
    for (int p = newAllocated - 1; p >= allocated; p--) {
      freeList[freeCount++] = p;
    }
    allocated = newAllocated;
  }

  /**
   * [layer][page] arrays of one kind with room for {@code slots} pages and pages [allocated,
   * newAllocated) made; null for a kind this pool does not store. Nothing is changed in place.
   */
  private <A> A[][] grow(A[][] old, int slots, int newAllocated, Supplier<A> make) {
    if (old == null) {
      return null;
    }
    A[][] fresh = Arrays.copyOf(old, old.length);
    for (int l = 0; l < layers; l++) {
      fresh[l] = Arrays.copyOf(old[l], slots);
      for (int p = allocated; p < newAllocated; p++) {
        fresh[l][p] = make.get();
      }
    }
    return fresh;
  }

  int take() {
    int p = freeList[--freeCount];
    refCount[p] = 1;
    return p;
  }

  void release(int page) {
    if (--refCount[page] == 0) {
      freeList[freeCount++] = page;
    }
  }

  void copyPage(int from, int to) {
    for (int l = 0; l < layers; l++) {
      switch (storage) {
        case FLOAT32 -> {
          System.arraycopy(keys32[l][from], 0, keys32[l][to], 0, keyLength);
          System.arraycopy(values32[l][from], 0, values32[l][to], 0, valueLength);
        }
        case FLOAT16, BFLOAT16 -> {
          System.arraycopy(keys16[l][from], 0, keys16[l][to], 0, keyLength);
          System.arraycopy(values16[l][from], 0, values16[l][to], 0, valueLength);
        }
        case INT8 -> {
          System.arraycopy(keys8[l][from], 0, keys8[l][to], 0, keyLength);
          System.arraycopy(values8[l][from], 0, values8[l][to], 0, valueLength);
          System.arraycopy(keyScales[l][from], 0, keyScales[l][to], 0, kvHeads * pageSize);
          System.arraycopy(valueScales[l][from], 0, valueScales[l][to], 0, kvHeads * pageSize);
        }
      }
    }
  }

  void clearPage(int page) {
    for (int l = 0; l < layers; l++) {
      switch (storage) {
        case FLOAT32 -> {
          Arrays.fill(keys32[l][page], 0f);
          Arrays.fill(values32[l][page], 0f);
        }
        case FLOAT16, BFLOAT16 -> {
          Arrays.fill(keys16[l][page], (short) 0);
          Arrays.fill(values16[l][page], (short) 0);
        }
        case INT8 -> {
          Arrays.fill(keys8[l][page], (byte) 0);
          Arrays.fill(values8[l][page], (byte) 0);
          Arrays.fill(keyScales[l][page], 0f);
          Arrays.fill(valueScales[l][page], 0f);
        }
      }
    }
  }

  /**
   * Stores one row (token t of head h of {@code src}) at element {@code at} of a page: as it is, as
   * 16-bit patterns, or as int8 with the row's scale at [head·P + slot].
   */
  void store(
      int layer,
      int page,
      boolean key,
      int at,
      int head,
      int slot,
      Tensor src,
      int h,
      int t,
      int cols) {
    float[] from = src.data();
    int o = src.rowOffset(0, h, t);
    switch (storage) {
      case FLOAT32 ->
          System.arraycopy(from, o, key ? keys32[layer][page] : values32[layer][page], at, cols);
      case FLOAT16, BFLOAT16 -> {
        short[] dst = key ? keys16[layer][page] : values16[layer][page];
        for (int c = 0; c < cols; c++) {
          dst[at + c] = storage.encode(from[o + c]);
        }
      }
      case INT8 -> {
        float[] scales = key ? keyScales[layer][page] : valueScales[layer][page];
        scales[head * pageSize + slot] =
            KvStorage.quantize(from, o, cols, key ? keys8[layer][page] : values8[layer][page], at);
      }
    }
  }

  /** Elements [at, at + cols) of a page's K (or V) rows, converted to float32. */
  void read(int layer, int page, boolean key, int at, int head, int slot, int cols, float[] out) {
    switch (storage) {
      case FLOAT32 ->
          System.arraycopy(key ? keys32[layer][page] : values32[layer][page], at, out, 0, cols);
      case FLOAT16, BFLOAT16 -> {
        short[] src = key ? keys16[layer][page] : values16[layer][page];
        for (int c = 0; c < cols; c++) {
          out[c] = storage.decode(src[at + c]);
        }
      }
      case INT8 -> {
        byte[] src = key ? keys8[layer][page] : values8[layer][page];
        float scale = (key ? keyScales : valueScales)[layer][page][head * pageSize + slot];
        for (int c = 0; c < cols; c++) {
          out[c] = src[at + c] * scale;
        }
      }
    }
  }

  /** K rows of a page in one layer, {@code [head][slot][d]} (FLOAT32 storage only). */
  float[] keyPage(int layer, int page) {
    checkPage(layer, page, keys32 != null, "keyPage", "keyPage16");
    return keys32[layer][page];
  }

  /** V rows of a page in one layer, {@code [head][slot][d_v]} (FLOAT32 storage only). */
  float[] valuePage(int layer, int page) {
    checkPage(layer, page, values32 != null, "valuePage", "valuePage16");
    return values32[layer][page];
  }

  /** K rows of a page in one layer as 16-bit patterns (FLOAT16 or BFLOAT16 storage only). */
  short[] keyPage16(int layer, int page) {
    checkPage(layer, page, keys16 != null, "keyPage16", "keyPage");
    return keys16[layer][page];
  }

  /** V rows of a page in one layer as 16-bit patterns (FLOAT16 or BFLOAT16 storage only). */
  short[] valuePage16(int layer, int page) {
    checkPage(layer, page, values16 != null, "valuePage16", "valuePage");
    return values16[layer][page];
  }

  /** K rows of a page in one layer as int8 (INT8 storage only). */
  byte[] keyPage8(int layer, int page) {
    checkPage(layer, page, keys8 != null, "keyPage8", "keyPage or keyPage16");
    return keys8[layer][page];
  }

  /** V rows of a page in one layer as int8 (INT8 storage only). */
  byte[] valuePage8(int layer, int page) {
    checkPage(layer, page, values8 != null, "valuePage8", "valuePage or valuePage16");
    return values8[layer][page];
  }

  /** The scales of a page's K rows, [head·pageSize + slot] (INT8 storage only). */
  float[] keyScales(int layer, int page) {
    checkPage(layer, page, keyScales != null, "keyScales", "keyPage or keyPage16");
    return keyScales[layer][page];
  }

  /** The scales of a page's V rows, [head·pageSize + slot] (INT8 storage only). */
  float[] valueScales(int layer, int page) {
    checkPage(layer, page, valueScales != null, "valueScales", "valuePage or valuePage16");
    return valueScales[layer][page];
  }

  private void checkPage(int layer, int page, boolean stored, String method, String other) {
    if (!stored) {
      throw new IllegalStateException(
          method
              + ": this cache stores "
              + storage.name().toLowerCase(java.util.Locale.ROOT)
              + " elements; use "
              + other);
    }
    if (page < 0 || page >= allocated) {
      throw new IllegalArgumentException(
          "page " + page + " is not in [0, " + allocated + "), the pages allocated");
    }
  }
}
