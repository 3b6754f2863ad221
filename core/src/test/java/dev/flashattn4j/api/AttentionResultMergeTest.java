package dev.flashattn4j.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.reference.NaiveAttention;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;
import dev.flashattn4j.values.AttentionMask;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Attention over shards of K and V, merged by LSE, equals attention over all of them. */
class AttentionResultMergeTest {

  @Test
  void handComputedTwoShards() {
    // One row; shard 1 has LSE log 1 = 0 and O = [1, 0]; shard 2 has LSE log 3 and O = [0, 2].
    // Weights 1/4 and 3/4: O = [1/4, 3/2], LSE = log 4.
    AttentionResult a = new AttentionResult(Tensor.of(new float[] {1, 0}, 1, 2), new float[] {0});
    AttentionResult b =
        new AttentionResult(Tensor.of(new float[] {0, 2}, 1, 2), new float[] {(float) Math.log(3)});
    AttentionResult m = AttentionResult.merge(a, b);
    assertEquals(0.25f, m.output().get(0, 0, 0, 0), 1e-7);
    assertEquals(1.5f, m.output().get(0, 0, 0, 1), 1e-7);
    assertEquals(Math.log(4), m.lse()[0], 1e-7);
    assertArrayEquals(new int[] {1, 2}, m.output().shape());
  }

  /** Columns [from, to) of a (N_q, N_k) keep-mask. */
  private static AttentionMask columns(boolean[] keep, int nq, int nk, int from, int to) {
    boolean[] part = new boolean[nq * (to - from)];
    for (int i = 0; i < nq; i++) {
      System.arraycopy(keep, i * nk + from, part, i * (to - from), to - from);
    }
    return AttentionMask.keep(part, nq, to - from);
  }

  /** Rows [from, to) of a (B, H, N, D) tensor, as a view. */
  private static Tensor rows(Tensor t, int from, int to) {
    return Tensor.view(
        t.data(),
        t.rowOffset(0, 0, from),
        new int[] {t.batch(), t.heads(), to - from, t.cols()},
        new int[] {t.batchStride(), t.headStride(), t.rowStride()});
  }

  @Test
  void shardsIncludingEmptyOnesMergeToTheUnsplitResult() {
    int nq = 5;
    int nk = 40;
    Tensor q = TestTensors.uniform(1, 2, 4, nq, 16);
    Tensor k = TestTensors.uniform(2, 2, 2, nk, 16);
    Tensor v = TestTensors.uniform(3, 2, 2, nk, 12);
    boolean[] keep = TestTensors.keepFlags(new SplittableRandom(4), nq * nk, 0.7);
    for (int j = 0; j < nk; j++) {
      keep[j] = j >= 30; // row 0 sees only the last shard's keys
      keep[4 * nk + j] = false; // row 4 sees no key at all
    }
    AttentionOptions all =
        AttentionOptions.builder().mask(AttentionMask.keep(keep, nq, nk)).softcap(3f).build();
    AttentionResult whole = NaiveAttention.compute(q, k, v, all);
    int[] cuts = {0, 0, 13, 13, 30, 40};
    AttentionResult[] parts = new AttentionResult[cuts.length - 1];
    for (int s = 0; s < parts.length; s++) {
      AttentionOptions opts =
          all.toBuilder().mask(columns(keep, nq, nk, cuts[s], cuts[s + 1])).build();
      parts[s] =
          NaiveAttention.compute(
              q, rows(k, cuts[s], cuts[s + 1]), rows(v, cuts[s], cuts[s + 1]), opts);
    }
    assertEquals(Float.NEGATIVE_INFINITY, parts[0].lse()[0]); // an empty shard
    assertEquals(Float.NEGATIVE_INFINITY, parts[1].lse()[0]); // row 0 masked in this shard
    AttentionResult merged = AttentionResult.merge(parts);
    ErrorBudget.Check check = ErrorBudget.check(q, k, v, all, merged);
    assertTrue(check.passed(), check.toString());
    for (int b = 0; b < 2; b++) {
      for (int h = 0; h < 4; h++) {
        assertEquals(Float.NEGATIVE_INFINITY, merged.lse(b, h, 4));
        assertEquals(0f, merged.output().get(b, h, 4, 3));
      }
    }
    // The order of the shards does not matter (within the budget).
    AttentionResult reversed =
        AttentionResult.merge(parts[4], parts[3], parts[2], parts[1], parts[0]);
    assertTrue(ErrorBudget.check(q, k, v, all, reversed).passed());
    assertEquals(whole.lse().length, merged.lse().length);
  }

  @Test
  void oneShardIsItselfAndNoKeyAnywhereGivesZero() {
    Tensor q = TestTensors.uniform(5, 3, 4);
    Tensor k = TestTensors.uniform(6, 7, 4);
    Tensor v = TestTensors.uniform(7, 7, 2);
    AttentionResult r = NaiveAttention.compute(q, k, v, AttentionOptions.DEFAULTS);
    AttentionResult same = AttentionResult.merge(r);
    assertArrayEquals(r.lse(), same.lse(), 1e-6f);
    assertArrayEquals(r.output().data(), same.output().data(), 1e-6f);
    AttentionResult none =
        new AttentionResult(
            Tensor.of(new float[] {9, 9}, 1, 2), new float[] {Float.NEGATIVE_INFINITY});
    AttentionResult merged = AttentionResult.merge(none, none);
    assertEquals(Float.NEGATIVE_INFINITY, merged.lse()[0]);
    assertArrayEquals(new float[] {0, 0}, merged.output().data());
  }

  @Test
  void partsOfDifferentShapesAreAClearError() {
    AttentionResult a = new AttentionResult(Tensor.zeros(2, 3), new float[2]);
    AttentionResult b = new AttentionResult(Tensor.zeros(2, 4), new float[2]);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> AttentionResult.merge(a, b));
    assertTrue(e.getMessage().contains("[2, 4]"), e.getMessage());
    assertThrows(IllegalArgumentException.class, AttentionResult::merge);
  }
}
