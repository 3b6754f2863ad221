package dev.flashattn4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.config.KernelConfig;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The backward keeps the non-finite policy of docs/SEMANTICS.md: a NaN or ±∞ in Q, K, V or dO
 * reaches exactly the gradient entries that depend on it through (row, key) pairs a row can see,
 * and nothing else. Issue 19 found, on e7ea833, NaN in every row of dQ for a NaN in K that rows 0–9
 * cannot see, NaN in dK and dV for keys a NaN query row cannot see, and the float64 reference
 * dropping a NaN row's gradients altogether. Each case runs the fast kernel (SIMD and scalar, 1 and
 * 2 threads) and the reference, and checks the same NaN pattern, explicit expectations of it, and
 * the finite entries within 1e-3 of the reference's.
 */
class BackwardNonFiniteTest {

  /** Where the poison goes: which tensor, which row (or key), and the value. */
  record Poison(String tensor, int row, float value) {}

  /** A case: the options, the poison, and which rows of dQ and keys of dK/dV must be NaN. */
  record Case(String name, AttentionOptions options, Poison poison, int[] nanRows, int[] nanKeys) {}

  static final int N = 48;

  static int[] range(int from, int to) {
    return java.util.stream.IntStream.range(from, to).toArray();
  }

  static List<Case> cases() {
    AttentionOptions causal = AttentionOptions.builder().causal(Causal.TOP_LEFT).build();
    AttentionOptions window =
        AttentionOptions.builder().causal(Causal.TOP_LEFT).window(3, 0).build();
    boolean[] keep = new boolean[N * N];
    for (int i = 0; i < N; i++) {
      for (int j = 0; j < N; j++) {
        keep[i * N + j] = j != 10;
      }
    }
    AttentionOptions hidesKey10 =
        AttentionOptions.builder().mask(AttentionMask.keep(keep, N, N)).build();
    float[] bias = new float[N * N];
    for (int i = 0; i < N; i++) {
      bias[i * N + 10] = Float.NEGATIVE_INFINITY;
    }
    AttentionOptions biasHidesKey10 =
        AttentionOptions.builder().mask(AttentionMask.additive(bias, N, N)).build();
    List<Case> c = new ArrayList<>();
    // NaN in query row 5 under causality: row 5 is NaN; keys 0..5 (which row 5 sees) too
    c.add(
        new Case(
            "q row 5, causal", causal, new Poison("q", 5, Float.NaN), new int[] {5}, range(0, 6)));
    // NaN in key 10 with a window of 3: rows 10..13 see it; they see keys 7..13
    c.add(
        new Case(
            "k 10, window", window, new Poison("k", 10, Float.NaN), range(10, 14), range(7, 14)));
    // NaN in key 10 that a bool mask (or a float mask's −∞) hides from every row: all finite
    c.add(
        new Case(
            "k 10 hidden (bool)",
            hidesKey10,
            new Poison("k", 10, Float.NaN),
            new int[0],
            new int[0]));
    c.add(
        new Case(
            "v 10 hidden (float)",
            biasHidesKey10,
            new Poison("v", 10, Float.NaN),
            new int[0],
            new int[0]));
    // NaN in dO row 5 under causality: dQ row 5, and dK, dV of keys 0..5
    c.add(
        new Case(
            "dO row 5, causal",
            causal,
            new Poison("dout", 5, Float.NaN),
            new int[] {5},
            range(0, 6)));
    // NaN in key 30 under causality: rows 30.. are NaN, they see every key
    c.add(
        new Case(
            "k 30, causal", causal, new Poison("k", 30, Float.NaN), range(30, N), range(0, N)));
    return c;
  }

  static Stream<Arguments> runs() {
    List<Arguments> a = new ArrayList<>();
    for (Case c : cases()) {
      for (boolean vectors : new boolean[] {true, false}) {
        for (int threads : new int[] {1, 2}) {
          a.add(Arguments.of(c, vectors, threads));
        }
      }
    }
    return a.stream();
  }

  @ParameterizedTest(name = "{0}, vectors {1}, {2} threads")
  @MethodSource("runs")
  void aNonFiniteValueReachesExactlyWhatDependsOnIt(Case c, boolean vectors, int threads) {
    Tensor[] in = poisoned(c);
    Tensor q = in[0];
    Tensor k = in[1];
    Tensor v = in[2];
    Tensor dOut = in[3];
    AttentionGradients want = NaiveAttention.backward(q, k, v, dOut, c.options());
    AttentionGradients got;
    try (AttentionEngine e =
        AttentionEngine.create(
            KernelConfig.defaults().withThreads(threads).withVectorized(vectors))) {
      AttentionResult f = e.forward(q, k, v, c.options());
      got = e.backward(q, k, v, f.output(), f.lse(), dOut, c.options());
    }
    check("dQ", want.dq(), got.dq(), c.nanRows());
    check("dK", want.dk(), got.dk(), c.nanKeys());
    check("dV", want.dv(), got.dv(), c.nanKeys());
  }

  /** Q, K, V and dO of the case, the poison in every head of its tensor (first column). */
  private static Tensor[] poisoned(Case c) {
    Tensor[] in = {
      TestTensors.normal(1, 1, 2, N, 16),
      TestTensors.normal(2, 1, 1, N, 16),
      TestTensors.normal(3, 1, 1, N, 8),
      TestTensors.normal(4, 1, 2, N, 8)
    };
    Tensor target = in[List.of("q", "k", "v", "dout").indexOf(c.poison().tensor())];
    for (int h = 0; h < target.heads(); h++) {
      target.data()[target.rowOffset(0, h, c.poison().row())] = c.poison().value();
    }
    return in;
  }

  static Stream<Case> allCases() {
    return cases().stream();
  }

  /** The paper's Algorithm 4 (on the fast forward's O and LSE) keeps the same rule. */
  @ParameterizedTest(name = "{0}, Algorithm 4")
  @MethodSource("allCases")
  void algorithm4KeepsTheRuleToo(Case c) {
    Tensor[] in = poisoned(c);
    Tensor q = in[0];
    Tensor k = in[1];
    Tensor v = in[2];
    Tensor dOut = in[3];
    AttentionGradients want = NaiveAttention.backward(q, k, v, dOut, c.options());
    AttentionResult f;
    try (AttentionEngine e = AttentionEngine.create(1)) {
      f = e.forward(q, k, v, c.options());
    }
    AttentionGradients got =
        dev.flashattn4j.paper.Algorithm4.compute(
            q, k, v, f.output(), f.lse(), dOut, c.options(), 1024, null);
    check("dQ", want.dq(), got.dq(), c.nanRows());
    check("dK", want.dk(), got.dk(), c.nanKeys());
    check("dV", want.dv(), got.dv(), c.nanKeys());
  }

  private static void check(String name, Tensor want, Tensor got, int[] nanRows) {
    java.util.Set<Integer> nan = new java.util.HashSet<>();
    for (int r : nanRows) {
      nan.add(r);
    }
    double max = 0;
    for (int h = 0; h < want.heads(); h++) {
      for (int r = 0; r < want.rows(); r++) {
        for (int c = 0; c < want.cols(); c++) {
          float w = want.get(0, h, r, c);
          if (Float.isFinite(w)) {
            max = Math.max(max, Math.abs(w));
          }
        }
      }
    }
    for (int h = 0; h < want.heads(); h++) {
      for (int r = 0; r < want.rows(); r++) {
        boolean rowNan = false;
        for (int c = 0; c < want.cols(); c++) {
          float w = want.get(0, h, r, c);
          float g = got.get(0, h, r, c);
          String at = name + " head " + h + " row " + r + " col " + c;
          assertEquals(Float.isNaN(w), Float.isNaN(g), at + ": reference " + w + ", kernel " + g);
          if (Float.isFinite(w)) {
            assertTrue(Math.abs(w - g) <= 1e-3 * Math.max(1, max), at + ": " + w + " vs " + g);
          }
          rowNan |= Float.isNaN(w);
        }
        assertEquals(nan.contains(r), rowNan, name + " row " + r + " (head " + h + ") NaN?");
      }
    }
  }
}
