package dev.flashattn4j.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.cache.KvStorage;
import dev.flashattn4j.cache.PagedKvCache;
import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.kernel.decode.DecodeAttention;
import dev.flashattn4j.paper.Algorithm1;
import dev.flashattn4j.paper.Algorithm4;
import dev.flashattn4j.paper.StandardAttention;
import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.reference.NaiveAttention;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;
import dev.flashattn4j.values.AttentionGradients;
import dev.flashattn4j.values.AttentionMask;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ALiBi and attention sinks in every kernel: forward (fast SIMD and scalar, Algorithm 1, standard
 * attention, naive float32, decode, varlen) and backward (fast, Algorithm 4, standard attention),
 * against the float64 oracle; the sinks' gradient against finite differences.
 */
class AlibiSinksTest {

  static final int HQ = 4;
  static final int N = 37;
  static final int D = 16;
  static final float[] SLOPES = {0.5f, 0.25f, 0.125f, 0.0625f}; // BLOOM's for 4 heads
  static final float[] SINKS = {0.3f, -1.2f, 2.5f, 0f};

  static Stream<Arguments> cases() {
    boolean[] keep = new boolean[N * N];
    java.util.Arrays.fill(keep, true);
    for (int j = 0; j < N; j++) {
      keep[5 * N + j] = false; // row 5 sees no key: O = 0, LSE = sink
    }
    List<Arguments> list = new ArrayList<>();
    list.add(
        Arguments.of(
            "alibi, bottom-right",
            AttentionOptions.builder().alibi(SLOPES).causal(Causal.BOTTOM_RIGHT).build()));
    list.add(Arguments.of("alibi, no causal", AttentionOptions.builder().alibi(SLOPES).build()));
    list.add(
        Arguments.of(
            "alibi, top-left",
            AttentionOptions.builder().alibi(SLOPES).causal(Causal.TOP_LEFT).build()));
    list.add(Arguments.of("sinks", AttentionOptions.builder().sinks(SINKS).build()));
    list.add(
        Arguments.of(
            "sinks, causal, a row with no key",
            AttentionOptions.builder()
                .sinks(SINKS)
                .causal(Causal.BOTTOM_RIGHT)
                .mask(AttentionMask.keep(keep, N, N))
                .build()));
    list.add(
        Arguments.of(
            "both, softcap, window",
            AttentionOptions.builder().alibi(SLOPES).sinks(SINKS).softcap(3).window(9, 0).build()));
    return list.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void everyForwardMatchesTheOracle(String name, AttentionOptions o) {
    Tensor q = TestTensors.normal(1, 1, HQ, N, D);
    Tensor k = TestTensors.normal(2, 1, 2, N, D);
    Tensor v = TestTensors.normal(3, 1, 2, N, D);
    List<AttentionResult> results = new ArrayList<>();
    for (boolean vector : new boolean[] {true, false}) {
      KernelConfig c =
          KernelConfig.defaults().withThreads(2).withVectorized(vector).withTiles(16, 8);
      try (AttentionEngine e = AttentionEngine.create(c)) {
        results.add(e.forward(q, k, v, o));
        if (o.mask() == null) {
          results.add(e.varlen(q, k, v, new int[] {0, N}, new int[] {0, N}, o));
        }
      }
    }
    results.add(Algorithm1.compute(q, k, v, o, 4 * D * 8));
    results.add(StandardAttention.compute(q, k, v, o, null));
    results.add(NaiveAttention.compute(q, k, v, o, NaiveAttention.Precision.FLOAT));
    if (o.mask() == null && o.alignment() == Causal.BOTTOM_RIGHT) {
      for (boolean vector : new boolean[] {true, false}) {
        results.add(decode(vector, q, k, v, o));
      }
    }
    for (AttentionResult r : results) {
      ErrorBudget.Check check = ErrorBudget.check(q, k, v, o, r);
      assertTrue(check.passed(), name + ": " + check);
    }
    if (name.contains("no key")) {
      AttentionResult r = results.getFirst();
      for (int h = 0; h < HQ; h++) {
        assertEquals(SINKS[h], r.lse(0, h, 5), 1e-6, "a row with no key: LSE = sink");
        for (int c = 0; c < D; c++) {
          assertEquals(0f, r.output().get(0, h, 5, c));
        }
      }
    }
  }

  private static AttentionResult decode(
      boolean vector, Tensor q, Tensor k, Tensor v, AttentionOptions o) {
    PagedKvCache cache = new PagedKvCache(1, 2, D, D, 8, 8, KvStorage.FLOAT32);
    int seq = cache.newSequence();
    cache.append(seq, k, v);
    try (DecodeAttention step =
        DecodeAttention.builder().threads(2).chunkKeys(16).vector(vector).build()) {
      return step.decode(cache, 0, new int[] {seq}, q, o);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void everyBackwardMatchesTheOracle(String name, AttentionOptions o) {
    Tensor q = TestTensors.normal(11, 1, HQ, N, D);
    Tensor k = TestTensors.normal(12, 1, 2, N, D);
    Tensor v = TestTensors.normal(13, 1, 2, N, D);
    Tensor g = TestTensors.normal(14, 1, HQ, N, D);
    AttentionGradients want = NaiveAttention.backward(q, k, v, g, o);
    AttentionResult f = NaiveAttention.compute(q, k, v, o);
    List<AttentionGradients> got = new ArrayList<>();
    for (boolean vector : new boolean[] {true, false}) {
      KernelConfig c =
          KernelConfig.defaults().withThreads(2).withVectorized(vector).withTiles(16, 8);
      try (AttentionEngine e = AttentionEngine.create(c)) {
        AttentionResult ff = e.forward(q, k, v, o);
        got.add(e.backward(q, k, v, ff.output(), ff.lse(), g, o));
      }
    }
    got.add(Algorithm4.compute(q, k, v, f.output(), f.lse(), g, o, 4 * D * 8, null));
    got.add(StandardAttention.backward(q, k, v, g, o, null));
    for (AttentionGradients a : got) {
      close(want.dq().toArray(), a.dq().toArray(), name + " dQ");
      close(want.dk().toArray(), a.dk().toArray(), name + " dK");
      close(want.dv().toArray(), a.dv().toArray(), name + " dV");
      if (o.hasSinks()) {
        close(want.dsinks(), a.dsinks(), name + " dsinks");
      } else {
        assertEquals(null, a.dsinks());
      }
    }
  }

  private static void close(float[] w, float[] a, String what) {
    double err = ErrorBudget.Errors.of(a, w).maxAbs();
    double tol = ErrorBudget.gradientTolerance(ErrorBudget.maxAbs(w));
    assertTrue(err <= tol, what + ": " + err + " > " + tol);
  }

  /** dL/dsink_h by central differences of the oracle's float64 forward. */
  @Test
  void theSinksGradientMatchesFiniteDifferences() {
    Tensor q = TestTensors.normal(21, 1, HQ, 9, D);
    Tensor k = TestTensors.normal(22, 1, 2, 11, D);
    Tensor v = TestTensors.normal(23, 1, 2, 11, D);
    Tensor g = TestTensors.normal(24, 1, HQ, 9, D);
    float[] sinks = {0.5f, -0.5f, 1.5f, 0.25f};
    AttentionOptions o = AttentionOptions.builder().sinks(sinks).alibi(SLOPES).build();
    float[] analytic = NaiveAttention.backward(q, k, v, g, o).dsinks();
    for (int h = 0; h < HQ; h++) {
      double eps = 1e-2;
      float[] up = sinks.clone();
      up[h] += (float) eps;
      float[] down = sinks.clone();
      down[h] -= (float) eps;
      double lu = loss(q, k, v, g, o.toBuilder().sinks(up).build());
      double ld = loss(q, k, v, g, o.toBuilder().sinks(down).build());
      double fd = (lu - ld) / ((double) up[h] - down[h]);
      assertEquals(fd, analytic[h], 2e-4 * (1 + Math.abs(fd)), "dsink of head " + h);
    }
  }

  private static double loss(Tensor q, Tensor k, Tensor v, Tensor g, AttentionOptions o) {
    float[] out = NaiveAttention.compute(q, k, v, o).output().toArray();
    float[] gd = g.toArray();
    double l = 0;
    for (int i = 0; i < out.length; i++) {
      l += (double) out[i] * gd[i];
    }
    return l;
  }

  @Test
  void perHeadValuesAreCheckedAgainstTheHeads() {
    Tensor q = TestTensors.normal(1, 1, HQ, 5, D);
    Tensor k = TestTensors.normal(2, 1, 2, 5, D);
    AttentionOptions three = AttentionOptions.builder().alibi(0.1f, 0.2f, 0.3f).build();
    assertThrows(IllegalArgumentException.class, () -> Attention.forward(q, k, k, three));
    assertThrows(
        IllegalArgumentException.class,
        () -> AttentionOptions.builder().sinks(0f, Float.NaN, 0f, 0f).build());
    assertArrayEquals(SLOPES, AttentionOptions.builder().alibi(SLOPES).build().alibiSlopes());
  }
}
