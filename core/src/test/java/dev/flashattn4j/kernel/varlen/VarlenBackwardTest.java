package dev.flashattn4j.kernel.varlen;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.api.AttentionEngine;
import dev.flashattn4j.api.AttentionGradients;
import dev.flashattn4j.api.AttentionOptions;
import dev.flashattn4j.api.AttentionResult;
import dev.flashattn4j.api.Causal;
import dev.flashattn4j.kernel.KernelConfig;
import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.reference.NaiveAttention;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;
import org.junit.jupiter.api.Test;

/** The varlen backward: each packed sequence's gradients are those of the sequence alone. */
class VarlenBackwardTest {

  @Test
  void eachSequenceGetsTheGradientsOfItsOwnAttention() {
    int hq = 4;
    int hkv = 2;
    int d = 16;
    int[] cuQ = {0, 5, 5, 22, 31};
    int[] cuK = {0, 7, 10, 27, 39};
    Tensor q = TestTensors.normal(1, 1, hq, 31, d);
    Tensor k = TestTensors.normal(2, 1, hkv, 39, d);
    Tensor v = TestTensors.normal(3, 1, hkv, 39, d);
    Tensor g = TestTensors.normal(4, 1, hq, 31, d);
    AttentionOptions o =
        AttentionOptions.builder()
            .causal(Causal.BOTTOM_RIGHT)
            .alibi(0.5f, 0.25f, 0.125f, 0.0625f)
            .sinks(0.5f, -1f, 1f, 0f)
            .softcap(4)
            .build();
    float[] dsinksWant = new float[hq];
    AttentionGradients first = null;
    for (int threads = 1; threads <= 2; threads++) {
      for (boolean vector : new boolean[] {true, false}) {
        KernelConfig c = KernelConfig.defaults().withThreads(threads).withVectorized(vector);
        try (AttentionEngine e = AttentionEngine.create(c)) {
          AttentionResult f = e.varlen(q, k, v, cuQ, cuK, o);
          AttentionGradients got = e.varlenBackward(q, k, v, f.output(), f.lse(), g, cuQ, cuK, o);
          java.util.Arrays.fill(dsinksWant, 0f);
          for (int x = 0; x + 1 < cuQ.length; x++) {
            int nq = cuQ[x + 1] - cuQ[x];
            int nk = cuK[x + 1] - cuK[x];
            if (nq == 0) {
              continue;
            }
            Tensor qx = q.narrow(2, cuQ[x], nq);
            Tensor kx = k.narrow(2, cuK[x], nk);
            Tensor vx = v.narrow(2, cuK[x], nk);
            Tensor gx = g.narrow(2, cuQ[x], nq);
            AttentionGradients want = NaiveAttention.backward(qx, kx, vx, gx, o);
            close(want.dq(), got.dq().narrow(2, cuQ[x], nq), "dQ of sequence " + x);
            close(want.dk(), got.dk().narrow(2, cuK[x], nk), "dK of sequence " + x);
            close(want.dv(), got.dv().narrow(2, cuK[x], nk), "dV of sequence " + x);
            for (int h = 0; h < hq; h++) {
              dsinksWant[h] += want.dsinks()[h];
            }
          }
          // keys of sequence 1 (no queries) get no gradient
          assertArrayEquals(
              new float[3 * d * hkv], got.dk().narrow(2, 7, 3).toArray(), "keys seen by no row");
          double err = ErrorBudget.Errors.of(got.dsinks(), dsinksWant).maxAbs();
          assertTrue(
              err <= ErrorBudget.gradientTolerance(ErrorBudget.maxAbs(dsinksWant)), "dsinks");
          if (first != null && vector) {
            assertArrayEquals(first.dq().toArray(), got.dq().toArray(), "dQ bits by threads");
          }
          if (vector && threads == 1) {
            first = got;
          }
        }
      }
    }
  }

  private static void close(Tensor want, Tensor got, String what) {
    float[] w = want.toArray();
    double err = ErrorBudget.Errors.of(got.toArray(), w).maxAbs();
    double tol = ErrorBudget.gradientTolerance(ErrorBudget.maxAbs(w));
    assertTrue(err <= tol, what + ": " + err + " > " + tol);
  }
}
