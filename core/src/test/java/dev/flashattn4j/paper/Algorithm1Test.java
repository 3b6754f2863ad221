package dev.flashattn4j.paper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.reference.NaiveAttention;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;
import dev.flashattn4j.values.AttentionMask;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Algorithm 1 against the float64 oracle, within the error budget, over seeded random cases. */
class Algorithm1Test {

  private static final int[] NS = {1, 2, 7, 97, 257};
  private static final int[] DS = {1, 3, 59, 64};
  private static final int CASES = 240;

  /** One drawn case: sizes, SRAM size, options and the seed of its tensors. */
  record Case(
      long seed,
      int batch,
      int hq,
      int hkv,
      int nq,
      int nk,
      int d,
      int dv,
      int sram,
      AttentionOptions options,
      String description) {
    @Override
    public String toString() {
      return description;
    }
  }

  static Stream<Case> cases() {
    SplittableRandom r = new SplittableRandom(20220527);
    List<Case> out = new ArrayList<>();
    for (int n = 0; n < CASES; n++) {
      out.add(draw(r, n));
    }
    return out.stream();
  }

  private static Case draw(SplittableRandom r, int n) {
    int nq = NS[r.nextInt(NS.length)];
    int nk = r.nextInt(4) == 0 ? nq : NS[r.nextInt(NS.length)];
    int d = DS[r.nextInt(DS.length)];
    int dv = r.nextInt(4) == 0 ? DS[r.nextInt(DS.length)] : d;
    boolean big = (long) nq * nk * Math.max(d, dv) > 200_000;
    int hkv = big ? 1 : 1 + r.nextInt(2);
    int hq = hkv * (big ? 1 : 1 + r.nextInt(3));
    int batch = big ? 1 : 1 + r.nextInt(2);
    int de = Math.max(d, dv);
    // B_c from 1 to 40; M anywhere in the range that gives it, so that B_r ≠ B_c when B_c > d
    int bc = 1 + r.nextInt(r.nextBoolean() ? 6 : 40);
    int sram = bc == 1 ? 4 * de : 4 * de * (bc - 1) + 1 + r.nextInt(4 * de);
    AttentionOptions.Builder o = AttentionOptions.builder();
    StringBuilder s = new StringBuilder();
    s.append(
        String.format(
            "#%d B=%d Hq=%d Hkv=%d Nq=%d Nk=%d d=%d dv=%d M=%d",
            n, batch, hq, hkv, nq, nk, d, dv, sram));
    if (r.nextBoolean()) {
      float scale = (float) (0.05 + r.nextDouble());
      o.scale(scale);
      s.append(" scale=").append(scale);
    }
    int causal = r.nextInt(3);
    if (causal > 0) {
      o.causal(causal == 1 ? Causal.TOP_LEFT : Causal.BOTTOM_RIGHT);
      s.append(causal == 1 ? " causal-tl" : " causal-br");
    }
    if (r.nextInt(4) == 0) {
      int left = r.nextInt(3) == 0 ? -1 : r.nextInt(9);
      int right = r.nextInt(3) == 0 ? -1 : r.nextInt(9);
      o.window(left, right);
      s.append(" window=").append(left).append(',').append(right);
    }
    if (r.nextInt(4) == 0) {
      o.softcap(2f + 10 * (float) r.nextDouble());
      s.append(" softcap");
    }
    int mask = r.nextInt(5);
    if (mask == 1) {
      // boolean (N_q, N_k), sparse enough that some rows lose every key
      o.mask(AttentionMask.keep(TestTensors.keepFlags(r, nq * nk, 0.3), nq, nk));
      s.append(" keep(Nq,Nk)");
    } else if (mask == 2) {
      o.mask(
          AttentionMask.keep(
              TestTensors.keepFlags(r, batch * hq * nq * nk, 0.7), batch, hq, nq, nk));
      s.append(" keep(B,H,Nq,Nk)");
    } else if (mask == 3) {
      float[] bias = new float[batch * nk];
      for (int i = 0; i < bias.length; i++) {
        bias[i] = r.nextInt(5) == 0 ? Float.NEGATIVE_INFINITY : (float) (r.nextDouble() * 4 - 2);
      }
      o.mask(AttentionMask.additive(bias, batch, 1, 1, nk));
      s.append(" additive(B,1,1,Nk)");
    }
    return new Case(r.nextLong(), batch, hq, hkv, nq, nk, d, dv, sram, o.build(), s.toString());
  }

  @ParameterizedTest
  @MethodSource("cases")
  void matchesTheOracle(Case c) {
    SplittableRandom r = new SplittableRandom(c.seed());
    Tensor q = TestTensors.uniform(r, c.batch(), c.hq(), c.nq(), c.d());
    Tensor k = TestTensors.uniform(r, c.batch(), c.hkv(), c.nk(), c.d());
    Tensor v = TestTensors.uniform(r, c.batch(), c.hkv(), c.nk(), c.dv());
    AttentionResult got = Algorithm1.compute(q, k, v, c.options(), c.sram());
    ErrorBudget.Check check = ErrorBudget.check(q, k, v, c.options(), got);
    assertTrue(check.passed(), c + ": " + check);
  }

  @Test
  void drawsCoverWhatTheyMust() {
    List<Case> all = cases().toList();
    assertTrue(all.size() >= 200);
    assertTrue(all.stream().anyMatch(c -> c.nq() != c.nk()));
    assertTrue(all.stream().anyMatch(c -> c.hq() != c.hkv()));
    assertTrue(all.stream().anyMatch(c -> c.d() != c.dv()));
    assertTrue(
        all.stream()
            .map(c -> BlockSizes.of(c.sram(), Math.max(c.d(), c.dv()), c.nq(), c.nk()))
            .anyMatch(s -> s.br() != s.bc() && s.nq() % s.br() != 0 && s.nk() % s.bc() != 0));
    for (Causal causal : Causal.values()) {
      assertTrue(all.stream().anyMatch(c -> c.options().causal() == causal), causal.toString());
    }
    assertTrue(all.stream().anyMatch(c -> !c.options().window().isNone()));
    assertTrue(all.stream().anyMatch(c -> c.options().softcap() > 0));
    assertTrue(all.stream().anyMatch(c -> c.options().mask() != null && c.options().softcap() > 0));
    assertTrue(all.stream().anyMatch(c -> c.options().mask() != null && c.nq() == 257));
  }

  @Test
  void fullyMaskedRowsGiveZeroAndMinusInfinity() {
    // row 0 keeps nothing, row 1 keeps key 3 only; 3 K/V blocks of 2 (M = 4·2·2)
    int nq = 3;
    int nk = 5;
    boolean[] keep = new boolean[nq * nk];
    keep[nk + 3] = true;
    for (int j = 0; j < nk; j++) {
      keep[2 * nk + j] = true;
    }
    AttentionOptions o = AttentionOptions.builder().mask(AttentionMask.keep(keep, nq, nk)).build();
    Tensor q = TestTensors.uniform(1, nq, 2);
    Tensor k = TestTensors.uniform(2, nk, 2);
    Tensor v = TestTensors.uniform(3, nk, 2);
    AttentionResult got = Algorithm1.compute(q, k, v, o, 16);
    assertEquals(0f, got.output().get(0, 0, 0, 0));
    assertEquals(0f, got.output().get(0, 0, 0, 1));
    assertEquals(Float.NEGATIVE_INFINITY, got.lse()[0]);
    assertEquals(v.get(0, 0, 3, 0), got.output().get(0, 0, 1, 0), 1e-7);
    for (float x : got.output().toArray()) {
      assertFalse(Float.isNaN(x));
    }
    assertTrue(ErrorBudget.check(q, k, v, o, got).passed());
  }

  @Test
  void theSeedExampleHasTheSeedsBlocks() {
    BlockSizes s = BlockSizes.of(24, 3, 6, 6);
    assertEquals(2, s.bc());
    assertEquals(2, s.br());
    assertEquals(3, s.tr());
    assertEquals(3, s.tc());
    assertEquals("B_c=2, B_r=2, T_r=3, T_c=3", s.toString());
  }

  @Test
  void blocksAreCeilingsWithAShorterLastBlock() {
    // M = 25, d = 3: B_c = ⌈25/12⌉ = 3 (the seed's floor would give 2), B_r = 3
    BlockSizes s = BlockSizes.of(25, 3, 7, 10);
    assertEquals(3, s.bc());
    assertEquals(3, s.br());
    assertEquals(3, s.tr()); // rows 3, 3, 1 (np.array_split(7, 2) would give 4, 3)
    assertEquals(6, s.rowStart(2));
    assertEquals(7, s.rowEnd(2));
    assertEquals(4, s.tc()); // keys 3, 3, 3, 1
    assertEquals(10, s.colEnd(3));
    // B_r = min(B_c, d) < B_c when M/4d > d
    BlockSizes wide = BlockSizes.of(100, 2, 9, 9);
    assertEquals(13, wide.bc());
    assertEquals(2, wide.br());
    assertEquals(5, wide.tr());
    assertEquals(1, wide.tc());
  }

  @Test
  void sramBelowFourDIsAClearError() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> BlockSizes.of(11, 3, 6, 6));
    assertTrue(e.getMessage().contains("M = 11"), e.getMessage());
    assertTrue(e.getMessage().contains("d = 3"), e.getMessage());
    assertTrue(e.getMessage().contains("12"), e.getMessage());
    assertEquals(12, BlockSizes.of(12, 3, 6, 6).sram());
    // Algorithm1 sizes its blocks with max(d, d_v): d = 2, d_v = 5 needs M ≥ 20
    Tensor q = TestTensors.uniform(1, 4, 2);
    Tensor k = TestTensors.uniform(2, 4, 2);
    Tensor v = TestTensors.uniform(3, 4, 5);
    IllegalArgumentException e2 =
        assertThrows(
            IllegalArgumentException.class,
            () -> Algorithm1.compute(q, k, v, AttentionOptions.DEFAULTS, 19));
    assertTrue(e2.getMessage().contains("d = 5"), e2.getMessage());
    assertTrue(
        ErrorBudget.check(
                q,
                k,
                v,
                AttentionOptions.DEFAULTS,
                Algorithm1.compute(q, k, v, AttentionOptions.DEFAULTS, 20))
            .passed());
  }

  @Test
  void stridedViewsAndRankAreHonoured() {
    // Q as (B, N, H, d) through strides; O comes back with Q's rank
    float[] packed = TestTensors.uniform(9, 2, 7, 3, 4).toArray();
    Tensor q = Tensor.ofBnhd(packed, 2, 7, 3, 4);
    Tensor k = TestTensors.uniform(10, 2, 3, 5, 4);
    Tensor v = TestTensors.uniform(11, 2, 3, 5, 4);
    AttentionResult got = Algorithm1.compute(q, k, v, AttentionOptions.DEFAULTS, 20);
    AttentionResult want = NaiveAttention.compute(q, k, v, AttentionOptions.DEFAULTS);
    assertEquals(4, got.output().rank());
    assertTrue(ErrorBudget.check(q, k, v, AttentionOptions.DEFAULTS, got).passed());
    assertEquals(want.output().size(), got.output().size());
  }
}
