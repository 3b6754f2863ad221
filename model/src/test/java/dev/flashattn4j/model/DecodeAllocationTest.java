package dev.flashattn4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.cache.PagedKvCache;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A warm decoding step allocates nothing, on any of the threads it runs on (the caller, the model's
 * workers, the attention engine's): {@link Session#next} with a greedy sampler, and {@link
 * Model#forward(PagedKvCache, int[], int[][], boolean, float[], ForwardWorkspace)} for a batch of
 * two sequences.
 *
 * <p>What a growing sequence may allocate is left out by where the measured steps lie: the cache
 * takes a new page (allocated on first use) every {@value #PAGE} tokens, and its block table and
 * the session's token list double at powers of two; the measured steps all lie within one page
 * (positions 65 to 120 of [64, 128)), past the warm-up steps that opened it.
 *
 * <p>The caches have handed out 200 sequence ids before the steps: ids above 127 are what a
 * long-lived cache has, and a lookup that boxed its id would allocate.
 *
 * <p>Steps allocate until C2 has compiled them (the interpreter and C1 box vectors, and a
 * deoptimisation sends a method back there for a while): each round is a fresh conversation on the
 * same cache (its pages reused) of about 57 warm-up steps and {@value #STEPS} measured ones, and
 * three rounds in a row must allocate 0 bytes, within 60 s. A step that allocates every time never
 * gets there.
 */
@Tag("allocation") // run alone in a fresh JVM: see model/pom.xml
class DecodeAllocationTest {

  private static final int PAGE = 64;
  private static final int STEPS = 50;
  private static final int[] PROMPT = {0, 40, 41, 42, 43, 44, 45, 46};
  private static final int[] OTHER = {0, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61};
  private static final long DEADLINE_NANOS = 60_000_000_000L;

  private static final com.sun.management.ThreadMXBean MX =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  private static Model load(int threads) throws IOException {
    return load(threads, WeightFormat.AS_STORED);
  }

  private static Model load(int threads, WeightFormat weights) throws IOException {
    assertTrue(MX.isThreadAllocatedMemorySupported());
    MX.setThreadAllocatedMemoryEnabled(true);
    return Model.load(
        Fixtures.dir("llama"),
        ModelOptions.defaults().withThreads(threads).withPageSize(PAGE).withWeights(weights));
  }

  /** Float32 weights and Q8_0 weights (whose kernels widen int8 vectors in registers). */
  @ParameterizedTest
  @CsvSource({"1, AS_STORED", "2, AS_STORED", "1, Q8_0", "2, Q8_0"})
  void aWarmSessionStepAllocatesNothing(int threads, WeightFormat weights) throws IOException {
    try (Model model = load(threads, weights)) {
      PagedKvCache cache = usedCache(model);
      long[] team = team(model);
      Sampler greedy = Sampler.greedy();
      int[] reference = null;
      long allocated = -1;
      int clean = 0;
      long deadline = System.nanoTime() + DEADLINE_NANOS;
      while (clean < 3 && System.nanoTime() < deadline) {
        try (Session s = model.newSession(cache)) {
          s.append(PROMPT);
          while (s.length() <= PAGE) {
            s.next(greedy); // positions 8 to 64: the last one opens the second page
          }
          long before = allocatedBy(team);
          for (int i = 0; i < STEPS; i++) {
            s.next(greedy); // positions 65 to 114
          }
          allocated = allocatedBy(team) - before;
          // every round decodes the same tokens
          if (reference == null) {
            reference = s.tokens();
          }
          assertArrayEquals(reference, s.tokens());
        }
        clean = allocated == 0 ? clean + 1 : 0;
      }
      assertEquals(
          3, clean, threads + " threads: bytes allocated by the last " + STEPS + ": " + allocated);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2})
  void aWarmBatchStepIntoTheCallersArraysAllocatesNothing(int threads) throws IOException {
    try (Model model = load(threads)) {
      PagedKvCache cache = usedCache(model);
      long[] team = team(model);
      int vocab = model.config().vocabSize();
      ForwardWorkspace workspace = model.newWorkspace();
      float[] logits = new float[2 * vocab];
      int[][] step = {new int[1], new int[1]};
      long allocated = -1;
      int clean = 0;
      long deadline = System.nanoTime() + DEADLINE_NANOS;
      while (clean < 3 && System.nanoTime() < deadline) {
        int[] ids = {cache.newSequence(), cache.newSequence()};
        model.forward(cache, ids, new int[][] {PROMPT, OTHER}, false, logits, workspace);
        while (cache.length(ids[0]) <= PAGE) {
          decodeBoth(model, cache, ids, step, logits, workspace); // lengths 8→65 and 13→70
        }
        long before = allocatedBy(team);
        for (int i = 0; i < STEPS; i++) {
          decodeBoth(model, cache, ids, step, logits, workspace); // to 115 and 120
        }
        allocated = allocatedBy(team) - before;
        cache.free(ids[0]);
        cache.free(ids[1]);
        clean = allocated == 0 ? clean + 1 : 0;
      }
      assertEquals(
          3, clean, threads + " threads: bytes allocated by the last " + STEPS + ": " + allocated);
    }
  }

  /** A cache that has handed out 200 sequence ids (and freed them). */
  private static PagedKvCache usedCache(Model model) {
    PagedKvCache cache = model.newCache(4 * PAGE);
    for (int i = 0; i < 200; i++) {
      cache.free(cache.newSequence());
    }
    return cache;
  }

  /** One decoding step of both sequences: each one's greedy token from the last logits. */
  private static void decodeBoth(
      Model model,
      PagedKvCache cache,
      int[] ids,
      int[][] step,
      float[] logits,
      ForwardWorkspace workspace) {
    int vocab = model.config().vocabSize();
    for (int b = 0; b < 2; b++) {
      int best = 0;
      for (int i = 1; i < vocab; i++) {
        if (logits[b * vocab + i] > logits[b * vocab + best]) {
          best = i;
        }
      }
      step[b][0] = best;
    }
    model.forward(cache, ids, step, false, logits, workspace);
  }

  /**
   * The threads a step runs on: the caller, the model's workers and the attention engine's (the
   * live threads named flashattn-*: only this model's exist in this JVM).
   */
  private static long[] team(Model model) {
    long[] team =
        Stream.concat(
                Stream.of(Thread.currentThread()),
                Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("flashattn-")))
            .mapToLong(Thread::threadId)
            .toArray();
    int threads = model.options().threads();
    int engine = Math.min(threads, Runtime.getRuntime().availableProcessors());
    assertEquals(1 + (threads - 1) + (engine - 1), team.length, "threads of a step");
    return team;
  }

  /** Bytes the threads have allocated, read without allocating on the calling thread. */
  private static long allocatedBy(long[] threads) {
    long sum = 0;
    for (long id : threads) {
      sum += MX.getThreadAllocatedBytes(id);
    }
    return sum;
  }
}
