package dev.flashattn4j.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;
import dev.flashattn4j.values.AttentionGradients;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Empty sequences, as PyTorch takes them (issue 19: N_q = 0 and N_k = 0 were refused as "a view
 * whose elements overlap"): no query gives an empty O and LSE, and gradients of zero for K and V;
 * no key gives O = 0 and LSE = −∞ (no key to attend to, the fully-masked rule), and dQ = 0.
 */
class EmptySequenceTest {

  @ParameterizedTest(name = "N_q = {0}, N_k = {1}, vectors {2}, causal {3}")
  @CsvSource({
    "0, 5, true, false",
    "0, 5, false, false",
    "4, 0, true, false",
    "4, 0, false, false",
    "0, 0, true, false",
    "0, 5, true, true",
    "4, 0, true, true"
  })
  void emptySequencesGiveEmptyOrZeroResults(int nq, int nk, boolean vectors, boolean causal) {
    Tensor q = TestTensors.normal(1, 2, 4, nq, 8);
    Tensor k = TestTensors.normal(2, 2, 2, nk, 8);
    Tensor v = TestTensors.normal(3, 2, 2, nk, 6);
    AttentionOptions o =
        causal
            ? AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).build()
            : AttentionOptions.DEFAULTS;
    try (AttentionEngine e =
        AttentionEngine.create(KernelConfig.defaults().withThreads(2).withVectorized(vectors))) {
      AttentionResult r = e.forward(q, k, v, o);
      assertArrayEquals(new int[] {2, 4, nq, 6}, r.output().shape());
      assertEquals(2 * 4 * nq, r.lse().length);
      for (float x : r.output().toArray()) {
        assertEquals(0f, x, "no key: O = 0");
      }
      for (float x : r.lse()) {
        assertEquals(Float.NEGATIVE_INFINITY, x, "no key: LSE = −∞");
      }
      Tensor dOut = TestTensors.normal(4, 2, 4, nq, 6);
      AttentionGradients g = e.backward(q, k, v, r.output(), r.lse(), dOut, o);
      assertArrayEquals(q.shape(), g.dq().shape());
      assertArrayEquals(k.shape(), g.dk().shape());
      assertArrayEquals(v.shape(), g.dv().shape());
      for (Tensor t : new Tensor[] {g.dq(), g.dk(), g.dv()}) {
        float[] a = t.toArray();
        float[] zeros = new float[a.length];
        assertArrayEquals(zeros, a, Arrays.toString(t.shape()) + ": an empty side gives zeros");
      }
    }
  }
}
