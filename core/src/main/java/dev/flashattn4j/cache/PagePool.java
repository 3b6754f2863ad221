package dev.flashattn4j.cache;

import dev.flashattn4j.tensor.Tensor;
import java.util.Arrays;

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

  // [layer][page] -> K rows [head][slot][d] and V rows [head][slot][d_v]; one of the two kinds.
  // Pages [0, allocated) have arrays; the outer arrays grow by doubling up to the capacity.
  private float[][][] keys32;
  private float[][][] values32;
  private short[][][] keys16;
  private short[][][] values16;
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
    if (storage == KvStorage.FLOAT32) {
      keys32 = new float[layers][slots][];
      values32 = new float[layers][slots][];
    } else {
      keys16 = new short[layers][slots][];
      values16 = new short[layers][slots][];
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

  /** Bytes of one page, all layers. */
  private long bytesPerPage() {
    return (long) layers * kvHeads * pageSize * (headDim + valueDim) * storage.bytesPerElement();
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
    boolean wide = keys32 != null;
    float[][][] k32 = null;
    float[][][] v32 = null;
    short[][][] k16 = null;
    short[][][] v16 = null;
    int[] counts;
    int[] free;
    try {
      if (wide) {
        k32 = new float[layers][][];
        v32 = new float[layers][][];
      } else {
        k16 = new short[layers][][];
        v16 = new short[layers][][];
      }
      for (int l = 0; l < layers; l++) {
        if (wide) {
          k32[l] = Arrays.copyOf(keys32[l], slots);
          v32[l] = Arrays.copyOf(values32[l], slots);
        } else {
          k16[l] = Arrays.copyOf(keys16[l], slots);
          v16[l] = Arrays.copyOf(values16[l], slots);
        }
        for (int p = allocated; p < newAllocated; p++) {
          if (wide) {
            k32[l][p] = new float[keyLength];
            v32[l][p] = new float[valueLength];
          } else {
            k16[l][p] = new short[keyLength];
            v16[l][p] = new short[valueLength];
          }
        }
      }
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
    refCount = counts;
    freeList = free;
    for (int p = newAllocated - 1; p >= allocated; p--) {
      freeList[freeCount++] = p;
    }
    allocated = newAllocated;
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
      if (keys32 != null) {
        System.arraycopy(keys32[l][from], 0, keys32[l][to], 0, keys32[l][from].length);
        System.arraycopy(values32[l][from], 0, values32[l][to], 0, values32[l][from].length);
      } else {
        System.arraycopy(keys16[l][from], 0, keys16[l][to], 0, keys16[l][from].length);
        System.arraycopy(values16[l][from], 0, values16[l][to], 0, values16[l][from].length);
      }
    }
  }

  void clearPage(int page) {
    for (int l = 0; l < layers; l++) {
      if (keys32 != null) {
        Arrays.fill(keys32[l][page], 0f);
        Arrays.fill(values32[l][page], 0f);
      } else {
        Arrays.fill(keys16[l][page], (short) 0);
        Arrays.fill(values16[l][page], (short) 0);
      }
    }
  }

  void store(int layer, int page, boolean key, int at, Tensor src, int h, int t, int cols) {
    float[] from = src.data();
    int o = src.rowOffset(0, h, t);
    if (keys32 != null) {
      float[] dst = key ? keys32[layer][page] : values32[layer][page];
      System.arraycopy(from, o, dst, at, cols);
    } else {
      short[] dst = key ? keys16[layer][page] : values16[layer][page];
      for (int c = 0; c < cols; c++) {
        dst[at + c] = storage.encode(from[o + c]);
      }
    }
  }

  /** Elements [at, at + cols) of a page's K (or V) rows, converted to float32. */
  void read(int layer, int page, boolean key, int at, int cols, float[] out) {
    for (int c = 0; c < cols; c++) {
      out[c] =
          keys32 != null
              ? (key ? keys32 : values32)[layer][page][at + c]
              : storage.decode((key ? keys16 : values16)[layer][page][at + c]);
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
