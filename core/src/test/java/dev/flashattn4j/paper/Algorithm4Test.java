package dev.flashattn4j.paper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The paper's Algorithm 4 and standard attention's backward (Algorithm 3): the oracle's gradients
 * for every option and SRAM size, and HBM traffic equal to the closed forms of {@link IoModel}.
 */
class Algorithm4Test {

  static Stream<Arguments> cases() {
    int nq = 13;
    int nk = 19;
    SplittableRandom r = new SplittableRandom(3);
    float[] bias = new float[nq * nk];
    for (int i = 0; i < bias.length; i++) {
      bias[i] = (float) r.nextGaussian();
    }
    List<AttentionOptions> options =
        List.of(
            AttentionOptions.DEFAULTS,
            AttentionOptions.builder().causal(Causal.TOP_LEFT).build(),
            AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).window(4, 0).build(),
            AttentionOptions.builder()
                .softcap(2f)
                .mask(AttentionMask.additive(bias, nq, nk))
                .build(),
            AttentionOptions.builder().dropout(0.3f, 9, 2).scale(0.4f).build());
    List<Arguments> list = new ArrayList<>();
    for (AttentionOptions o : options) {
      for (int sram : new int[] {4 * 12, 4 * 12 * 3, 4 * 12 * 64}) {
        list.add(Arguments.of(o, sram));
      }
    }
    return list.stream();
  }

  @ParameterizedTest
  @MethodSource("cases")
  void theOraclesGradientsAndTheClosedFormsTraffic(AttentionOptions o, int sram) {
    // GQA 4:2, N_q ≠ N_k, d_v ≠ d
    Tensor q = TestTensors.normal(1, 1, 4, 13, 12);
    Tensor k = TestTensors.normal(2, 1, 2, 19, 12);
    Tensor v = TestTensors.normal(3, 1, 2, 19, 7);
    Tensor g = TestTensors.normal(4, 1, 4, 13, 7);
    AttentionResult f = NaiveAttention.compute(q, k, v, o);
    AttentionGradients want = NaiveAttention.backward(q, k, v, g, o);
    IoCounter flash = new IoCounter();
    AttentionGradients paper = Algorithm4.compute(q, k, v, f.output(), f.lse(), g, o, sram, flash);
    IoCounter standard = new IoCounter();
    AttentionGradients plain = StandardAttention.backward(q, k, v, g, o, standard);
    for (AttentionGradients got : List.of(paper, plain)) {
      close(want.dq(), got.dq(), "dQ");
      close(want.dk(), got.dk(), "dK");
      close(want.dv(), got.dv(), "dV");
    }
    BlockSizes sizes = BlockSizes.of(sram, 12, 13, 19);
    assertEquals(IoModel.algorithm4(4, sizes, 12, 7), flash.tally(), "Algorithm 4's traffic");
    assertEquals(IoModel.standardBackward(4, 13, 19, 12, 7), standard.tally(), "standard backward");
  }

  private static void close(Tensor want, Tensor got, String what) {
    float[] w = want.toArray();
    double err = ErrorBudget.Errors.of(got.toArray(), w).maxAbs();
    double tol = ErrorBudget.gradientTolerance(ErrorBudget.maxAbs(w));
    assertTrue(err <= tol, what + ": " + err + " > " + tol);
  }

  /**
   * Theorem 5: Algorithm 4's accesses fall as M grows, and beat standard attention's for large M.
   */
  @org.junit.jupiter.api.Test
  void theTrafficFallsWithTheSramAsTheorem5Says() {
    int n = 1024;
    int d = 64;
    long previous = Long.MAX_VALUE;
    for (int sram : new int[] {4 * 64, 4 * 64 * 4, 4 * 64 * 16, 4 * 64 * 64}) {
      long a = IoModel.algorithm4(1, BlockSizes.of(sram, d, n, n), d, d).accesses();
      assertTrue(a < previous, "M = " + sram);
      previous = a;
    }
    long standard = IoModel.standardBackward(1, n, n, d, d).accesses();
    assertTrue(previous < standard, previous + " vs " + standard);
  }
}
