package dev.flashattn4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.reference.NaiveAttention;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;
import dev.flashattn4j.values.AttentionGradients;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The backward's non-finite policy in a packed batch ({@link BackwardNonFiniteTest} for one
 * sequence): a NaN in one sequence's Q, K or dO reaches only that sequence's gradients that depend
 * on it, as the float64 reference gives them for the sequence alone; the other sequence is finite.
 */
class VarlenBackwardNonFiniteTest {

  @ParameterizedTest(name = "{0} row {1}, vectors {2}, {3} threads")
  @CsvSource({
    "q, 25, true, 1",
    "q, 25, false, 2",
    "k, 30, true, 2",
    "k, 30, false, 1",
    "dout, 3, true, 1"
  })
  void aNanStaysInItsSequenceAndItsVisiblePairs(
      String poisoned, int row, boolean vectors, int threads) {
    int[] cu = {0, 20, 48};
    Tensor q = TestTensors.normal(1, 1, 2, 48, 16);
    Tensor k = TestTensors.normal(2, 1, 1, 48, 16);
    Tensor v = TestTensors.normal(3, 1, 1, 48, 8);
    Tensor dOut = TestTensors.normal(4, 1, 2, 48, 8);
    Tensor t =
        switch (poisoned) {
          case "q" -> q;
          case "k" -> k;
          default -> dOut;
        };
    for (int h = 0; h < t.heads(); h++) {
      t.data()[t.rowOffset(0, h, row)] = Float.NaN;
    }
    AttentionOptions causal = AttentionOptions.builder().causal(Causal.TOP_LEFT).build();
    AttentionGradients got;
    try (AttentionEngine e =
        AttentionEngine.create(
            KernelConfig.defaults().withThreads(threads).withVectorized(vectors))) {
      AttentionResult f = e.varlen(q, k, v, cu, cu, causal);
      got = e.varlenBackward(q, k, v, f.output(), f.lse(), dOut, cu, cu, causal);
    }
    int poisonedSeq = row < cu[1] ? 0 : 1;
    for (int s = 0; s < 2; s++) {
      int from = cu[s];
      int len = cu[s + 1] - from;
      AttentionGradients want =
          NaiveAttention.backward(
              q.narrow(2, from, len),
              k.narrow(2, from, len),
              v.narrow(2, from, len),
              dOut.narrow(2, from, len),
              causal);
      same("dQ", want.dq(), got.dq(), from, s != poisonedSeq);
      same("dK", want.dk(), got.dk(), from, s != poisonedSeq);
      same("dV", want.dv(), got.dv(), from, s != poisonedSeq);
    }
  }

  private static void same(String name, Tensor want, Tensor got, int from, boolean finite) {
    boolean anyNan = false;
    for (int h = 0; h < want.heads(); h++) {
      for (int r = 0; r < want.rows(); r++) {
        for (int c = 0; c < want.cols(); c++) {
          float w = want.get(0, h, r, c);
          float g = got.get(0, h, from + r, c);
          String at = name + " head " + h + " row " + (from + r) + " col " + c;
          assertEquals(Float.isNaN(w), Float.isNaN(g), at + ": reference " + w + ", kernel " + g);
          if (Float.isFinite(w)) {
            assertTrue(
                Math.abs(w - g) <= 1e-3 * Math.max(1, Math.abs(w)), at + ": " + w + " vs " + g);
          }
          anyNan |= Float.isNaN(g);
        }
      }
    }
    if (finite) {
      assertTrue(!anyNan, name + ": the other sequence must stay finite");
    }
  }
}
