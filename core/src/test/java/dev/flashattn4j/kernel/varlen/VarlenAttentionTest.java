package dev.flashattn4j.kernel.varlen;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.api.Attention;
import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;
import dev.flashattn4j.values.AttentionMask;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** A packed batch equals running each sequence alone. */
class VarlenAttentionTest {

  record Case(
      String name,
      int hq,
      int hkv,
      int d,
      int dv,
      int[] lensQ,
      int[] lensK,
      AttentionOptions options) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Case> cases() {
    AttentionOptions br = AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).build();
    return Stream.of(
        new Case(
            "self, not causal",
            2,
            2,
            16,
            16,
            new int[] {5, 1, 17},
            new int[] {5, 1, 17},
            AttentionOptions.DEFAULTS),
        new Case(
            "causal top-left, GQA, empty",
            4,
            2,
            59,
            7,
            new int[] {7, 0, 33, 2},
            new int[] {7, 0, 33, 2},
            AttentionOptions.builder().causal(Causal.TOP_LEFT).build()),
        new Case(
            "chunked prefill: N_k > N_q, bottom-right",
            4,
            1,
            32,
            32,
            new int[] {3, 9, 1},
            new int[] {40, 9, 12},
            br),
        new Case(
            "window + softcap",
            3,
            3,
            24,
            24,
            new int[] {20, 13},
            new int[] {20, 30},
            br.toBuilder().window(4, 0).softcap(2f).build()),
        new Case("no keys for a sequence", 2, 1, 8, 8, new int[] {3, 4}, new int[] {0, 4}, br));
  }

  private static int[] cumulative(int[] lens) {
    int[] cu = new int[lens.length + 1];
    for (int b = 0; b < lens.length; b++) {
      cu[b + 1] = cu[b] + lens[b];
    }
    return cu;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void packedEqualsEachSequenceAlone(Case c) {
    int[] cuQ = cumulative(c.lensQ);
    int[] cuK = cumulative(c.lensK);
    int totalQ = cuQ[cuQ.length - 1];
    int totalK = cuK[cuK.length - 1];
    // Packed token-major as FlashAttention's (total, H, d), seen as (1, H, total, d) views.
    float[] qData = TestTensors.uniform(1, totalQ * c.hq * c.d, 1).data();
    float[] kData = TestTensors.uniform(2, totalK * c.hkv * c.d, 1).data();
    float[] vData = TestTensors.uniform(3, totalK * c.hkv * c.dv, 1).data();
    Tensor q = Tensor.ofBnhd(qData, 1, totalQ, c.hq, c.d);
    Tensor k = Tensor.ofBnhd(kData, 1, totalK, c.hkv, c.d);
    Tensor v = Tensor.ofBnhd(vData, 1, totalK, c.hkv, c.dv);
    AttentionResult packed = Attention.varlen(q, k, v, cuQ, cuK, c.options);
    assertArrayEquals(new int[] {1, c.hq, totalQ, c.dv}, packed.output().shape());
    int checked = 0;
    for (int b = 0; b < c.lensQ.length; b++) {
      int nq = c.lensQ[b];
      int nk = c.lensK[b];
      if (nq == 0) {
        continue;
      }
      if (nk == 0) { // no key: O = 0 and LSE = −∞
        for (float x : slice(packed.output(), cuQ[b], nq).toArray()) {
          assertEquals(0f, x);
        }
        for (int h = 0; h < c.hq; h++) {
          for (int i = 0; i < nq; i++) {
            assertEquals(Float.NEGATIVE_INFINITY, packed.lse()[h * totalQ + cuQ[b] + i]);
          }
        }
        checked++;
        continue;
      }
      Tensor qb = slice(q, cuQ[b], nq);
      Tensor kb = slice(k, cuK[b], nk);
      Tensor vb = slice(v, cuK[b], nk);
      AttentionResult alone = Attention.forward(qb, kb, vb, c.options);
      Tensor ob = slice(packed.output(), cuQ[b], nq).copy();
      float[] lb = new float[c.hq * nq];
      for (int h = 0; h < c.hq; h++) {
        System.arraycopy(packed.lse(), h * totalQ + cuQ[b], lb, h * nq, nq);
      }
      assertArrayEquals(alone.output().toArray(), ob.toArray(), c + " sequence " + b);
      assertArrayEquals(alone.lse(), lb, c + " sequence " + b);
      ErrorBudget.Check check =
          ErrorBudget.check(qb, kb, vb, c.options, new AttentionResult(ob, lb));
      assertTrue(check.passed(), c + " sequence " + b + ": " + check);
      checked++;
    }
    assertTrue(checked > 0);
    // The output's array is token-major (total_q, H_q, d_v), as FlashAttention's.
    assertEquals(packed.output().get(0, 1, 0, 2), packed.output().data()[c.dv + 2]);
  }

  /** Rows [from, from + n) of a (1, H, N, D) tensor, copied. */
  private static Tensor slice(Tensor t, int from, int n) {
    Tensor out = Tensor.zeros(1, t.heads(), n, t.cols());
    for (int h = 0; h < t.heads(); h++) {
      for (int i = 0; i < n; i++) {
        System.arraycopy(
            t.data(), t.rowOffset(0, h, from + i), out.data(), out.rowOffset(0, h, i), t.cols());
      }
    }
    return out;
  }

  @Test
  void badOffsetsAreClearErrors() {
    Tensor q = TestTensors.uniform(1, 2, 10, 4);
    Tensor k = TestTensors.uniform(2, 1, 12, 4);
    Tensor v = TestTensors.uniform(3, 1, 12, 4);
    float[] before = q.toArray();
    AttentionOptions o = AttentionOptions.DEFAULTS;
    String notIncreasing =
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    Attention.varlen(q, k, v, new int[] {0, 6, 4, 10}, new int[] {0, 4, 8, 12}, o))
            .getMessage();
    assertTrue(notIncreasing.contains("cu_seqlens_q[2] = 4 < cu_seqlens_q[1] = 6"), notIncreasing);
    String wrongTotal =
        assertThrows(
                IllegalArgumentException.class,
                () -> Attention.varlen(q, k, v, new int[] {0, 4, 10}, new int[] {0, 4, 11}, o))
            .getMessage();
    assertTrue(
        wrongTotal.contains("cu_seqlens_k ends at 11") && wrongTotal.contains("12"), wrongTotal);
    assertThrows(
        IllegalArgumentException.class,
        () -> Attention.varlen(q, k, v, new int[] {1, 4, 10}, new int[] {0, 4, 12}, o));
    assertThrows(
        IllegalArgumentException.class,
        () -> Attention.varlen(q, k, v, new int[] {0, 10}, new int[] {0, 4, 12}, o));
    assertThrows(
        IllegalArgumentException.class,
        () -> Attention.varlen(q, k, v, new int[] {}, new int[] {}, o));
    assertThrows(
        IllegalArgumentException.class,
        () -> Attention.varlen(q, k, v, null, new int[] {0, 12}, o));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            Attention.varlen(
                q,
                k,
                v,
                new int[] {0, 10},
                new int[] {0, 12},
                // a mask that does not broadcast to the packed (1, H, 10, 12)
                o.toBuilder().mask(AttentionMask.keep(new boolean[3 * 7], 3, 7)).build()));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            Attention.varlen(
                TestTensors.uniform(1, 2, 2, 5, 4), k, v, new int[] {0, 5}, new int[] {0, 12}, o));
    assertArrayEquals(before, q.toArray());
    assertEquals(Arrays.toString(new int[] {2, 10, 4}), Arrays.toString(q.shape()));
  }
}
