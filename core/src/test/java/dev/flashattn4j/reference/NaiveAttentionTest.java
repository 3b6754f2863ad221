package dev.flashattn4j.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.reference.NaiveAttention.Precision;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;
import dev.flashattn4j.values.AttentionMask;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import org.junit.jupiter.api.Test;

/** Hand-computed cases that check the oracle itself. */
class NaiveAttentionTest {

  private static final double EPS = 1e-6;

  @Test
  void twoKeysWithScaleOne() {
    // q = [1, 0]; k0 = [1, 0] (score 1), k1 = [0, 1] (score 0); v0 = [1, 2], v1 = [3, 4]
    // p = [e, 1] / (e + 1); O = (e·[1, 2] + [3, 4]) / (e + 1); LSE = log(e + 1)
    Tensor q = Tensor.of(new float[] {1, 0}, 1, 2);
    Tensor k = Tensor.of(new float[] {1, 0, 0, 1}, 2, 2);
    Tensor v = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
    AttentionResult r =
        NaiveAttention.compute(q, k, v, AttentionOptions.builder().scale(1f).build());
    double e = Math.E;
    assertEquals((e + 3) / (e + 1), r.output().get(0, 0, 0, 0), EPS);
    assertEquals((2 * e + 4) / (e + 1), r.output().get(0, 0, 0, 1), EPS);
    assertEquals(Math.log(e + 1), r.lse()[0], EPS);
    assertArrayEquals(new int[] {1, 2}, r.output().shape());
  }

  @Test
  void defaultScaleIsOneOverSqrtD() {
    // d = 4, q = k0 = [1, 1, 1, 1] → score 4 · 1/2 = 2; k1 = 0 → score 0
    Tensor q = Tensor.of(new float[] {1, 1, 1, 1}, 1, 4);
    Tensor k = Tensor.of(new float[] {1, 1, 1, 1, 0, 0, 0, 0}, 2, 4);
    Tensor v = Tensor.of(new float[] {1, 0}, 2, 1);
    AttentionResult r = NaiveAttention.compute(q, k, v, AttentionOptions.DEFAULTS);
    double p0 = Math.exp(2) / (Math.exp(2) + 1);
    assertEquals(p0, r.output().get(0, 0, 0, 0), EPS);
    assertEquals(Math.log(Math.exp(2) + 1), r.lse()[0], EPS);
  }

  @Test
  void causalAlignments() {
    // N_q = 1, N_k = 3, v_j = j: top-left query 0 sees key 0 only; bottom-right sees all three.
    Tensor q = Tensor.of(new float[] {0}, 1, 1);
    Tensor k = Tensor.of(new float[] {0, 0, 0}, 3, 1);
    Tensor v = Tensor.of(new float[] {0, 1, 2}, 3, 1);
    AttentionResult tl =
        NaiveAttention.compute(q, k, v, AttentionOptions.builder().causal(Causal.TOP_LEFT).build());
    AttentionResult br =
        NaiveAttention.compute(
            q, k, v, AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).build());
    assertEquals(0, tl.output().get(0, 0, 0, 0), EPS);
    assertEquals(1, br.output().get(0, 0, 0, 0), EPS); // mean of 0, 1, 2
    assertEquals(Math.log(3), br.lse()[0], EPS);
  }

  @Test
  void bottomRightWithMoreQueriesThanKeysLeavesEmptyRows() {
    // N_q = 3, N_k = 1: row i sees keys j ≤ i − 2, so rows 0 and 1 see nothing.
    Tensor q = Tensor.of(new float[] {1, 1, 1}, 3, 1);
    Tensor k = Tensor.of(new float[] {1}, 1, 1);
    Tensor v = Tensor.of(new float[] {5}, 1, 1);
    AttentionResult r =
        NaiveAttention.compute(
            q, k, v, AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).build());
    assertArrayEquals(new float[] {0, 0, 5}, r.output().toArray());
    assertEquals(Float.NEGATIVE_INFINITY, r.lse()[0]);
    assertEquals(Float.NEGATIVE_INFINITY, r.lse()[1]);
  }

  @Test
  void softcapThenAdditiveMask() {
    // scores 3 and 0, cap 1 → tanh(3) and 0; mask adds 0 and ln 2
    Tensor q = Tensor.of(new float[] {3}, 1, 1);
    Tensor k = Tensor.of(new float[] {1, 0}, 2, 1);
    Tensor v = Tensor.of(new float[] {1, 0}, 2, 1);
    AttentionMask mask = AttentionMask.additive(new float[] {0, (float) Math.log(2)}, 1, 2);
    AttentionResult r =
        NaiveAttention.compute(
            q, k, v, AttentionOptions.builder().scale(1f).softcap(1f).mask(mask).build());
    double a = Math.exp(Math.tanh(3));
    assertEquals(a / (a + 2), r.output().get(0, 0, 0, 0), EPS);
  }

  @Test
  void slidingWindowAndKeepMask() {
    // N = 4, all scores 0, v_j = j; window (1, 0) bottom-right: row 3 sees keys 2, 3 → 2.5;
    // a keep-mask that drops key 3 then leaves key 2 only.
    Tensor q = Tensor.zeros(4, 1);
    Tensor k = Tensor.zeros(4, 1);
    Tensor v = Tensor.of(new float[] {0, 1, 2, 3}, 4, 1);
    AttentionResult r =
        NaiveAttention.compute(q, k, v, AttentionOptions.builder().window(1, 0).build());
    assertArrayEquals(new float[] {0, 0.5f, 1.5f, 2.5f}, r.output().toArray(), 1e-6f);
    AttentionMask drop3 = AttentionMask.keep(new boolean[] {true, true, true, false}, 4);
    r =
        NaiveAttention.compute(
            q, k, v, AttentionOptions.builder().window(1, 0).mask(drop3).build());
    assertEquals(2, r.output().get(0, 0, 3, 0), EPS);
  }

  @Test
  void fullyMaskedRowGivesZeroAndMinusInfinity() {
    Tensor q = TestTensors.uniform(1, 2, 3);
    Tensor k = TestTensors.uniform(2, 4, 3);
    Tensor v = TestTensors.uniform(3, 4, 5);
    boolean[] keep = {true, true, false, true, false, false, false, false};
    AttentionResult r =
        NaiveAttention.compute(
            q, k, v, AttentionOptions.builder().mask(AttentionMask.keep(keep, 2, 4)).build());
    for (int c = 0; c < 5; c++) {
      assertEquals(0f, r.output().get(0, 0, 1, c));
    }
    assertEquals(Float.NEGATIVE_INFINITY, r.lse()[1]);
    assertTrue(Float.isFinite(r.lse()[0]));
  }

  @Test
  void gqaSharesKvHeads() {
    // H_q = 4 over H_kv = 2: query heads 0, 1 read K/V head 0 and heads 2, 3 read head 1.
    Tensor q = TestTensors.uniform(4, 1, 4, 3, 2);
    Tensor k = TestTensors.uniform(5, 1, 2, 5, 2);
    Tensor v = TestTensors.uniform(6, 1, 2, 5, 2);
    AttentionResult r = NaiveAttention.compute(q, k, v, AttentionOptions.DEFAULTS);
    for (int h = 0; h < 4; h++) {
      Tensor qh = Tensor.view(q.data(), q.rowOffset(0, h, 0), new int[] {3, 2}, new int[] {2});
      Tensor kh = Tensor.view(k.data(), k.rowOffset(0, h / 2, 0), new int[] {5, 2}, new int[] {2});
      Tensor vh = Tensor.view(v.data(), v.rowOffset(0, h / 2, 0), new int[] {5, 2}, new int[] {2});
      AttentionResult one = NaiveAttention.compute(qh, kh, vh, AttentionOptions.DEFAULTS);
      for (int i = 0; i < 3; i++) {
        for (int c = 0; c < 2; c++) {
          assertEquals(one.output().get(0, 0, i, c), r.output().get(0, h, i, c), 0f);
        }
      }
    }
  }

  @Test
  void float32PathIsCloseButNotIdentical() {
    Tensor q = TestTensors.uniform(7, 64, 32);
    Tensor k = TestTensors.uniform(8, 64, 32);
    Tensor v = TestTensors.uniform(9, 64, 32);
    AttentionResult d = NaiveAttention.compute(q, k, v, AttentionOptions.DEFAULTS);
    AttentionResult f = NaiveAttention.compute(q, k, v, AttentionOptions.DEFAULTS, Precision.FLOAT);
    double err = ErrorBudget.Errors.of(f.output(), d.output()).maxAbs();
    assertTrue(err > 0 && err < 1e-5, "float32 error " + err);
  }

  @Test
  void shapesThatDontFitAreRejectedWithTheirNames() {
    Tensor q = Tensor.zeros(2, 3);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                NaiveAttention.compute(
                    q, Tensor.zeros(2, 4), Tensor.zeros(2, 4), AttentionOptions.DEFAULTS));
    assertTrue(e.getMessage().contains("d of q (3) must equal d of k (4)"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                NaiveAttention.compute(
                    Tensor.zeros(3, 2, 2),
                    Tensor.zeros(2, 2, 2),
                    Tensor.zeros(2, 2, 2),
                    AttentionOptions.DEFAULTS));
    assertTrue(e.getMessage().contains("multiple"), e.getMessage());
    AttentionMask bad = AttentionMask.keep(new boolean[3], 3);
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> NaiveAttention.compute(q, q, q, AttentionOptions.builder().mask(bad).build()));
    assertTrue(e.getMessage().contains("does not broadcast"), e.getMessage());
  }
}
