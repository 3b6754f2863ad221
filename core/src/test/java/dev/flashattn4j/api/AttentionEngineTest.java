package dev.flashattn4j.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.flashattn4j.cache.KvStorage;
import dev.flashattn4j.cache.PagedKvCache;
import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;
import dev.flashattn4j.values.AttentionMask;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The engine's threading contract: re-entrant, same bits for every caller, close never hangs. */
class AttentionEngineTest {

  private static final int CORES = Runtime.getRuntime().availableProcessors();

  /** One call of each kind, on random shapes and options. */
  private record Case(
      Tensor q,
      Tensor k,
      Tensor v,
      AttentionOptions options,
      int[] cuQ,
      int[] cuK,
      PagedKvCache cache,
      int[] seqIds) {

    AttentionResult run(AttentionEngine e) {
      if (cache != null) {
        return e.decode(cache, 0, seqIds, q, options);
      }
      if (cuQ != null) {
        return e.varlen(q, k, v, cuQ, cuK, options);
      }
      return e.forward(q, k, v, options);
    }
  }

  private static Case randomCase(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int kind = (int) (seed % 3);
    int hkv = 1 + r.nextInt(2);
    int hq = hkv * (1 + r.nextInt(3));
    int d = 8 + r.nextInt(40);
    AttentionOptions.Builder b = AttentionOptions.builder();
    if (r.nextBoolean()) {
      b.causal(r.nextBoolean() ? Causal.TOP_LEFT : Causal.BOTTOM_RIGHT);
    }
    if (r.nextInt(3) == 0) {
      b.softcap(2 + r.nextInt(20));
    }
    if (r.nextInt(3) == 0) {
      b.window(r.nextInt(40), r.nextInt(40));
    }
    if (kind == 0) {
      int batch = 1 + r.nextInt(2);
      int nq = 1 + r.nextInt(150);
      int nk = 1 + r.nextInt(150);
      if (r.nextBoolean()) {
        float[] bias = new float[nq * nk];
        for (int i = 0; i < bias.length; i++) {
          bias[i] = r.nextInt(9) == 0 ? Float.NEGATIVE_INFINITY : (float) r.nextGaussian();
        }
        b.mask(AttentionMask.additive(bias, nq, nk));
      }
      return new Case(
          TestTensors.normal(r.nextLong(), batch, hq, nq, d),
          TestTensors.normal(r.nextLong(), batch, hkv, nk, d),
          TestTensors.normal(r.nextLong(), batch, hkv, nk, d),
          b.build(),
          null,
          null,
          null,
          null);
    }
    if (kind == 1) {
      int sequences = 1 + r.nextInt(5);
      int[] cuQ = new int[sequences + 1];
      int[] cuK = new int[sequences + 1];
      for (int s = 0; s < sequences; s++) {
        cuQ[s + 1] = cuQ[s] + r.nextInt(70);
        cuK[s + 1] = cuK[s] + r.nextInt(70);
      }
      return new Case(
          TestTensors.normal(r.nextLong(), hq, cuQ[sequences], d),
          TestTensors.normal(r.nextLong(), hkv, cuK[sequences], d),
          TestTensors.normal(r.nextLong(), hkv, cuK[sequences], d),
          b.build(),
          cuQ,
          cuK,
          null,
          null);
    }
    int batch = 1 + r.nextInt(3);
    PagedKvCache cache = new PagedKvCache(1, hkv, d, d, 16, 256, KvStorage.FLOAT32);
    int[] ids = new int[batch];
    for (int s = 0; s < batch; s++) {
      ids[s] = cache.newSequence();
      int len = 1 + r.nextInt(300);
      cache.append(
          ids[s],
          TestTensors.normal(r.nextLong(), 1, hkv, len, d),
          TestTensors.normal(r.nextLong(), 1, hkv, len, d));
    }
    return new Case(
        TestTensors.normal(r.nextLong(), batch, hq, 1, d),
        null,
        null,
        b.build(),
        null,
        null,
        cache,
        ids);
  }

  private static void assertSameBits(AttentionResult want, AttentionResult got, String what) {
    assertArrayEquals(want.output().toArray(), got.output().toArray(), what + ": O");
    assertArrayEquals(want.lse(), got.lse(), what + ": LSE");
  }

  @Test
  void sixteenCallersAtOnceGetTheBitsOfOneCallerAlone() throws Exception {
    int cases = 48;
    List<Case> work = new ArrayList<>();
    List<AttentionResult> alone = new ArrayList<>();
    try (AttentionEngine single = AttentionEngine.create(1)) {
      for (int c = 0; c < cases; c++) {
        Case k = randomCase(1000 + c);
        work.add(k);
        alone.add(k.run(single));
      }
    }
    // the single-thread results are right
    for (int c = 0; c < cases; c++) {
      Case k = work.get(c);
      if (k.cache() != null || k.cuQ() != null) {
        continue; // their own suites hold decode and varlen to the oracle
      }
      assertTrue(ErrorBudget.check(k.q(), k.k(), k.v(), k.options(), alone.get(c)).passed());
    }
    try (AttentionEngine shared = AttentionEngine.create(CORES);
        ExecutorService callers = Executors.newFixedThreadPool(16)) {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 16; t++) {
        int caller = t;
        done.add(
            callers.submit(
                () -> {
                  go.await();
                  for (int round = 0; round < 6; round++) {
                    for (int i = 0; i < cases; i++) {
                      int c = (i * 7 + caller * 5 + round) % cases;
                      assertSameBits(
                          alone.get(c),
                          work.get(c).run(shared),
                          "case " + c + " from caller " + caller);
                    }
                  }
                  return null;
                }));
      }
      go.countDown();
      for (Future<?> f : done) {
        f.get(5, TimeUnit.MINUTES);
      }
    }
  }

  @Test
  void theStaticMethodsShareOneEngineAndStartNoThreadPerThreadCount() {
    Tensor q = TestTensors.normal(1, 2, 70, 16);
    Tensor k = TestTensors.normal(2, 2, 90, 16);
    Tensor v = TestTensors.normal(3, 2, 90, 16);
    AttentionResult want = Attention.forward(q, k, v, AttentionOptions.DEFAULTS, 1);
    long before = flashattnThreads();
    for (int threads = 1; threads <= 64; threads++) {
      assertSameBits(
          want, Attention.forward(q, k, v, AttentionOptions.DEFAULTS, threads), threads + "");
    }
    assertEquals(before, flashattnThreads(), "threads started by calls with 1..64 threads");
    assertTrue(before < CORES, "the default engine has at most cores - 1 workers: " + before);
    assertThrows(IllegalStateException.class, () -> Attention.engine().close());
    assertThrows(
        IllegalArgumentException.class,
        () -> Attention.forward(q, k, v, AttentionOptions.DEFAULTS, 0));
  }

  private static long flashattnThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith("flashattn") && t.isAlive())
        .count();
  }

  @Test
  void threadCountsAboveTheCoresAreCapped() {
    try (AttentionEngine e = AttentionEngine.create(5000)) {
      assertEquals(CORES, e.threads());
    }
    try (AttentionEngine e = AttentionEngine.create(KernelConfig.defaults().withThreads(1))) {
      assertEquals(1, e.threads());
    }
    assertThrows(IllegalArgumentException.class, () -> AttentionEngine.create(0));
  }

  /**
   * warmUp runs calls of the shape and changes nothing a caller sees: a forward after it gives the
   * bits of a forward on a fresh engine; bad arguments are refused before any work.
   */
  @Test
  void warmUpRunsTheShapeAndChangesNothing() {
    int[] qs = {1, 4, 40, 16};
    int[] kvs = {1, 2, 56, 16};
    AttentionOptions o = AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).build();
    Tensor q = TestTensors.normal(1, qs);
    Tensor k = TestTensors.normal(2, kvs);
    Tensor v = TestTensors.normal(3, kvs);
    AttentionResult want;
    try (AttentionEngine fresh = AttentionEngine.create(2)) {
      want = fresh.forward(q, k, v, o);
    }
    try (AttentionEngine e = AttentionEngine.create(2)) {
      int calls = e.warmUp(qs, kvs, o, true, java.time.Duration.ofMillis(300));
      assertTrue(calls >= 1, "calls: " + calls);
      assertEquals(0, e.warmUp(qs, kvs, o, false, java.time.Duration.ZERO));
      assertSameBits(want, e.forward(q, k, v, o), "after warmUp");
      assertThrows(
          IllegalArgumentException.class,
          () -> e.warmUp(qs, new int[] {1, 3, 56, 16}, o, false, java.time.Duration.ZERO));
      assertThrows(
          IllegalArgumentException.class,
          () -> e.warmUp(qs, kvs, o, false, java.time.Duration.ofSeconds(-1)));
      assertThrows(IllegalArgumentException.class, () -> e.warmUp(null, kvs, o, false, null));
      e.close();
      assertThrows(
          IllegalStateException.class, () -> e.warmUp(qs, kvs, o, false, java.time.Duration.ZERO));
    }
  }

  /** NaN is not a way to ask for the default scale: the builder says so, defaultScale() is it. */
  @Test
  void theDefaultScaleIsAskedForInWords() {
    for (float bad : new float[] {Float.NaN, 0f, -1f, Float.POSITIVE_INFINITY}) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> AttentionOptions.builder().scale(bad));
      assertTrue(e.getMessage().contains("defaultScale()"), e.getMessage());
    }
    AttentionOptions d = AttentionOptions.builder().scale(2f).defaultScale().build();
    assertEquals(0.25f, d.scaleFor(16));
    assertEquals(
        0.5f, AttentionOptions.builder().scale(0.5f).build().toBuilder().build().scaleFor(16));
    assertEquals(0.25f, d.toBuilder().build().scaleFor(16));
  }

  @Test
  void aClosedEngineRefusesCallsWithAClearException() {
    Case c = randomCase(3);
    AttentionEngine e = AttentionEngine.create(2);
    c.run(e);
    e.close();
    e.close(); // idempotent
    for (long seed = 0; seed < 3; seed++) {
      Case k = randomCase(seed);
      IllegalStateException x = assertThrows(IllegalStateException.class, () -> k.run(e));
      // one message for every kind of call (issue 19: the forward said "the kernel was closed",
      // the backward "the engine was closed")
      assertEquals("the engine was closed", x.getMessage());
    }
    Tensor t = TestTensors.normal(9, 1, 1, 4, 8);
    IllegalStateException x =
        assertThrows(
            IllegalStateException.class,
            () -> e.backward(t, t, t, t, new float[4], t, AttentionOptions.DEFAULTS));
    assertEquals("the engine was closed", x.getMessage());
  }

  /**
   * close() at a random moment of a running call, 1,000 times over the three kinds of call: each
   * call returns the right bits or throws IllegalStateException ("closed"), and nothing hangs.
   */
  @Test
  void closeWhileCallsRunNeverHangs() throws Exception {
    Case[] cases = {randomCase(30), randomCase(31), randomCase(32)};
    AttentionResult[] want = new AttentionResult[3];
    try (AttentionEngine one = AttentionEngine.create(1)) {
      for (int i = 0; i < 3; i++) {
        want[i] = cases[i].run(one);
      }
    }
    SplittableRandom random = new SplittableRandom(7);
    int finished = 0;
    int refused = 0;
    for (int race = 0; race < 1000; race++) {
      Case c = cases[race % 3];
      AttentionResult w = want[race % 3];
      AttentionEngine e = AttentionEngine.create(CORES);
      AtomicReference<Throwable> failure = new AtomicReference<>();
      AtomicReference<AttentionResult> result = new AtomicReference<>();
      Thread caller =
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      for (int i = 0; i < 3; i++) {
                        result.set(c.run(e));
                      }
                    } catch (Throwable t) {
                      failure.set(t);
                    }
                  });
      int wait = random.nextInt(400);
      for (int spin = 0; spin < wait * 50; spin++) {
        Thread.onSpinWait();
      }
      e.close();
      caller.join(TimeUnit.SECONDS.toMillis(20));
      if (caller.isAlive()) {
        fail("race " + race + ": a call hung after close()");
      }
      Throwable t = failure.get();
      if (t != null) {
        if (!(t instanceof IllegalStateException) || !t.getMessage().contains("closed")) {
          throw new AssertionError("race " + race + ": unexpected failure", t);
        }
        refused++;
      } else {
        finished++;
      }
      if (result.get() != null) {
        assertSameBits(w, result.get(), "race " + race);
      }
    }
    assertEquals(1000, finished + refused);
  }
}
