package dev.flashattn4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.cache.KvStorage;
import dev.flashattn4j.cache.PagedKvCache;
import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.paper.Algorithm1;
import dev.flashattn4j.reference.NaiveAttention;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;
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
 * The non-finite policy of docs/SEMANTICS (README "Semantics"), the same in every kernel: fast
 * (SIMD and scalar), paper, naive float32, decode (SIMD and scalar) and varlen, each against the
 * float64 oracle. A NaN or +∞ score a row can see makes the row NaN; a key a row cannot see never
 * changes it, NaN or not; a float mask is added as written (−3.4e38 gives the softmax of the
 * scores, +3e38 selects its key, −∞ hides the key); the soft cap works for every positive finite
 * value.
 */
class NonFinitePolicyTest {

  private static final int H = 2;
  private static final int N = 40;
  private static final int D = 16;

  /** A case: how to spoil the inputs, the options, and the rows (of head 0) that must be NaN. */
  private record Case(
      String name,
      java.util.function.Consumer<float[][]> spoil,
      AttentionOptions options,
      List<Integer> nanRows) {
    @Override
    public String toString() {
      return name;
    }
  }

  private static List<Integer> range(int from, int to) {
    List<Integer> r = new ArrayList<>();
    for (int i = from; i < to; i++) {
      r.add(i);
    }
    return r;
  }

  private static float[] maskWith(int row, int key, float value) {
    float[] bias = new float[N * N];
    bias[row * N + key] = value;
    return bias;
  }

  static Stream<Arguments> cases() {
    AttentionOptions none = AttentionOptions.DEFAULTS;
    AttentionOptions causal = AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).build();
    AttentionOptions window = AttentionOptions.builder().window(5, 0).build();
    float[] hfRow3 = new float[N * N];
    for (int j = 0; j < N; j++) {
      hfRow3[3 * N + j] = -Float.MAX_VALUE; // transformers' padding mask
    }
    hfRow3[4 * N + 17] = 3e38f; // selects key 17 for row 4
    boolean[] hide30 = new boolean[N * N];
    java.util.Arrays.fill(hide30, true);
    for (int i = 0; i < N; i++) {
      hide30[i * N + 30] = false;
    }
    float[] minusInf30 = new float[N * N];
    for (int i = 0; i < N; i++) {
      minusInf30[i * N + 30] = Float.NEGATIVE_INFINITY;
    }
    List<Case> list =
        List.of(
            new Case("NaN in q row 5", x -> set(x[0], 5, 3, Float.NaN), none, List.of(5)),
            new Case(
                "+inf in q row 6", x -> set(x[0], 6, 0, Float.POSITIVE_INFINITY), none, List.of(6)),
            new Case("NaN in key 10", x -> set(x[1], 10, 2, Float.NaN), none, range(0, N)),
            new Case(
                "NaN in key 10, causal", x -> set(x[1], 10, 2, Float.NaN), causal, range(10, N)),
            new Case(
                "NaN in key 12, window 5 left",
                x -> set(x[1], 12, 2, Float.NaN),
                window,
                range(12, 18)),
            new Case("q·k overflows float32", x -> overflow(x, 7, 3), none, List.of(7)),
            new Case(
                "NaN in value 20, causal", x -> set(x[2], 20, 1, Float.NaN), causal, range(20, N)),
            new Case(
                "+inf in value 20, window",
                x -> set(x[2], 20, 1, Float.POSITIVE_INFINITY),
                window,
                range(20, 26)),
            new Case(
                "NaN in value 20, no mask", x -> set(x[2], 20, 1, Float.NaN), none, range(0, N)),
            new Case(
                "NaN in key 30 hidden by a keep-mask",
                x -> set(x[1], 30, 0, Float.NaN),
                AttentionOptions.builder().mask(AttentionMask.keep(hide30, N, N)).build(),
                List.of()),
            new Case(
                "NaN in key and value 30 hidden by a -inf mask",
                x -> {
                  set(x[1], 30, 0, Float.NaN);
                  set(x[2], 30, 0, Float.NaN);
                },
                AttentionOptions.builder().mask(AttentionMask.additive(minusInf30, N, N)).build(),
                List.of()),
            new Case(
                "Hugging Face's -3.4e38 padding and a +3e38 bias",
                x -> {},
                AttentionOptions.builder().mask(AttentionMask.additive(hfRow3, N, N)).build(),
                List.of()),
            new Case(
                "NaN in the float mask",
                x -> {},
                AttentionOptions.builder()
                    .mask(AttentionMask.additive(maskWith(8, 2, Float.NaN), N, N))
                    .build(),
                List.of(8)),
            new Case(
                "+inf in the float mask",
                x -> {},
                AttentionOptions.builder()
                    .mask(AttentionMask.additive(maskWith(9, 2, Float.POSITIVE_INFINITY), N, N))
                    .build(),
                List.of(9)),
            new Case(
                "softcap 1.4e-45",
                x -> {},
                AttentionOptions.builder().softcap(Float.MIN_VALUE).build(),
                List.of()),
            new Case(
                "softcap 1e-39",
                x -> {},
                AttentionOptions.builder().softcap(1e-39f).build(),
                List.of()),
            new Case(
                "softcap 3e38",
                x -> {},
                AttentionOptions.builder().softcap(3e38f).build(),
                List.of()),
            new Case(
                "softcap MAX_VALUE, q·k overflows",
                x -> overflow(x, 7, 3),
                AttentionOptions.builder().softcap(Float.MAX_VALUE).build(),
                List.of()),
            new Case(
                "softcap 30, q·k overflows",
                x -> overflow(x, 7, 3),
                AttentionOptions.builder().softcap(30).build(),
                List.of()));
    List<Arguments> args = new ArrayList<>();
    for (Case c : list) {
      for (String kernel : KERNELS) {
        args.add(Arguments.of(c, kernel));
      }
    }
    return args.stream();
  }

  private static final String[] KERNELS = {
    "fast simd", "fast scalar", "paper", "naive float32", "decode simd", "decode scalar", "varlen"
  };

  /** x[0] = q (H, N, D), x[1] = k (1, N, D), x[2] = v (1, N, D); sets row's element c. */
  private static float[] set(float[] a, int row, int c, float value) {
    a[row * D + c] = value;
    return a;
  }

  /** Q row i (of every head) and key j of 1e20s: the score overflows float32 to +∞. */
  private static float[][] overflow(float[][] x, int i, int j) {
    for (int h = 0; h < H; h++) {
      for (int c = 0; c < D; c++) {
        x[0][(h * N + i) * D + c] = 1e20f;
      }
    }
    for (int c = 0; c < D; c++) {
      x[1][j * D + c] = 1e20f;
    }
    return x;
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("cases")
  void everyKernelFollowsThePolicy(Case c, String kernel) {
    Tensor q = TestTensors.normal(1, H, N, D);
    Tensor k = TestTensors.normal(2, 1, N, D);
    Tensor v = TestTensors.normal(3, 1, N, D);
    float[][] x = {q.data(), k.data(), v.data()};
    c.spoil().accept(x);
    AttentionResult want = NaiveAttention.compute(q, k, v, c.options());
    // the oracle itself follows the policy: exactly the expected rows hold a NaN (or ∞, from V)
    float[] oracle = want.output().toArray();
    for (int h = 0; h < H; h++) {
      for (int i = 0; i < N; i++) {
        boolean nan = (h == 0 || !c.name().contains("q row")) && c.nanRows().contains(i);
        boolean has = false;
        for (int e = 0; e < D; e++) {
          has |= !Float.isFinite(oracle[(h * N + i) * D + e]);
        }
        assertEquals(nan, has, "oracle, head " + h + " row " + i);
      }
    }
    AttentionResult got = run(kernel, q, k, v, c.options());
    float[] wo = want.output().toArray();
    float[] go = got.output().toArray();
    for (int r = 0; r < H * N; r++) {
      assertEquals(
          Float.isNaN(want.lse()[r]),
          Float.isNaN(got.lse()[r]),
          "LSE of row " + r + ": " + got.lse()[r]);
      if (!Float.isNaN(want.lse()[r])) {
        assertEquals(
            want.lse()[r], got.lse()[r], 2e-3 * (1 + Math.abs(want.lse()[r])), "LSE row " + r);
      }
      for (int e = 0; e < D; e++) {
        float w = wo[r * D + e];
        float g = go[r * D + e];
        if (Float.isNaN(w)) {
          assertTrue(Float.isNaN(g), "O(" + r + ", " + e + ") should be NaN, is " + g);
        } else {
          assertEquals(w, g, 2e-3 * (1 + Math.abs(w)), "O(" + r + ", " + e + ")");
        }
      }
    }
    if (c.name().startsWith("Hugging")) {
      for (int e = 0; e < D; e++) {
        double mean = 0;
        for (int j = 0; j < N; j++) {
          mean += v.data()[j * D + e] / N;
        }
        assertEquals(mean, go[3 * D + e], 1e-4, "a row masked with -3.4e38 everywhere: mean of V");
        assertEquals(v.data()[17 * D + e], go[4 * D + e], 1e-5, "+3e38 selects key 17");
      }
    }
  }

  private static AttentionResult run(
      String kernel, Tensor q, Tensor k, Tensor v, AttentionOptions o) {
    return switch (kernel) {
      case "fast simd", "fast scalar" -> {
        KernelConfig config =
            KernelConfig.defaults().withThreads(2).withVectorized(kernel.equals("fast simd"));
        try (AttentionEngine e = AttentionEngine.create(config)) {
          yield e.forward(q, k, v, o);
        }
      }
      case "paper" -> Algorithm1.compute(q, k, v, o, 4 * D * 8);
      case "naive float32" -> NaiveAttention.compute(q, k, v, o, NaiveAttention.Precision.FLOAT);
      case "varlen" -> Attention.engine().varlen(q, k, v, new int[] {0, N}, new int[] {0, N}, o);
      default -> decode(kernel.equals("decode simd"), q, k, v, o);
    };
  }

  /** The whole K and V in a cache, and the N query rows as the N newest tokens. */
  private static AttentionResult decode(
      boolean simd, Tensor q, Tensor k, Tensor v, AttentionOptions o) {
    PagedKvCache cache = new PagedKvCache(1, 1, D, D, 16, 8, KvStorage.FLOAT32);
    int seq = cache.newSequence();
    cache.append(seq, k.withRank(4), v.withRank(4));
    try (dev.flashattn4j.kernel.decode.DecodeAttention step =
        dev.flashattn4j.kernel.decode.DecodeAttention.builder()
            .threads(2)
            .chunkKeys(16)
            .vector(simd)
            .build()) {
      return step.decode(cache, 0, new int[] {seq}, q.withRank(4), o);
    }
  }
}
