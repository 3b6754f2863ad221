package dev.flashattn4j.kernel.decode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.api.AttentionEngine;
import dev.flashattn4j.cache.KvStorage;
import dev.flashattn4j.cache.PagedKvCache;
import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionMask;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import dev.flashattn4j.values.Window;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 21: one decode call for sequences with different numbers of new tokens (chunked prefill
 * over a cached prefix, speculative steps, one-token steps, sequences with no new token). Seeded
 * random cases: every sequence's rows equal, bit for bit, a dense decode of that sequence alone,
 * and are within the error budget of the float64 oracle on the keys the cache holds (read back, so
 * 16-bit pages are compared as stored).
 */
class RaggedDecodeTest {

  static Stream<Long> seeds() {
    return IntStream.range(0, 24).mapToObj(i -> 1000L + i);
  }

  private static Tensor random(SplittableRandom r, int... shape) {
    return Tensor.uniform(r, -2f, 2f, shape);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void eachSequenceIsItsOwnDecodeAndTheOraclesAnswer(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int hkv = 1 + r.nextInt(3);
    int hq = hkv * (1 + r.nextInt(3));
    int d = 4 + r.nextInt(40);
    int batch = 1 + r.nextInt(5);
    int page = 1 + r.nextInt(20);
    KvStorage storage = KvStorage.values()[r.nextInt(KvStorage.values().length)];
    AttentionOptions.Builder opts = AttentionOptions.builder();
    if (r.nextInt(4) > 0) {
      opts.causal(Causal.BOTTOM_RIGHT);
    }
    if (r.nextInt(4) == 0) {
      opts.window(new Window(1 + r.nextInt(30), 0));
    }
    if (r.nextInt(4) == 0) {
      opts.softcap(5f + r.nextInt(20));
    }
    if (r.nextInt(5) == 0) {
      float[] slopes = new float[hq];
      for (int h = 0; h < hq; h++) {
        slopes[h] = 0.05f * (h + 1);
      }
      opts.alibi(slopes);
    }
    if (r.nextInt(5) == 0) {
      float[] sinks = new float[hq];
      for (int h = 0; h < hq; h++) {
        sinks[h] = (float) r.nextGaussian();
      }
      opts.sinks(sinks);
    }
    AttentionOptions options = opts.build();
    int chunkKeys = 8 + r.nextInt(100);
    int threads = 1 + r.nextInt(2);
    boolean vector = r.nextBoolean();

    PagedKvCache cache =
        PagedKvCache.builder()
            .kvHeads(hkv)
            .headDim(d)
            .pageSize(page)
            .maxTokens(4000)
            .storage(storage)
            .build();
    int[] ids = new int[batch];
    int[] cu = new int[batch + 1];
    int[] len = new int[batch];
    for (int b = 0; b < batch; b++) {
      ids[b] = cache.newSequence();
      len[b] = r.nextInt(4) == 0 ? r.nextInt(3) : r.nextInt(300);
      if (len[b] > 0) {
        cache.append(ids[b], random(r, hkv, len[b], d), random(r, hkv, len[b], d));
      }
      // new tokens: none, one (a decode step), a few (speculative), or a prompt chunk
      int nq = Math.min(len[b], r.nextInt(4) == 0 ? 0 : r.nextBoolean() ? 1 : 1 + r.nextInt(40));
      cu[b + 1] = cu[b] + nq;
    }
    int total = cu[batch];
    Tensor q = random(r, 1, hq, total, d);
    KernelConfig config =
        KernelConfig.defaults()
            .withThreads(threads)
            .withVectorized(vector)
            .withDecodeChunkKeys(chunkKeys);
    try (AttentionEngine engine = AttentionEngine.create(config)) {
      AttentionResult ragged = engine.decode(cache, 0, ids, q, cu, options);
      assertArrayEquals(new int[] {1, hq, total, d}, ragged.output().shape());
      for (int b = 0; b < batch; b++) {
        int nq = cu[b + 1] - cu[b];
        if (nq == 0) {
          continue;
        }
        String where =
            "seed " + seed + ", sequence " + b + " (L = " + len[b] + ", N_q = " + nq + ")";
        Tensor qb = q.narrow(2, cu[b], nq).copy();
        AttentionResult alone = engine.decode(cache, 0, new int[] {ids[b]}, qb, options);
        Tensor ob = ragged.output().narrow(2, cu[b], nq).copy();
        float[] lb = new float[hq * nq];
        for (int h = 0; h < hq; h++) {
          System.arraycopy(ragged.lse(), h * total + cu[b], lb, h * nq, nq);
        }
        assertArrayEquals(alone.output().toArray(), ob.toArray(), "O, " + where);
        assertArrayEquals(alone.lse(), lb, "LSE, " + where);
        // the oracle over the keys as the cache holds them
        Tensor kb = Tensor.zeros(1, hkv, len[b], d);
        Tensor vb = Tensor.zeros(1, hkv, len[b], d);
        float[] row = new float[d];
        for (int h = 0; h < hkv; h++) {
          for (int j = 0; j < len[b]; j++) {
            cache.read(0, ids[b], j, h, true, row);
            for (int c = 0; c < d; c++) {
              kb.set(0, h, j, c, row[c]);
            }
            cache.read(0, ids[b], j, h, false, row);
            for (int c = 0; c < d; c++) {
              vb.set(0, h, j, c, row[c]);
            }
          }
        }
        ErrorBudget.Check check =
            ErrorBudget.check(qb, kb, vb, options, new AttentionResult(ob, lb));
        assertTrue(check.passed(), where + ": " + check);
      }
    }
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void badRaggedCallsAreRefusedBeforeAnyWork(long seed) {
    if (seed != 1000L) {
      return;
    }
    PagedKvCache cache = PagedKvCache.builder().kvHeads(1).headDim(4).maxTokens(64).build();
    int a = cache.newSequence();
    cache.append(a, Tensor.zeros(1, 3, 4), Tensor.zeros(1, 3, 4));
    Tensor q = Tensor.zeros(1, 2, 4);
    AttentionOptions o = AttentionOptions.builder().build();
    try (AttentionEngine e = AttentionEngine.create(1)) {
      assertEquals(2, e.decode(cache, 0, new int[] {a}, q, new int[] {0, 2}, o).lse().length);
      assertThrows(
          IllegalArgumentException.class,
          () -> e.decode(cache, 0, new int[] {a}, q, new int[] {0, 1}, o));
      assertThrows(
          IllegalArgumentException.class,
          () -> e.decode(cache, 0, new int[] {a}, q, new int[] {1, 2}, o));
      assertThrows(
          IllegalArgumentException.class,
          () -> e.decode(cache, 0, new int[] {a}, Tensor.zeros(1, 4, 4), new int[] {0, 4}, o),
          "4 new tokens, 3 in the cache");
      assertThrows(
          IllegalArgumentException.class,
          () -> e.decode(cache, 0, new int[] {a}, Tensor.zeros(2, 1, 2, 4), new int[] {0, 2}, o));
      AttentionOptions masked =
          AttentionOptions.builder().mask(AttentionMask.keep(new boolean[6], 1, 1, 2, 3)).build();
      assertThrows(
          IllegalArgumentException.class,
          () -> e.decode(cache, 0, new int[] {a}, q, new int[] {0, 2}, masked));
    }
  }
}
