package dev.flashattn4j.kernel.decode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.cache.KvStorage;
import dev.flashattn4j.cache.PagedKvCache;
import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;
import dev.flashattn4j.values.AttentionMask;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The decode step against the oracle on the whole sequence, and its invariances. */
class DecodeAttentionTest {

  /**
   * One scenario: a batch of prompts of mixed lengths prefilled into the cache, then {@code steps}
   * decode steps of {@code newTokens} tokens each, every step checked against the oracle.
   */
  record Case(
      String name,
      int hq,
      int hkv,
      int d,
      int dv,
      int[] prompts,
      int steps,
      int newTokens,
      int pageSize,
      int chunkKeys,
      AttentionOptions options,
      KvStorage storage,
      boolean vector) {
    @Override
    public String toString() {
      return name + (vector ? " simd" : " scalar");
    }
  }

  static Stream<Case> cases() {
    AttentionOptions causal = AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).build();
    Stream<Case> base =
        Stream.of(
            new Case(
                "MHA one seq",
                2,
                2,
                16,
                16,
                new int[] {33},
                5,
                1,
                8,
                16,
                causal,
                KvStorage.FLOAT32,
                true),
            new Case(
                "GQA 4:1 mixed batch",
                8,
                2,
                59,
                59,
                new int[] {1, 97, 40},
                6,
                1,
                16,
                32,
                causal,
                KvStorage.FLOAT32,
                true),
            new Case(
                "MQA d=111 dv=7",
                3,
                1,
                111,
                7,
                new int[] {70, 5},
                4,
                1,
                7,
                24,
                causal,
                KvStorage.FLOAT32,
                true),
            new Case(
                "speculative 3 tokens",
                4,
                2,
                32,
                32,
                new int[] {50, 21},
                4,
                3,
                16,
                16,
                causal,
                KvStorage.FLOAT32,
                true),
            new Case(
                "window 20",
                4,
                1,
                24,
                24,
                new int[] {90, 12},
                5,
                1,
                8,
                16,
                causal.toBuilder().window(20, 0).build(),
                KvStorage.FLOAT32,
                true),
            new Case(
                "window speculative",
                4,
                2,
                24,
                24,
                new int[] {66},
                3,
                4,
                8,
                16,
                causal.toBuilder().window(9, 0).build(),
                KvStorage.FLOAT32,
                true),
            new Case(
                "softcap 5",
                4,
                2,
                40,
                40,
                new int[] {81, 3},
                4,
                1,
                16,
                32,
                causal.toBuilder().softcap(5f).scale(0.5f).build(),
                KvStorage.FLOAT32,
                true),
            new Case(
                "not causal",
                2,
                1,
                16,
                16,
                new int[] {44},
                3,
                2,
                16,
                16,
                AttentionOptions.DEFAULTS,
                KvStorage.FLOAT32,
                true),
            new Case(
                "float16 storage",
                8,
                2,
                64,
                64,
                new int[] {130, 17},
                4,
                1,
                16,
                64,
                causal,
                KvStorage.FLOAT16,
                true),
            new Case(
                "bfloat16 storage",
                8,
                2,
                64,
                64,
                new int[] {130, 17},
                4,
                1,
                16,
                64,
                causal,
                KvStorage.BFLOAT16,
                true));
    return base.flatMap(
        c ->
            Stream.of(
                c,
                new Case(
                    c.name,
                    c.hq,
                    c.hkv,
                    c.d,
                    c.dv,
                    c.prompts,
                    c.steps,
                    c.newTokens,
                    c.pageSize,
                    c.chunkKeys,
                    c.options,
                    c.storage,
                    false)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void prefillThenDecodeMatchesOracle(Case c) {
    CacheFixture f = new CacheFixture(c.hkv, c.d, c.dv, c.pageSize, 200, c.storage, 7);
    int batch = c.prompts.length;
    int[] ids = new int[batch];
    for (int b = 0; b < batch; b++) {
      ids[b] = f.newSequence();
      f.append(ids[b], c.prompts[b], 2f);
    }
    try (DecodeAttention decode =
        DecodeAttention.builder().threads(2).chunkKeys(c.chunkKeys).vector(c.vector).build()) {
      for (int step = 0; step < c.steps; step++) {
        for (int id : ids) {
          f.append(id, c.newTokens, 2f);
        }
        Tensor q = TestTensors.uniform(f.random, batch, c.hq, c.newTokens, c.d);
        AttentionResult r = decode.decode(f.cache, 0, ids, q, c.options);
        for (int b = 0; b < batch; b++) {
          ErrorBudget.Check check =
              ErrorBudget.check(
                  CacheFixture.batchEntry(q, b),
                  f.keys(ids[b]),
                  f.values(ids[b]),
                  c.options,
                  CacheFixture.slice(r, b));
          assertTrue(check.passed(), c + " step " + step + " seq " + b + ": " + check);
        }
      }
    }
  }

  @ParameterizedTest
  @MethodSource("storages")
  void bitsDoNotDependOnThreadsOrSplits(KvStorage storage) {
    CacheFixture f = new CacheFixture(2, 48, 40, 16, 200, storage, 11);
    int[] ids = {f.newSequence(), f.newSequence(), f.newSequence()};
    f.append(ids[0], 700, 3f);
    f.append(ids[1], 1, 3f);
    f.append(ids[2], 250, 3f);
    Tensor q = TestTensors.uniform(5, 3, 8, 2, 48);
    AttentionOptions opts =
        AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).window(300, 0).softcap(4f).build();
    for (boolean vector : new boolean[] {true, false}) {
      AttentionResult reference = null;
      int compared = 0;
      for (int threads : new int[] {1, 2, 3}) {
        for (int splits : new int[] {1, 2, 5, 0, 100}) {
          try (DecodeAttention decode =
              DecodeAttention.builder()
                  .threads(threads)
                  .splits(splits)
                  .chunkKeys(64)
                  .vector(vector)
                  .build()) {
            AttentionResult r = decode.decode(f.cache, 0, ids, q, opts);
            if (reference == null) {
              reference = r;
              continue;
            }
            String at = "threads " + threads + " splits " + splits + " vector " + vector;
            assertArrayEquals(reference.output().data(), r.output().data(), at);
            assertArrayEquals(reference.lse(), r.lse(), at);
            compared++;
          }
        }
      }
      assertEquals(14, compared);
    }
  }

  static Stream<KvStorage> storages() {
    return Stream.of(KvStorage.values());
  }

  @Test
  void chunkedEqualsOracleWithinBudgetForAnyChunkSize() {
    CacheFixture f = new CacheFixture(2, 32, 32, 16, 200, KvStorage.FLOAT32, 13);
    int id = f.newSequence();
    f.append(id, 501, 3f);
    Tensor q = TestTensors.uniform(3, 1, 4, 1, 32);
    AttentionOptions opts = AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).build();
    for (int chunk : new int[] {1, 7, 64, 500, 501, 4096}) {
      try (DecodeAttention decode = DecodeAttention.builder().chunkKeys(chunk).build()) {
        AttentionResult r = decode.decode(f.cache, 0, new int[] {id}, q, opts);
        ErrorBudget.Check check = ErrorBudget.check(q, f.keys(id), f.values(id), opts, r);
        assertTrue(check.passed(), "chunk " + chunk + ": " + check);
      }
    }
  }

  @Test
  void shardsOfTheKeysInTwoCachesMergeToTheWhole() {
    // K and V of one sequence held in two places (first 150 tokens, then 90), and an empty shard.
    CacheFixture first = new CacheFixture(2, 32, 24, 16, 20, KvStorage.FLOAT32, 43);
    CacheFixture second = new CacheFixture(2, 32, 24, 16, 20, KvStorage.FLOAT32, 47);
    int a = first.newSequence();
    first.append(a, 150, 2f);
    int b = second.newSequence();
    second.append(b, 90, 2f);
    int none = second.newSequence();
    Tensor q = TestTensors.uniform(53, 1, 8, 1, 32);
    AttentionOptions opts = AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).build();
    try (DecodeAttention decode = DecodeAttention.builder().chunkKeys(64).build()) {
      AttentionResult merged =
          AttentionResult.merge(
              decode.decode(first.cache, 0, new int[] {a}, q, opts),
              decode.decode(second.cache, 0, new int[] {none}, q, opts),
              decode.decode(second.cache, 0, new int[] {b}, q, opts));
      Tensor k = concat(first.keys(a), second.keys(b));
      Tensor v = concat(first.values(a), second.values(b));
      ErrorBudget.Check check = ErrorBudget.check(q, k, v, opts, merged);
      assertTrue(check.passed(), check.toString());
    }
  }

  /** Rows of x then rows of y, (1, H, N_x + N_y, D). */
  private static Tensor concat(Tensor x, Tensor y) {
    Tensor t = Tensor.zeros(1, x.heads(), x.rows() + y.rows(), x.cols());
    for (int h = 0; h < x.heads(); h++) {
      for (int n = 0; n < x.rows(); n++) {
        System.arraycopy(x.data(), x.rowOffset(0, h, n), t.data(), t.rowOffset(0, h, n), x.cols());
      }
      for (int n = 0; n < y.rows(); n++) {
        System.arraycopy(
            y.data(), y.rowOffset(0, h, n), t.data(), t.rowOffset(0, h, x.rows() + n), y.cols());
      }
    }
    return t;
  }

  @Test
  void eachLayerAttendsToItsOwnKeysAndValues() {
    PagedKvCache cache = new PagedKvCache(2, 2, 16, 8, 8, 10, KvStorage.FLOAT32);
    int s = cache.newSequence();
    int at = cache.reserve(s, 37);
    Tensor[] k = {TestTensors.uniform(71, 2, 37, 16), TestTensors.uniform(72, 2, 37, 16)};
    Tensor[] v = {TestTensors.uniform(73, 2, 37, 8), TestTensors.uniform(74, 2, 37, 8)};
    for (int layer = 0; layer < 2; layer++) {
      cache.write(layer, s, at, k[layer], v[layer]);
    }
    Tensor q = TestTensors.uniform(75, 1, 4, 1, 16);
    AttentionOptions opts = AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).build();
    try (DecodeAttention decode = DecodeAttention.create()) {
      for (int layer = 0; layer < 2; layer++) {
        AttentionResult r = decode.decode(cache, layer, new int[] {s}, q, opts);
        Tensor kl = k[layer].withRank(3);
        ErrorBudget.Check check =
            ErrorBudget.check(
                q,
                Tensor.view(kl.data(), 0, new int[] {1, 2, 37, 16}, new int[] {0, 37 * 16, 16}),
                Tensor.view(v[layer].data(), 0, new int[] {1, 2, 37, 8}, new int[] {0, 37 * 8, 8}),
                opts,
                r);
        assertTrue(check.passed(), "layer " + layer + ": " + check);
      }
    }
  }

  @Test
  void emptySequenceAndRowsWithNoKeyGiveZeroAndMinusInfinity() {
    CacheFixture f = new CacheFixture(1, 8, 8, 4, 20, KvStorage.FLOAT32, 17);
    int empty = f.newSequence();
    int shorter = f.newSequence();
    f.append(shorter, 2, 1f);
    // Three new tokens over a sequence of 2: bottom-right, query row 0 sees key j ≤ -1: nothing.
    Tensor q = TestTensors.uniform(19, 2, 2, 3, 8);
    AttentionOptions opts = AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).build();
    try (DecodeAttention decode = DecodeAttention.builder().threads(2).build()) {
      AttentionResult r = decode.decode(f.cache, 0, new int[] {empty, shorter}, q, opts);
      for (int h = 0; h < 2; h++) {
        for (int i = 0; i < 3; i++) {
          assertEquals(Float.NEGATIVE_INFINITY, r.lse(0, h, i));
          for (int c = 0; c < 8; c++) {
            assertEquals(0f, r.output().get(0, h, i, c));
          }
        }
        assertEquals(Float.NEGATIVE_INFINITY, r.lse(1, h, 0));
        assertTrue(Float.isFinite(r.lse(1, h, 1)));
      }
      ErrorBudget.Check check =
          ErrorBudget.check(
              CacheFixture.batchEntry(q, 1),
              f.keys(shorter),
              f.values(shorter),
              opts,
              CacheFixture.slice(r, 1));
      assertTrue(check.passed(), check.toString());
    }
  }

  @Test
  void forkAndCopyOnWriteLeaveTheOtherSequenceUnchanged() {
    CacheFixture f = new CacheFixture(2, 16, 16, 8, 50, KvStorage.FLOAT32, 23);
    int a = f.newSequence();
    f.append(a, 21, 2f); // pages 0..2, the last one partly filled (5 of 8)
    int b = f.fork(a);
    Tensor q = TestTensors.uniform(29, 1, 4, 1, 16);
    AttentionOptions opts = AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).build();
    try (DecodeAttention decode = DecodeAttention.create()) {
      AttentionResult before = decode.decode(f.cache, 0, new int[] {a}, q, opts);
      f.append(b, 6, 2f); // b copies the shared partial page, then fills it and a new one
      AttentionResult after = decode.decode(f.cache, 0, new int[] {a}, q, opts);
      assertArrayEquals(before.output().data(), after.output().data());
      assertArrayEquals(before.lse(), after.lse());
      f.append(a, 1, 2f);
      f.append(b, 1, 2f);
      Tensor q2 = TestTensors.uniform(31, 2, 4, 1, 16);
      AttentionResult both = decode.decode(f.cache, 0, new int[] {a, b}, q2, opts);
      int[] ids = {a, b};
      for (int s = 0; s < 2; s++) {
        ErrorBudget.Check check =
            ErrorBudget.check(
                CacheFixture.batchEntry(q2, s),
                f.keys(ids[s]),
                f.values(ids[s]),
                opts,
                CacheFixture.slice(both, s));
        assertTrue(check.passed(), "sequence " + s + ": " + check);
      }
      assertEquals(22, f.cache.length(a));
      assertEquals(28, f.cache.length(b));
    }
  }

  @org.junit.jupiter.api.Tag("allocation") // run alone in a fresh JVM: see core/pom.xml
  @ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({
    "1, FLOAT32",
    "2, FLOAT32",
    "2, BFLOAT16",
    "1, INT8",
    "2, INT8"
  })
  void aWarmStepIntoBuffersAllocatesNothing(int threads, KvStorage storage) {
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    assertTrue(mx.isThreadAllocatedMemorySupported());
    mx.setThreadAllocatedMemoryEnabled(true);
    CacheFixture f = new CacheFixture(2, 32, 32, 16, 20, storage, 59);
    int[] ids = {f.newSequence(), f.newSequence()};
    f.append(ids[0], 70, 1f);
    f.append(ids[1], 21, 1f);
    Tensor q = TestTensors.uniform(61, 2, 8, 1, 32);
    Tensor out = Tensor.zeros(2, 8, 1, 32);
    float[] lse = new float[16];
    AttentionOptions opts = AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).build();
    for (boolean vector : new boolean[] {true, false}) {
      try (DecodeAttention decode =
          DecodeAttention.builder().threads(threads).chunkKeys(32).vector(vector).build()) {
        // Steps allocate until C2 has compiled the vector code (the interpreter and C1 box
        // vectors, and a deoptimisation sends a method back there for a while); then a window of 50
        // steps must allocate nothing. Up to 20 s of warm-up on a busy machine.
        // the caller and the step's worker threads (those of this instance are the live ones)
        long[] team =
            Stream.concat(
                    Stream.of(Thread.currentThread()),
                    Thread.getAllStackTraces().keySet().stream()
                        .filter(t -> t.getName().startsWith("flashattn-decode-")))
                .mapToLong(Thread::threadId)
                .toArray();
        assertEquals(threads, team.length, "threads of the step");
        long allocated = -1;
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (allocated != 0 && System.nanoTime() < deadline) {
          for (int i = 0; i < 100; i++) {
            decode.decode(f.cache, 0, ids, q, opts, out, lse);
          }
          long before = allocatedBy(mx, team);
          for (int i = 0; i < 50; i++) {
            decode.decode(f.cache, 0, ids, q, opts, out, lse);
          }
          allocated = allocatedBy(mx, team) - before;
        }
        assertEquals(
            0,
            allocated,
            "bytes allocated by 50 warm steps, vector "
                + vector
                + ", threads "
                + threads
                + ", "
                + storage);
      }
    }
  }

  /** Bytes the threads have allocated, read without allocating on the calling thread. */
  private static long allocatedBy(com.sun.management.ThreadMXBean mx, long[] threads) {
    long sum = 0;
    for (long id : threads) {
      sum += mx.getThreadAllocatedBytes(id);
    }
    return sum;
  }

  @Test
  void badInputIsAClearErrorAndWritesNothing() {
    CacheFixture f = new CacheFixture(2, 16, 16, 8, 10, KvStorage.FLOAT32, 37);
    int a = f.newSequence();
    f.append(a, 9, 1f);
    Tensor q = TestTensors.uniform(41, 1, 4, 1, 16);
    Tensor out = Tensor.zeros(1, 4, 1, 16);
    Arrays.fill(out.data(), 42f);
    float[] lse = new float[4];
    Arrays.fill(lse, 42f);
    AttentionOptions opts = AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).build();
    try (DecodeAttention decode = DecodeAttention.create()) {
      IllegalArgumentException unknown =
          assertThrows(
              IllegalArgumentException.class,
              () -> decode.decode(f.cache, 0, new int[] {a + 1}, q, opts, out, lse));
      assertTrue(unknown.getMessage().contains("sequence " + (a + 1) + " is not in the cache"));
      assertThrows(
          IllegalArgumentException.class,
          () -> decode.decode(f.cache, 0, new int[] {a, a}, q, opts, out, lse));
      assertThrows(
          IllegalArgumentException.class,
          () ->
              decode.decode(f.cache, 0, new int[] {a}, TestTensors.uniform(1, 1, 3, 1, 16), opts));
      assertThrows(
          IllegalArgumentException.class,
          () ->
              decode.decode(f.cache, 0, new int[] {a}, TestTensors.uniform(1, 1, 4, 1, 15), opts));
      assertThrows(
          IllegalArgumentException.class,
          () -> decode.decode(f.cache, 1, new int[] {a}, q, opts, out, lse));
      AttentionOptions masked =
          opts.toBuilder().mask(AttentionMask.keep(new boolean[5], 5)).build(); // 5 keys, not 9
      assertThrows(
          IllegalArgumentException.class,
          () -> decode.decode(f.cache, 0, new int[] {a}, q, masked, out, lse));
      assertThrows(
          IllegalArgumentException.class,
          () -> decode.decode(f.cache, 0, new int[] {a}, q, opts, out, new float[3]));
      for (float x : out.data()) {
        assertEquals(42f, x);
      }
      for (float x : lse) {
        assertEquals(42f, x);
      }
      assertEquals(9, f.cache.length(a));
    }
  }
}
