package dev.flashattn4j.cache;

import dev.flashattn4j.internal.Checks;
import dev.flashattn4j.tensor.Tensor;
import java.util.Arrays;

/**
 * Keys and values of every layer of a model for many sequences, in fixed-size pages from one shared
 * pool (vLLM's paged KV cache; FlashAttention's {@code block_table}).
 *
 * <p>A page holds {@code pageSize} consecutive token positions of one sequence, for every layer and
 * every K/V head. Inside a page, layer l keeps K as {@code [head][slot][d]} and V as {@code
 * [head][slot][d_v]}: the rows of one head are contiguous, so a decode step streams them. A
 * sequence's block table lists its pages in position order: position p lies in page {@code table[p
 * / pageSize]}, slot {@code p % pageSize}.
 *
 * <p>Growing a sequence is two steps, so that one reservation serves every layer: {@link #reserve}
 * adds positions (taking pages from the free list), then {@link #write} fills them layer by layer.
 * {@link #append} does both for a one-layer cache. {@link #fork} makes a second sequence that
 * shares every page of the first (reference counts); when either later grows into a shared page
 * that is only partly filled, it first gets its own copy of that page (copy on write), so the other
 * never sees the change. {@link #free} returns pages whose count drops to zero.
 *
 * <p>The pool grows as tokens come: a page's arrays are allocated when a sequence first needs it
 * (and kept for reuse after it is freed), so a cache sized for a model's whole context costs
 * nothing until it is used; {@code pages} bounds the pool, it is not reserved.
 *
 * <p>Every operation checks its arguments and the pool's capacity before it changes anything: an
 * {@link IllegalArgumentException} (unknown sequence, wrong shapes) or {@link
 * IllegalStateException} (pool full, a position not reserved or shared) leaves the cache exactly as
 * it was. Not thread-safe: one thread changes the cache, and no decode step runs meanwhile.
 */
public final class PagedKvCache {

  private final int layers;
  private final int kvHeads;
  private final int headDim;
  private final int valueDim;
  private final int pageSize;
  private final int pages;
  private final KvStorage storage;

  // the pages themselves: their arrays, reference counts and free list
  private final PagePool pool;

  private final SequenceMap<Sequence> sequences = new SequenceMap<>();
  private int nextId;

  /** A sequence: its length in tokens and its block table. */
  private static final class Sequence {
    int length;
    int[] table;
    int pageCount;

    Sequence(int[] table, int pageCount, int length) {
      this.table = table;
      this.pageCount = pageCount;
      this.length = length;
    }
  }

  /**
   * A cache with room for {@code pages} pages; each is allocated when a sequence first needs it.
   *
   * @param layers number of layers (each has its own K and V in every page)
   * @param kvHeads H_kv
   * @param headDim d, the size of a key
   * @param valueDim d_v, the size of a value
   * @param pageSize tokens a page holds
   * @param pages pages in the pool
   * @param storage float32, float16 or bfloat16 elements
   */
  public PagedKvCache(
      int layers,
      int kvHeads,
      int headDim,
      int valueDim,
      int pageSize,
      int pages,
      KvStorage storage) {
    Checks.notNull(storage, "storage");
    positive("layers", layers);
    positive("kvHeads", kvHeads);
    positive("headDim", headDim);
    positive("valueDim", valueDim);
    positive("pageSize", pageSize);
    positive("pages", pages);
    long pageElements = (long) kvHeads * pageSize * Math.max(headDim, valueDim);
    if (pageElements > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "a page of "
              + pageSize
              + " tokens × "
              + kvHeads
              + " heads × "
              + Math.max(headDim, valueDim)
              + " is too large for one array");
    }
    this.layers = layers;
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    this.valueDim = valueDim;
    this.pageSize = pageSize;
    this.pages = pages;
    this.storage = storage;
    this.pool = new PagePool(layers, kvHeads, headDim, valueDim, pageSize, pages, storage);
  }

  private static void positive(String name, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be at least 1, not " + value);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Sequences

  /** Starts an empty sequence and returns its id (ids are never reused). */
  public int newSequence() {
    int id = nextId++;
    sequences.put(id, new Sequence(new int[4], 0, 0));
    return id;
  }

  /**
   * A new sequence with the same tokens as {@code seqId}, sharing its pages: no element is copied
   * now; a shared page that is partly filled is copied when one of the two grows into it.
   *
   * @return the new sequence's id
   */
  public int fork(int seqId) {
    Sequence s = sequence(seqId);
    for (int i = 0; i < s.pageCount; i++) {
      pool.refCount[s.table[i]]++;
    }
    int id = nextId++;
    sequences.put(id, new Sequence(Arrays.copyOf(s.table, s.table.length), s.pageCount, s.length));
    return id;
  }

  /**
   * Shortens a sequence to its first {@code length} tokens: pages past them go back to the pool (or
   * stay with the forks that share them). With {@link #fork} this is prefix caching: a fork of a
   * cached prompt cut to the prefix a new prompt shares with it holds that prefix's K and V without
   * a copy; a shared, partly filled last page is copied when the fork grows into it.
   *
   * @throws IllegalArgumentException for an unknown sequence or a length outside [0, its length]
   */
  public void truncate(int seqId, int length) {
    Sequence s = sequence(seqId);
    if (length < 0 || length > s.length) {
      throw new IllegalArgumentException(
          "cannot cut sequence " + seqId + " of " + s.length + " tokens to " + length);
    }
    int keep = pagesFor(length);
    for (int i = s.pageCount - 1; i >= keep; i--) {
      pool.release(s.table[i]);
    }
    s.pageCount = keep;
    s.length = length;
  }

  /** Forgets a sequence; pages no other sequence shares go back to the pool. */
  public void free(int seqId) {
    Sequence s = sequence(seqId);
    sequences.remove(seqId);
    for (int i = s.pageCount - 1; i >= 0; i--) {
      pool.release(s.table[i]);
    }
  }

  /**
   * The free pages {@link #reserve}{@code (seqId, tokens)} would take now: the new pages, plus one
   * when the sequence's partly filled last page is shared with a fork and must be copied first. A
   * caller that grows several sequences at once checks their sum against {@link #freePages()}
   * before it reserves any, so that a full pool leaves every sequence as it was.
   *
   * @throws IllegalArgumentException for an unknown sequence or a negative count
   */
  public int pagesToReserve(int seqId, int tokens) {
    Sequence s = sequence(seqId);
    if (tokens < 0) {
      throw new IllegalArgumentException("cannot reserve " + tokens + " tokens");
    }
    long newLength = (long) s.length + tokens;
    if (newLength > Integer.MAX_VALUE - pageSize) {
      throw new IllegalArgumentException(
          "sequence " + seqId + " cannot grow to " + newLength + " tokens");
    }
    boolean copyLast =
        tokens > 0 && s.length % pageSize != 0 && pool.refCount[s.table[s.pageCount - 1]] > 1;
    return pagesFor((int) newLength) - s.pageCount + (copyLast ? 1 : 0);
  }

  /**
   * Adds {@code tokens} positions at the end of a sequence, for every layer, taking the pages it
   * needs from the pool (and copying a shared, partly filled last page first). The new positions
   * hold zeros until {@link #write} fills them.
   *
   * @return the first new position (the old length)
   * @throws IllegalStateException when the pool has too few free pages; the cache is unchanged
   */
  public int reserve(int seqId, int tokens) {
    Sequence s = sequence(seqId);
    if (tokens < 0) {
      throw new IllegalArgumentException("cannot reserve " + tokens + " tokens");
    }
    long newLength = (long) s.length + tokens;
    if (newLength > Integer.MAX_VALUE - pageSize) {
      throw new IllegalArgumentException(
          "sequence " + seqId + " cannot grow to " + newLength + " tokens");
    }
    int needed = pagesFor((int) newLength) - s.pageCount;
    boolean copyLast =
        tokens > 0 && s.length % pageSize != 0 && pool.refCount[s.table[s.pageCount - 1]] > 1;
    int take = needed + (copyLast ? 1 : 0);
    if (take > pool.freePages()) {
      throw new IllegalStateException(
          "KV cache full: sequence "
              + seqId
              + " needs "
              + take
              + " more page(s) of "
              + pageSize
              + " tokens to grow from "
              + s.length
              + " to "
              + newLength
              + " tokens, but "
              + pool.freePages()
              + " of "
              + pages
              + " are free");
    }
    if (take > pool.freeCount) {
      pool.allocatePages(take - pool.freeCount);
    }
    if (copyLast) {
      int old = s.table[s.pageCount - 1];
      int copy = pool.take();
      pool.copyPage(old, copy);
      pool.release(old);
      s.table[s.pageCount - 1] = copy;
    }
    if (s.table.length < s.pageCount + needed) {
      s.table = Arrays.copyOf(s.table, Math.max(s.pageCount + needed, 2 * s.table.length));
    }
    for (int i = 0; i < needed; i++) {
      int p = pool.take();
      pool.clearPage(p);
      s.table[s.pageCount++] = p;
    }
    int first = s.length;
    s.length = (int) newLength;
    return first;
  }

  /**
   * Writes the keys and values of {@code n} reserved positions of one layer.
   *
   * @param position the first position, with {@code position + n <= length(seqId)}
   * @param k (H_kv, n, d) or (1, H_kv, n, d), any strides (e.g. a {@link Tensor#ofBnhd} view of a
   *     projection's (n, H_kv, d) output)
   * @param v (H_kv, n, d_v) or (1, H_kv, n, d_v)
   * @throws IllegalStateException when a position lies in a page shared with another sequence
   */
  public void write(int layer, int seqId, int position, Tensor k, Tensor v) {
    Sequence s = sequence(seqId);
    checkLayer(layer);
    checkRows("k", k, headDim);
    checkRows("v", v, valueDim);
    int n = k.rows();
    if (v.rows() != n) {
      throw new IllegalArgumentException(
          "k has " + n + " tokens but v has " + v.rows() + " (k " + k + ", v " + v + ")");
    }
    if (position < 0 || (long) position + n > s.length) {
      throw new IllegalArgumentException(
          "positions ["
              + position
              + ", "
              + ((long) position + n)
              + ") of sequence "
              + seqId
              + " are not all reserved: its length is "
              + s.length
              + " (call reserve first)");
    }
    for (int p = position; p < position + n; p += pageSize - p % pageSize) {
      int page = s.table[p / pageSize];
      if (pool.refCount[page] > 1) {
        throw new IllegalStateException(
            "position "
                + p
                + " of sequence "
                + seqId
                + " lies in page "
                + page
                + ", shared with a fork: only new positions can be written");
      }
    }
    for (int t = 0; t < n; t++) {
      int p = position + t;
      int page = s.table[p / pageSize];
      int slot = p % pageSize;
      for (int h = 0; h < kvHeads; h++) {
        pool.store(layer, page, true, rowOffset(h, slot, headDim), h, slot, k, h, t, headDim);
        pool.store(layer, page, false, rowOffset(h, slot, valueDim), h, slot, v, h, t, valueDim);
      }
    }
  }

  /**
   * Appends tokens to a sequence of a one-layer cache: {@link #reserve} then {@link #write}.
   *
   * @param k (H_kv, n, d) or (1, H_kv, n, d)
   * @param v (H_kv, n, d_v) or (1, H_kv, n, d_v)
   * @return the position of the first new token
   */
  public int append(int seqId, Tensor k, Tensor v) {
    if (layers != 1) {
      throw new IllegalArgumentException(
          "append is for a one-layer cache; this one has "
              + layers
              + " layers: reserve once, then write each layer");
    }
    sequence(seqId);
    checkRows("k", k, headDim);
    checkRows("v", v, valueDim);
    if (v.rows() != k.rows()) {
      throw new IllegalArgumentException(
          "k has " + k.rows() + " tokens but v has " + v.rows() + " (k " + k + ", v " + v + ")");
    }
    int first = reserve(seqId, k.rows());
    write(0, seqId, first, k, v);
    return first;
  }

  private void checkRows(String name, Tensor t, int cols) {
    Checks.notNull(t, name);
    if (t.batch() != 1 || t.heads() != kvHeads || t.cols() != cols || t.rank() < 3) {
      throw new IllegalArgumentException(
          name
              + " must be (H_kv, n, "
              + cols
              + ") = ("
              + kvHeads
              + ", n, "
              + cols
              + ") or (1, H_kv, n, "
              + cols
              + "), not "
              + Arrays.toString(t.shape()));
    }
  }

  private void checkLayer(int layer) {
    if (layer < 0 || layer >= layers) {
      throw new IllegalArgumentException("layer " + layer + " is not in [0, " + layers + ")");
    }
  }

  private Sequence sequence(int seqId) {
    Sequence s = sequences.get(seqId);
    if (s == null) {
      throw new IllegalArgumentException(
          "sequence "
              + seqId
              + " is not in the cache (live: "
              + Arrays.toString(sequences.keys())
              + ")");
    }
    return s;
  }

  private int pagesFor(int tokens) {
    return (int) (((long) tokens + pageSize - 1) / pageSize);
  }

  private int rowOffset(int head, int slot, int cols) {
    return (head * pageSize + slot) * cols;
  }

  // ---------------------------------------------------------------------------------------------
  // What a sequence holds

  /** True when {@code seqId} is a live sequence. */
  public boolean contains(int seqId) {
    return sequences.containsKey(seqId);
  }

  /** Number of tokens of a sequence. */
  public int length(int seqId) {
    return sequence(seqId).length;
  }

  /** A copy of a sequence's block table: its pages in position order. */
  public int[] blockTable(int seqId) {
    Sequence s = sequence(seqId);
    return Arrays.copyOf(s.table, s.pageCount);
  }

  /**
   * The page that holds position block {@code index} of a sequence ({@code
   * blockTable(seqId)[index]} without a copy), for kernels.
   */
  public int page(int seqId, int index) {
    Sequence s = sequence(seqId);
    if (index < 0 || index >= s.pageCount) {
      throw new IllegalArgumentException(
          "sequence " + seqId + " has " + s.pageCount + " pages, not " + (index + 1));
    }
    return s.table[index];
  }

  /**
   * Copies a sequence's block table into {@code dst} (for kernels: no allocation).
   *
   * @param dst receives the pages from {@code dstOffset} on; needs room for {@code ceil(length /
   *     pageSize)} of them
   * @return the number of pages copied
   */
  public int copyBlockTable(int seqId, int[] dst, int dstOffset) {
    Sequence s = sequence(seqId);
    System.arraycopy(s.table, 0, dst, dstOffset, s.pageCount);
    return s.pageCount;
  }

  /** Ids of the live sequences, ascending. */
  public int[] sequenceIds() {
    return sequences.keys();
  }

  /** How many sequences share a page (0: free). */
  public int refCount(int page) {
    if (page < 0 || page >= pages) {
      throw new IllegalArgumentException("page " + page + " is not in [0, " + pages + ")");
    }
    return pool.refCount(page);
  }

  /**
   * Reads back the key (or value) of one position, converted to float32: for tests and checks, not
   * for kernels.
   *
   * @param out receives d (keys) or d_v (values) floats
   */
  public void read(int layer, int seqId, int position, int head, boolean key, float[] out) {
    Sequence s = sequence(seqId);
    checkLayer(layer);
    if (position < 0 || position >= s.length) {
      throw new IllegalArgumentException(
          "position " + position + " is not in sequence " + seqId + " of length " + s.length);
    }
    if (head < 0 || head >= kvHeads) {
      throw new IllegalArgumentException("head " + head + " is not in [0, " + kvHeads + ")");
    }
    int cols = key ? headDim : valueDim;
    if (out == null || out.length < cols) {
      throw new IllegalArgumentException(
          "out must hold the "
              + cols
              + " floats of a "
              + (key ? "K" : "V")
              + " row, not "
              + (out == null ? "null" : out.length));
    }
    int page = s.table[position / pageSize];
    int at = rowOffset(head, position % pageSize, cols);
    pool.read(layer, page, key, at, head, position % pageSize, cols, out);
  }

  // ---------------------------------------------------------------------------------------------
  // Sizes

  /** Layers the cache holds K and V for. */
  public int layers() {
    return layers;
  }

  /** K/V heads per layer (H_kv). */
  public int kvHeads() {
    return kvHeads;
  }

  /** d, the width of a key. */
  public int headDim() {
    return headDim;
  }

  /** d_v, the width of a value. */
  public int valueDim() {
    return valueDim;
  }

  /** Tokens per page. */
  public int pageSize() {
    return pageSize;
  }

  /** Pages in the pool. */
  public int capacityPages() {
    return pages;
  }

  /** Pages no sequence holds: freed ones, and those not allocated yet. */
  public int freePages() {
    return pool.freePages();
  }

  /** Pages whose arrays exist: the most the cache has held at once, rounded to whole pages. */
  public int allocatedPages() {
    return pool.allocated;
  }

  /** The element type K and V are stored in. */
  public KvStorage storage() {
    return storage;
  }

  /** Bytes of K and V in one page, all layers. */
  public long bytesPerPage() {
    return pool.bytesPerPage();
  }

  /** Bytes of K and V allocated so far (pages are allocated as sequences first need them). */
  public long bytesAllocated() {
    return bytesPerPage() * pool.allocated;
  }

  /** Bytes of K and V in pages some sequence uses. */
  public long bytesInUse() {
    return bytesPerPage() * (pool.allocated - pool.freeCount);
  }

  /** Bytes of K and V the cache would hold with every page allocated. */
  public long bytesCapacity() {
    return bytesPerPage() * pages;
  }

  // ---------------------------------------------------------------------------------------------
  // Raw pages, for kernels: live storage, not copies. Read only.

  /** K rows of a page in one layer, {@code [head][slot][d]} (FLOAT32 storage only). */
  public float[] keyPage(int layer, int page) {
    checkLayer(layer);
    return pool.keyPage(layer, page);
  }

  /** V rows of a page in one layer, {@code [head][slot][d_v]} (FLOAT32 storage only). */
  public float[] valuePage(int layer, int page) {
    checkLayer(layer);
    return pool.valuePage(layer, page);
  }

  /** K rows of a page in one layer as 16-bit patterns (FLOAT16 or BFLOAT16 storage only). */
  public short[] keyPage16(int layer, int page) {
    checkLayer(layer);
    return pool.keyPage16(layer, page);
  }

  /** V rows of a page in one layer as 16-bit patterns (FLOAT16 or BFLOAT16 storage only). */
  public short[] valuePage16(int layer, int page) {
    checkLayer(layer);
    return pool.valuePage16(layer, page);
  }

  /** K rows of a page in one layer as int8, {@code [head][slot][d]} (INT8 storage only). */
  public byte[] keyPage8(int layer, int page) {
    checkLayer(layer);
    return pool.keyPage8(layer, page);
  }

  /** V rows of a page in one layer as int8, {@code [head][slot][d_v]} (INT8 storage only). */
  public byte[] valuePage8(int layer, int page) {
    checkLayer(layer);
    return pool.valuePage8(layer, page);
  }

  /**
   * The scales of a page's int8 K rows: element c of row (head, slot) is {@code keyPage8[(head·P +
   * slot)·d + c] · keyScales[head·P + slot]} (INT8 storage only).
   */
  public float[] keyScales(int layer, int page) {
    checkLayer(layer);
    return pool.keyScales(layer, page);
  }

  /** The scales of a page's int8 V rows, as {@link #keyScales} (INT8 storage only). */
  public float[] valueScales(int layer, int page) {
    checkLayer(layer);
    return pool.valueScales(layer, page);
  }

  // ---------------------------------------------------------------------------------------------
  // Builder

  /**
   * A builder: each size named, the rest defaulted (one layer, d_v = d, pages of 16 tokens,
   * float32), in place of the constructor's seven positional numbers.
   *
   * {@snippet file="dev/flashattn4j/snippets/CoreSnippetsTest.java" region="decode"}
   */
  public static Builder builder() {
    return new Builder();
  }

  /** Builder of {@link PagedKvCache}: {@link #kvHeads}, {@link #headDim} and a size are needed. */
  public static final class Builder {
    private int layers = 1;
    private int kvHeads;
    private int headDim;
    private int valueDim;
    private int pageSize = 16;
    private long maxTokens;
    private int pages;
    private KvStorage storage = KvStorage.FLOAT32;

    private Builder() {}

    /** Layers that keep their own K and V in every page (1 by default). */
    public Builder layers(int layers) {
      this.layers = layers;
      return this;
    }

    /** H_kv, the K/V heads of a layer. */
    public Builder kvHeads(int kvHeads) {
      this.kvHeads = kvHeads;
      return this;
    }

    /** d, the width of a key (and of a value, unless {@link #valueDim} says otherwise). */
    public Builder headDim(int headDim) {
      this.headDim = headDim;
      return this;
    }

    /** d_v, the width of a value (d by default). */
    public Builder valueDim(int valueDim) {
      this.valueDim = valueDim;
      return this;
    }

    /** Tokens a page holds (16 by default). */
    public Builder pageSize(int pageSize) {
      this.pageSize = pageSize;
      return this;
    }

    /**
     * The most tokens the cache holds over all its sequences, rounded up to whole pages: a bound,
     * not a reservation (pages are allocated as tokens come). Or {@link #pages}.
     */
    public Builder maxTokens(long maxTokens) {
      this.maxTokens = maxTokens;
      this.pages = 0;
      return this;
    }

    /** The most pages the pool holds, or {@link #maxTokens}. */
    public Builder pages(int pages) {
      this.pages = pages;
      this.maxTokens = 0;
      return this;
    }

    /** The element type K and V are stored in (float32 by default). */
    public Builder storage(KvStorage storage) {
      this.storage = storage;
      return this;
    }

    /**
     * The cache.
     *
     * @throws IllegalArgumentException naming what is missing or out of range
     */
    public PagedKvCache build() {
      if (kvHeads < 1 || headDim < 1) {
        throw new IllegalArgumentException(
            "kvHeads and headDim must be set (at least 1), not " + kvHeads + " and " + headDim);
      }
      if (pageSize < 1 || valueDim < 0) {
        throw new IllegalArgumentException(
            "pageSize must be at least 1 and valueDim at least 1 (or unset), not "
                + pageSize
                + " and "
                + valueDim);
      }
      long p = pages > 0 ? pages : (maxTokens + pageSize - 1) / pageSize;
      if (p < 1 || p > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(
            "give maxTokens (at least 1) or pages (1 to 2^31 - 1), not "
                + (pages > 0 ? pages + " pages" : maxTokens + " tokens"));
      }
      return new PagedKvCache(
          layers, kvHeads, headDim, valueDim > 0 ? valueDim : headDim, pageSize, (int) p, storage);
    }
  }
}
