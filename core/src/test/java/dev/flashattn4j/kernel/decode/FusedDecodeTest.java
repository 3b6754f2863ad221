package dev.flashattn4j.kernel.decode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.cache.KvStorage;
import dev.flashattn4j.cache.PagedKvCache;
import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import dev.flashattn4j.values.Window;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fused kernels (int8 and bfloat16 pages read in place, {@link DecodeFused}) against the
 * unfused path (the block widened to float32 first) and the oracle: seeded ragged calls over odd
 * head sizes, page sizes and lengths (page boundaries inside a block and a chunk), GQA groups of 1
 * to 8, N_q > 1, windows and soft caps, non-finite rows. 16-bit pages widen exactly, so the two
 * paths give the same bits; int8 applies its row scales once a row (after the dot product, before
 * P·V) instead of on every element, so the two agree within the oracle's error budget, with NaN in
 * the same places.
 */
class FusedDecodeTest {

  static Stream<Long> seeds() {
    return IntStream.range(0, 30).mapToObj(i -> 2100L + i);
  }

  private static final int[] DIMS = {1, 3, 16, 59, 64, 111, 128};
  private static final int[] GROUPS = {1, 2, 3, 4, 8};

  /** One seeded call: the cache, the queries and the options. */
  private record Call(
      PagedKvCache cache,
      int[] ids,
      int[] cu,
      Tensor q,
      AttentionOptions options,
      int chunkKeys,
      boolean nonFinite) {}

  private static Call call(long seed, KvStorage storage) {
    SplittableRandom r = new SplittableRandom(seed);
    int hkv = 1 + r.nextInt(2);
    int hq = hkv * GROUPS[r.nextInt(GROUPS.length)];
    int d = DIMS[r.nextInt(DIMS.length)];
    int dv = r.nextInt(3) == 0 ? DIMS[r.nextInt(DIMS.length)] : d;
    int page = new int[] {1, 7, 16, 33, 64}[r.nextInt(5)];
    int batch = 1 + r.nextInt(3);
    boolean nonFinite = r.nextInt(3) == 0;
    AttentionOptions.Builder opts = AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT);
    if (r.nextInt(4) == 0) {
      opts.window(new Window(1 + r.nextInt(70), 0));
    }
    if (r.nextInt(4) == 0) {
      opts.softcap(5f + r.nextInt(20));
    }
    PagedKvCache cache = new PagedKvCache(1, hkv, d, dv, page, 3 * (1025 / page + 2), storage);
    int[] ids = new int[batch];
    int[] cu = new int[batch + 1];
    for (int b = 0; b < batch; b++) {
      ids[b] = cache.newSequence();
      int len = new int[] {1, 7, 97, 300, 1025}[r.nextInt(5)];
      Tensor k = Tensor.uniform(r, -2f, 2f, hkv, len, d);
      Tensor v = Tensor.uniform(r, -1f, 1f, hkv, len, dv);
      if (nonFinite && len > 3) {
        // a NaN in one key, +∞ in one value: int8 stores either row as NaN
        k.set(0, r.nextInt(hkv), r.nextInt(len - 2), r.nextInt(d), Float.NaN);
        v.set(0, r.nextInt(hkv), r.nextInt(len), r.nextInt(dv), Float.POSITIVE_INFINITY);
      }
      cache.append(ids[b], k, v);
      // new tokens: one (a decode step), a few (speculative), a prompt chunk
      int nq = Math.min(len, r.nextBoolean() ? 1 : 1 + r.nextInt(20));
      cu[b + 1] = cu[b] + nq;
    }
    Tensor q = Tensor.uniform(r, -1f, 1f, 1, hq, cu[batch], d);
    return new Call(cache, ids, cu, q, opts.build(), 16 + r.nextInt(200), nonFinite);
  }

  private static AttentionResult run(Call c, boolean vector, boolean fused) {
    int hq = c.q.heads();
    int total = c.q.rows();
    Tensor out = Tensor.zeros(1, hq, total, c.cache.valueDim());
    float[] lse = new float[hq * total];
    try (DecodeAttention decode =
        DecodeAttention.builder()
            .threads(2)
            .chunkKeys(c.chunkKeys)
            .vector(vector)
            .fused(fused)
            .build()) {
      decode.decodeRagged(c.cache, 0, c.ids, c.q, c.cu, c.options, out, lse);
    }
    return new AttentionResult(out, lse);
  }

  static Stream<Object[]> bfloat16Cases() {
    return seeds()
        .flatMap(
            s ->
                Stream.of(
                    new Object[] {s, KvStorage.BFLOAT16, true},
                    new Object[] {s, KvStorage.BFLOAT16, false}));
  }

  @ParameterizedTest(name = "seed {0} {1} vector {2}")
  @MethodSource("bfloat16Cases")
  void bfloat16PagesGiveTheWidenedPathsBits(long seed, KvStorage storage, boolean vector) {
    Call c = call(seed, storage);
    AttentionResult fused = run(c, vector, true);
    AttentionResult widened = run(c, vector, false);
    assertArrayEquals(widened.output().data(), fused.output().data(), "O, seed " + seed);
    assertArrayEquals(widened.lse(), fused.lse(), "LSE, seed " + seed);
  }

  static Stream<Object[]> int8Cases() {
    return seeds().flatMap(s -> Stream.of(new Object[] {s, true}, new Object[] {s, false}));
  }

  @ParameterizedTest(name = "seed {0} vector {1}")
  @MethodSource("int8Cases")
  void int8PagesMatchTheWidenedPathAndTheOracle(long seed, boolean vector) {
    Call c = call(seed, KvStorage.INT8);
    AttentionResult fused = run(c, vector, true);
    AttentionResult widened = run(c, vector, false);
    float[] o = fused.output().data();
    float[] w = widened.output().data();
    for (int i = 0; i < o.length; i++) {
      assertEquals(Float.isNaN(w[i]), Float.isNaN(o[i]), "NaN at " + i + ", seed " + seed);
    }
    for (int i = 0; i < fused.lse().length; i++) {
      assertEquals(
          Float.isNaN(widened.lse()[i]), Float.isNaN(fused.lse()[i]), "LSE NaN, seed " + seed);
    }
    if (c.nonFinite) {
      return;
    }
    // every sequence against the oracle on the keys and values as the cache holds them
    int hq = c.q.heads();
    int total = c.q.rows();
    for (int b = 0; b < c.ids.length; b++) {
      int nq = c.cu[b + 1] - c.cu[b];
      Tensor qb = c.q.narrow(2, c.cu[b], nq).copy();
      Tensor ob = fused.output().narrow(2, c.cu[b], nq).copy();
      float[] lb = new float[hq * nq];
      for (int h = 0; h < hq; h++) {
        System.arraycopy(fused.lse(), h * total + c.cu[b], lb, h * nq, nq);
      }
      ErrorBudget.Check check =
          ErrorBudget.check(
              qb,
              stored(c.cache, c.ids[b], true),
              stored(c.cache, c.ids[b], false),
              c.options,
              new AttentionResult(ob, lb));
      assertTrue(check.passed(), "seed " + seed + " sequence " + b + ": " + check);
    }
  }

  /** K or V of a sequence as the cache holds it, (1, H_kv, L, d or d_v). */
  private static Tensor stored(PagedKvCache cache, int id, boolean key) {
    int len = cache.length(id);
    int cols = key ? cache.headDim() : cache.valueDim();
    Tensor t = Tensor.zeros(1, cache.kvHeads(), len, cols);
    float[] row = new float[cols];
    for (int h = 0; h < cache.kvHeads(); h++) {
      for (int j = 0; j < len; j++) {
        cache.read(0, id, j, h, key, row);
        System.arraycopy(row, 0, t.data(), t.rowOffset(0, h, j), cols);
      }
    }
    return t;
  }

  /**
   * Every bfloat16 pattern and every int8 value through each kernel's load: P·V of one row with p =
   * 1 leaves acc = 0 + 1·v, the widened element (−0 becomes +0; NaN stays NaN).
   */
  @Test
  void everyStoredPatternWidensAsTheScalarDecodeDoes() {
    int n = 1 << 16;
    short[] patterns = new short[n];
    for (int i = 0; i < n; i++) {
      patterns[i] = (short) i;
    }
    byte[] bytes = new byte[256];
    for (int i = 0; i < 256; i++) {
      bytes[i] = (byte) i;
    }
    float[] one = {1f};
    int[] zero = {0};
    for (boolean vector : new boolean[] {true, false}) {
      boolean simd = vector && DecodeSimd.VECTOR_BY_DEFAULT;
      float[] wide = new float[n];
      DecodeFused.accumulate16(simd, wide, 0, one, 0, 1, patterns, zero, n);
      for (int i = 0; i < n; i++) {
        float want = KvStorage.BFLOAT16.decode(patterns[i]);
        String at = "bfloat16 pattern 0x" + Integer.toHexString(i) + " simd " + simd;
        if (Float.isNaN(want)) {
          assertTrue(Float.isNaN(wide[i]), at);
        } else {
          assertEquals(want + 0f, wide[i], 0f, at);
        }
      }
      float[] acc = new float[256];
      DecodeFused.accumulate8(simd, acc, 0, one, 0, 1, bytes, zero, 256);
      for (int i = 0; i < 256; i++) {
        assertEquals((float) bytes[i], acc[i], 0f, "int8 " + bytes[i] + " simd " + simd);
      }
    }
  }
}
