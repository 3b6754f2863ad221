package dev.flashattn4j.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Pages, block tables, free, fork and copy on write, and errors that change nothing. */
class PagedKvCacheTest {

  private static final int H = 2;
  private static final int D = 3;
  private static final int DV = 5;
  private static final int PAGE = 4;

  private static PagedKvCache cache(int pages) {
    return new PagedKvCache(1, H, D, DV, PAGE, pages, KvStorage.FLOAT32);
  }

  /** K of n tokens whose element (h, t, c) is base + 100·h + 10·t + c. */
  private static Tensor tokens(int n, int cols, float base) {
    Tensor t = Tensor.zeros(H, n, cols);
    for (int h = 0; h < H; h++) {
      for (int i = 0; i < n; i++) {
        for (int c = 0; c < cols; c++) {
          t.set(0, h, i, c, base + 100 * h + 10 * i + c);
        }
      }
    }
    return t;
  }

  private static float[] key(PagedKvCache cache, int seq, int pos, int head) {
    float[] out = new float[cache.headDim()];
    cache.read(0, seq, pos, head, true, out);
    return out;
  }

  private static float[] value(PagedKvCache cache, int seq, int pos, int head) {
    float[] out = new float[cache.valueDim()];
    cache.read(0, seq, pos, head, false, out);
    return out;
  }

  /** Everything observable about the cache, to check that a failed call changed nothing. */
  private static String snapshot(PagedKvCache cache) {
    StringBuilder sb = new StringBuilder("free " + cache.freePages() + ";");
    for (int id : cache.sequenceIds()) {
      sb.append(id)
          .append(':')
          .append(cache.length(id))
          .append(Arrays.toString(cache.blockTable(id)));
      for (int p = 0; p < cache.length(id); p++) {
        for (int h = 0; h < H; h++) {
          sb.append(Arrays.toString(key(cache, id, p, h)))
              .append(Arrays.toString(value(cache, id, p, h)));
        }
      }
    }
    for (int p = 0; p < cache.capacityPages(); p++) {
      sb.append(cache.refCount(p)).append(',');
    }
    return sb.toString();
  }

  /**
   * Issue 19: the pool grows as tokens come. A cache sized for a million pages of a 32-layer model
   * (64 GiB if reserved whole) costs nothing until used, allocates only the pages its sequences
   * take, reuses freed pages before it allocates new ones, and still refuses past its capacity.
   */
  @Test
  void pagesAreAllocatedAsTokensCome() {
    for (KvStorage storage : KvStorage.values()) {
      PagedKvCache c = new PagedKvCache(32, 8, 128, 128, 16, 1_000_000, storage);
      assertEquals(0, c.allocatedPages());
      assertEquals(0, c.bytesAllocated());
      assertEquals(1_000_000, c.freePages());
      assertEquals(c.bytesPerPage() * 1_000_000, c.bytesCapacity());
      int a = c.newSequence();
      c.reserve(a, 100);
      assertEquals(7, c.allocatedPages());
      assertEquals(7 * c.bytesPerPage(), c.bytesAllocated());
      assertEquals(1_000_000 - 7, c.freePages());
      for (int i = 0; i < 40; i++) {
        c.reserve(a, 16); // grows one page at a time, past the first doubling of the tables
      }
      assertEquals(47, c.allocatedPages());
      c.free(a);
      assertEquals(1_000_000, c.freePages());
      int b = c.newSequence();
      c.reserve(b, 47 * 16);
      assertEquals(47, c.allocatedPages(), "freed pages are taken before new ones are made");
      c.reserve(b, 1);
      assertEquals(48, c.allocatedPages());
    }
    PagedKvCache small = cache(3);
    int s = small.newSequence();
    small.reserve(s, 3 * PAGE);
    assertThrows(IllegalStateException.class, () -> small.reserve(s, 1));
    assertEquals(3, small.allocatedPages());
  }

  /** A page not allocated yet reads as free and cannot be fetched raw. */
  @Test
  void pagesNotAllocatedAreFreeAndNotReadable() {
    PagedKvCache c = cache(8);
    int s = c.newSequence();
    c.reserve(s, PAGE + 1);
    assertEquals(2, c.allocatedPages());
    assertEquals(0, c.refCount(7));
    assertThrows(IllegalArgumentException.class, () -> c.keyPage(0, 2));
    assertEquals(1, c.refCount(1));
  }

  /**
   * Issue 21's prefix caching: a fork cut to a prefix shares the prefix's pages, frees nothing the
   * original holds, copies the shared partly filled page when it grows, and leaves the original's
   * tokens as they were.
   */
  @Test
  void aForkCutToAPrefixSharesItsPagesAndCopiesOnWrite() {
    PagedKvCache c = cache(8);
    int a = c.newSequence();
    c.append(a, tokens(10, D, 0), tokens(10, DV, 1000)); // pages 0, 1, 2 (2 tokens in page 2)
    int b = c.fork(a);
    c.truncate(b, 6); // pages 0 and 1 (page 1 half full), page 2 stays a's alone
    assertEquals(6, c.length(b));
    assertArrayEquals(new int[] {0, 1}, c.blockTable(b));
    assertEquals(2, c.refCount(0));
    assertEquals(2, c.refCount(1));
    assertEquals(1, c.refCount(2));
    assertEquals(5, c.freePages());
    c.append(b, tokens(3, D, 7000), tokens(3, DV, 8000)); // grows into the shared page 1: copied
    assertEquals(9, c.length(b));
    assertEquals(1, c.refCount(1));
    assertArrayEquals(new float[] {160, 161, 162}, key(c, a, 6, 1), "a's own tokens stay");
    assertArrayEquals(new float[] {7100, 7101, 7102}, key(c, b, 6, 1));
    assertArrayEquals(key(c, a, 5, 0), key(c, b, 5, 0), "the prefix is the same K");
    c.truncate(a, 0);
    assertEquals(0, c.length(a));
    assertThrows(IllegalArgumentException.class, () -> c.truncate(a, 1));
    assertThrows(IllegalArgumentException.class, () -> c.truncate(b, -1));
    c.free(a);
    c.free(b);
    assertEquals(8, c.freePages());
  }

  @Test
  void appendFillsPagesInOrderAndReadsBack() {
    PagedKvCache c = cache(8);
    int s = c.newSequence();
    assertEquals(0, c.append(s, tokens(6, D, 0), tokens(6, DV, 1000)));
    assertEquals(6, c.append(s, tokens(3, D, 5000), tokens(3, DV, 6000)));
    assertEquals(9, c.length(s));
    assertArrayEquals(new int[] {0, 1, 2}, c.blockTable(s));
    assertEquals(5, c.freePages());
    assertArrayEquals(new float[] {150, 151, 152}, key(c, s, 5, 1)); // 100·1 + 10·5
    assertArrayEquals(new float[] {6120, 6121, 6122, 6123, 6124}, value(c, s, 8, 1));
    // The page layout the kernels read: [head][slot][d]; position 5 is page 1, slot 1.
    assertEquals(150f, c.keyPage(0, 1)[(1 * PAGE + 1) * D]);
  }

  @Test
  void appendTakesStridedViews() {
    PagedKvCache c = cache(4);
    int s = c.newSequence();
    // A projection's (n, H, d) output seen as (1, H, n, d) without a copy.
    float[] kProj = new float[5 * H * D];
    for (int i = 0; i < kProj.length; i++) {
      kProj[i] = i;
    }
    Tensor k = Tensor.ofBnhd(kProj, 1, 5, H, D);
    c.append(s, k, TestTensors.uniform(1, 1, H, 5, DV));
    // token 2, head 1 is at (2·H + 1)·D in the projection
    assertArrayEquals(new float[] {15, 16, 17}, key(c, s, 2, 1));
  }

  @Test
  void freedPagesAreReused() {
    PagedKvCache c = cache(4);
    int a = c.newSequence();
    c.append(a, tokens(8, D, 0), tokens(8, DV, 0));
    int b = c.newSequence();
    c.append(b, tokens(8, D, 0), tokens(8, DV, 0));
    assertEquals(0, c.freePages());
    assertThrows(IllegalStateException.class, () -> c.append(b, tokens(1, D, 0), tokens(1, DV, 0)));
    c.free(a);
    assertEquals(2, c.freePages());
    assertFalse(c.contains(a));
    int d = c.newSequence();
    c.append(d, tokens(5, D, 7000), tokens(5, DV, 8000));
    assertEquals(0, c.freePages());
    int[] table = c.blockTable(d);
    Arrays.sort(table);
    assertArrayEquals(new int[] {0, 1}, table); // a's pages, cleared and refilled
    assertArrayEquals(new float[] {7000, 7001, 7002}, key(c, d, 0, 0));
    assertArrayEquals(new float[] {8140, 8141, 8142, 8143, 8144}, value(c, d, 4, 1));
    // the reused page's unused slots were cleared
    assertEquals(0f, c.keyPage(0, c.blockTable(d)[1])[(0 * PAGE + 1) * D]);
  }

  @Test
  void forkSharesPagesAndCopiesOnWrite() {
    PagedKvCache c = cache(8);
    int a = c.newSequence();
    c.append(a, tokens(6, D, 0), tokens(6, DV, 1000)); // page 0 full, page 1 holds 2 of 4
    int b = c.fork(a);
    assertArrayEquals(c.blockTable(a), c.blockTable(b));
    assertEquals(2, c.refCount(0));
    assertEquals(2, c.refCount(1));
    assertEquals(6, c.freePages());
    String aBefore = dump(c, a);

    c.append(b, tokens(3, D, 9000), tokens(3, DV, 9500)); // into the shared partial page: copy
    int[] tb = c.blockTable(b);
    assertEquals(0, tb[0]); // the full page stays shared
    assertNotEquals(1, tb[1]); // the partial one was copied
    assertEquals(2, c.refCount(0));
    assertEquals(1, c.refCount(1));
    assertEquals(dump(c, a), aBefore); // a sees nothing of b's tokens
    assertArrayEquals(key(c, a, 5, 1), key(c, b, 5, 1)); // the copy kept the prefix
    assertArrayEquals(new float[] {9110, 9111, 9112}, key(c, b, 7, 1));

    c.append(a, tokens(1, D, 4000), tokens(1, DV, 4000)); // page 1 is a's alone now: in place
    assertArrayEquals(new int[] {0, 1}, c.blockTable(a));
    assertArrayEquals(new float[] {4000, 4001, 4002}, key(c, a, 6, 0));
    assertArrayEquals(new float[] {9000, 9001, 9002}, key(c, b, 6, 0));

    c.free(a);
    assertEquals(1, c.refCount(0)); // still b's
    assertEquals(0, c.refCount(1));
    c.free(b);
    assertEquals(8, c.freePages());
  }

  @Test
  void forkAtAPageBoundaryCopiesNothing() {
    PagedKvCache c = cache(8);
    int a = c.newSequence();
    c.append(a, tokens(4, D, 0), tokens(4, DV, 0));
    int b = c.fork(a);
    c.append(b, tokens(1, D, 0), tokens(1, DV, 0));
    assertEquals(0, c.blockTable(b)[0]);
    assertEquals(2, c.refCount(0));
    assertEquals(6, c.freePages());
  }

  private static String dump(PagedKvCache c, int s) {
    StringBuilder sb = new StringBuilder();
    for (int p = 0; p < c.length(s); p++) {
      for (int h = 0; h < H; h++) {
        sb.append(Arrays.toString(key(c, s, p, h))).append(Arrays.toString(value(c, s, p, h)));
      }
    }
    return sb.toString();
  }

  @Test
  void aFullCacheIsAClearErrorAndChangesNothing() {
    PagedKvCache c = cache(3);
    int a = c.newSequence();
    c.append(a, tokens(6, D, 0), tokens(6, DV, 0));
    int b = c.fork(a); // shares both pages; one page free
    String before = snapshot(c);
    // b needs a copy of the partial page and one new page: 2 > 1 free
    IllegalStateException full =
        assertThrows(
            IllegalStateException.class, () -> c.append(b, tokens(3, D, 1), tokens(3, DV, 1)));
    assertTrue(full.getMessage().contains("KV cache full"), full.getMessage());
    assertTrue(full.getMessage().contains("1 of 3 are free"), full.getMessage());
    assertEquals(before, snapshot(c));
    assertThrows(IllegalStateException.class, () -> c.reserve(a, 7));
    assertEquals(before, snapshot(c));
    c.append(b, tokens(2, D, 1), tokens(2, DV, 1)); // fits: the copy only
    assertEquals(0, c.freePages());
  }

  @Test
  void badArgumentsAreClearErrorsAndChangeNothing() {
    PagedKvCache c = cache(4);
    int a = c.newSequence();
    c.append(a, tokens(3, D, 0), tokens(3, DV, 0));
    int b = c.fork(a);
    String before = snapshot(c);
    IllegalArgumentException unknown =
        assertThrows(
            IllegalArgumentException.class, () -> c.append(99, tokens(1, D, 0), tokens(1, DV, 0)));
    assertTrue(
        unknown.getMessage().contains("sequence 99 is not in the cache"), unknown.getMessage());
    assertThrows(IllegalArgumentException.class, () -> c.free(99));
    assertThrows(IllegalArgumentException.class, () -> c.fork(99));
    assertThrows(IllegalArgumentException.class, () -> c.length(99));
    // wrong d, wrong heads, k and v of different lengths
    assertThrows(
        IllegalArgumentException.class, () -> c.append(a, tokens(1, D + 1, 0), tokens(1, DV, 0)));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            c.append(a, TestTensors.uniform(1, H + 1, 1, D), TestTensors.uniform(1, H + 1, 1, DV)));
    assertThrows(
        IllegalArgumentException.class, () -> c.append(a, tokens(2, D, 0), tokens(1, DV, 0)));
    assertThrows(IllegalArgumentException.class, () -> c.reserve(a, -1));
    // writing positions that are not reserved, or that lie in a page shared with the fork
    assertThrows(
        IllegalArgumentException.class, () -> c.write(0, a, 2, tokens(2, D, 0), tokens(2, DV, 0)));
    assertThrows(
        IllegalArgumentException.class, () -> c.write(1, a, 0, tokens(1, D, 0), tokens(1, DV, 0)));
    IllegalStateException shared =
        assertThrows(
            IllegalStateException.class, () -> c.write(0, a, 1, tokens(1, D, 0), tokens(1, DV, 0)));
    assertTrue(shared.getMessage().contains("shared"), shared.getMessage());
    assertEquals(before, snapshot(c));
    assertTrue(c.contains(b));
  }

  @Test
  void multiLayerCachesReserveOnceAndWriteEachLayer() {
    PagedKvCache c = new PagedKvCache(3, H, D, DV, PAGE, 4, KvStorage.FLOAT32);
    int s = c.newSequence();
    assertThrows(
        IllegalArgumentException.class, () -> c.append(s, tokens(1, D, 0), tokens(1, DV, 0)));
    int at = c.reserve(s, 5);
    assertEquals(0, at);
    for (int layer = 0; layer < 3; layer++) {
      c.write(layer, s, 0, tokens(5, D, 1000 * layer), tokens(5, DV, 0));
    }
    float[] k = new float[D];
    c.read(2, s, 4, 1, true, k);
    assertArrayEquals(new float[] {2140, 2141, 2142}, k);
    c.read(0, s, 4, 1, true, k);
    assertArrayEquals(new float[] {140, 141, 142}, k);
    assertEquals(3L * H * PAGE * (D + DV) * 4, c.bytesPerPage());
    assertEquals(2 * c.bytesPerPage(), c.bytesInUse());
  }

  @Test
  void bfloat16StorageRoundsToNearestEvenWithFloat32Range() {
    PagedKvCache c = new PagedKvCache(1, 1, 4, 2, 2, 3, KvStorage.BFLOAT16);
    int s = c.newSequence();
    // 1 + 2^-8 is a tie between 1 and 1 + 2^-7 (even: 1); 1 + 3·2^-8 one between 1 + 2^-7 and
    // 1 + 2^-6 (even: 1 + 2^-6); 3e38 stays finite (float16 would give ∞); NaN stays NaN
    float[] k = {1f + 0x1p-8f, 1f + 3 * 0x1p-8f, 3e38f, Float.NaN};
    c.append(s, Tensor.of(k, 1, 1, 4), Tensor.of(new float[] {0.1f, -2.5f}, 1, 1, 2));
    float[] back = new float[4];
    c.read(0, s, 0, 0, true, back);
    assertEquals(1f, back[0]);
    assertEquals(1f + 0x1p-6f, back[1]);
    assertEquals(Float.intBitsToFloat(0x7F620000), back[2]);
    assertTrue(Float.isNaN(back[3]));
    float[] vBack = new float[2];
    c.read(0, s, 0, 0, false, vBack);
    assertEquals(Float.intBitsToFloat(0x3DCD0000), vBack[0]); // 0.1 = 0x3DCCCCCD rounds up
    assertEquals(-2.5f, vBack[1]); // exact
    assertEquals(-0f, KvStorage.BFLOAT16.round(-0f));
    assertEquals(Float.NEGATIVE_INFINITY, KvStorage.BFLOAT16.round(Float.NEGATIVE_INFINITY));
    // above bfloat16's largest value (0x7F7F: 3.3895e38) by half an ulp or more: ∞, as in PyTorch
    assertEquals(Float.intBitsToFloat(0x7F7F0000), KvStorage.BFLOAT16.round(3.39e38f));
    assertEquals(Float.POSITIVE_INFINITY, KvStorage.BFLOAT16.round(Float.MAX_VALUE));
    assertEquals(0x3f80, KvStorage.BFLOAT16.encode(1f));
    assertThrows(IllegalStateException.class, () -> KvStorage.FLOAT32.encode(1f));
    assertEquals(2L * 1 * 2 * (4 + 2), c.bytesPerPage());
  }

  @Test
  void float16StorageRoundsToHalfPrecision() {
    PagedKvCache c = new PagedKvCache(1, 1, 4, 2, 2, 3, KvStorage.FLOAT16);
    int s = c.newSequence();
    float[] k = {1f / 3, -65504f, 1e-8f, 70000f};
    c.append(s, Tensor.of(k, 1, 1, 4), Tensor.of(new float[] {0.1f, 2.5f}, 1, 1, 2));
    float[] back = new float[4];
    c.read(0, s, 0, 0, true, back);
    for (int i = 0; i < 4; i++) {
      assertEquals(Float.float16ToFloat(Float.floatToFloat16(k[i])), back[i]);
    }
    assertEquals(Float.POSITIVE_INFINITY, back[3]); // beyond the float16 range
    assertEquals(2L * 1 * 2 * (4 + 2), c.bytesPerPage());
  }

  @Test
  void constructorChecksSizes() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new PagedKvCache(1, 0, D, DV, PAGE, 4, KvStorage.FLOAT32));
    assertThrows(
        IllegalArgumentException.class,
        () -> new PagedKvCache(1, H, D, DV, 0, 4, KvStorage.FLOAT32));
    assertThrows(
        IllegalArgumentException.class,
        () -> new PagedKvCache(1, 1 << 10, 1 << 12, 1, 1 << 10, 1, KvStorage.FLOAT32));
  }

  @Test
  void pagesToReserveIsWhatReserveTakes() {
    PagedKvCache cache = cache(16);
    cache.newSequence();
    java.util.SplittableRandom r = new java.util.SplittableRandom(5);
    int checked = 0;
    for (int step = 0; step < 40; step++) {
      int[] live = cache.sequenceIds();
      int seq = live[r.nextInt(live.length)];
      if (r.nextInt(5) == 0 && live.length < 4) {
        seq = cache.fork(seq); // a fork shares a partly filled page: the next reserve copies it
      }
      int tokens = r.nextInt(7);
      int predicted = cache.pagesToReserve(seq, tokens);
      if (predicted > cache.freePages()) {
        String before = snapshot(cache);
        int full = seq;
        assertThrows(IllegalStateException.class, () -> cache.reserve(full, tokens));
        assertEquals(before, snapshot(cache));
        cache.free(seq);
        if (cache.sequenceIds().length == 0) {
          cache.newSequence();
        }
        continue;
      }
      int free = cache.freePages();
      cache.reserve(seq, tokens);
      assertEquals(free - predicted, cache.freePages(), "step " + step);
      checked++;
    }
    assertTrue(checked > 20, checked + " reservations checked");
    assertThrows(IllegalArgumentException.class, () -> cache.pagesToReserve(999, 1));
    int live = cache.sequenceIds()[0];
    assertThrows(IllegalArgumentException.class, () -> cache.pagesToReserve(live, -1));
  }
}
