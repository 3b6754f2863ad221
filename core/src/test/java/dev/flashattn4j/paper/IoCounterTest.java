package dev.flashattn4j.paper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The traffic counted as the loops run equals the closed forms of {@link IoModel}. */
class IoCounterTest {

  /** Sizes: (B·H_q pairs as B, H), N_q, N_k, d, d_v and M. */
  record Sizes(int batch, int heads, int nq, int nk, int d, int dv, int sram) {}

  static Stream<Sizes> sizes() {
    SplittableRandom r = new SplittableRandom(2);
    return IntStream.range(0, 120)
        .mapToObj(
            n -> {
              int d = 1 + r.nextInt(12);
              int dv = r.nextBoolean() ? d : 1 + r.nextInt(12);
              int nq = 1 + r.nextInt(40);
              int nk = r.nextInt(3) == 0 ? nq : 1 + r.nextInt(40);
              int de = Math.max(d, dv);
              int sram = 4 * de + r.nextInt(4 * de * 12);
              return new Sizes(1 + r.nextInt(2), 1 + r.nextInt(2), nq, nk, d, dv, sram);
            });
  }

  @ParameterizedTest
  @MethodSource("sizes")
  void algorithm1CountsEqualTheClosedForm(Sizes s) {
    Tensor q = TestTensors.uniform(1, s.batch(), s.heads(), s.nq(), s.d());
    Tensor k = TestTensors.uniform(2, s.batch(), s.heads(), s.nk(), s.d());
    Tensor v = TestTensors.uniform(3, s.batch(), s.heads(), s.nk(), s.dv());
    IoCounter counter = new IoCounter();
    AttentionOptions o = AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).build();
    Algorithm1.compute(q, k, v, o, s.sram(), counter, null);
    BlockSizes b = BlockSizes.of(s.sram(), Math.max(s.d(), s.dv()), s.nq(), s.nk());
    assertEquals(
        IoModel.algorithm1((long) s.batch() * s.heads(), b, s.d(), s.dv()),
        counter.tally(),
        s + " " + b);
  }

  @ParameterizedTest
  @MethodSource("sizes")
  void standardAttentionCountsEqualTheClosedFormAndItIsRight(Sizes s) {
    Tensor q = TestTensors.uniform(4, s.batch(), 2 * s.heads(), s.nq(), s.d());
    Tensor k = TestTensors.uniform(5, s.batch(), s.heads(), s.nk(), s.d());
    Tensor v = TestTensors.uniform(6, s.batch(), s.heads(), s.nk(), s.dv());
    IoCounter counter = new IoCounter();
    AttentionOptions o = AttentionOptions.builder().causal(Causal.TOP_LEFT).softcap(3f).build();
    AttentionResult got = StandardAttention.compute(q, k, v, o, counter);
    assertEquals(
        IoModel.standard(2L * s.batch() * s.heads(), s.nq(), s.nk(), s.d(), s.dv()),
        counter.tally(),
        s.toString());
    assertTrue(ErrorBudget.check(q, k, v, o, got).passed(), s.toString());
  }

  @Test
  void theSeedExampleByHand() {
    // N = 6, d = 3, M = 24: B_c = B_r = 2, T_r = T_c = 3
    Tensor q = TestTensors.uniform(1, 6, 3);
    IoCounter c = new IoCounter();
    Algorithm1.compute(q, q, q, AttentionOptions.DEFAULTS, 24, c, null);
    IoTally t = c.tally();
    assertEquals(36, t.reads(6)); // K, V once: 2·6·3
    assertEquals(144, t.reads(8)); // T_c·N·(2d + 2) = 3·6·8
    assertEquals(54, t.writes(12)); // T_c·N·d = 3·6·3
    assertEquals(36, t.writes(13)); // T_c·2N
    assertEquals(180, t.totalReads());
    assertEquals(90, t.totalWrites());
    assertEquals(40, t.peakSram()); // K_j, V_j 12 + Q_i, O_i, ℓ_i, m_i 16 + S_ij 4 + 4 stats 8
    assertArrayEquals(new int[] {6, 8, 12, 13}, t.lines());
    IoCounter s = new IoCounter();
    StandardAttention.compute(q, q, q, AttentionOptions.DEFAULTS, s);
    IoTally st = s.tally();
    assertEquals(36, st.reads(1)); // Q, K
    assertEquals(36, st.writes(1)); // S
    assertEquals(36, st.reads(2));
    assertEquals(36, st.writes(2));
    assertEquals(54, st.reads(3)); // P, V
    assertEquals(18, st.writes(3)); // O
    assertEquals(18 + 3 + 6, st.peakSram()); // K + q_i + S_i
  }

  @Test
  void algorithm1TrafficFallsAsTheSramGrowsAndMatchesTheorem2() {
    int n = 64;
    int d = 4;
    long previous = Long.MAX_VALUE;
    for (int sram = 16; sram <= 4 * d * n; sram *= 2) {
      IoTally t = IoModel.algorithm1(1, BlockSizes.of(sram, d, n, n), d, d);
      assertTrue(t.accesses() <= previous, "M = " + sram);
      previous = t.accesses();
      // Θ(N²d²/M): the T_c passes dominate while B_c < N
      double ratio = t.accesses() / IoModel.theorem2Algorithm1(n, d, sram);
      assertTrue(ratio > 1 && ratio < 60, "M = " + sram + ": ratio " + ratio);
    }
    IoTally std = IoModel.standard(1, n, n, d, d);
    assertEquals(4 * n * d + 4 * n * n, std.accesses()); // 4Nd + 4N² (Q, K, V, O; S, P twice)
  }

  @Test
  void theListenerSeesEveryStepInThePapersOrder() {
    int nq = 7;
    int nk = 5;
    Tensor q = TestTensors.uniform(1, 2, nq, 3);
    Tensor k = TestTensors.uniform(2, 1, nk, 3);
    Tensor v = TestTensors.uniform(3, 1, nk, 2);
    AttentionOptions o = AttentionOptions.builder().causal(Causal.TOP_LEFT).build();
    Recorder rec = new Recorder();
    AttentionResult got = Algorithm1.compute(q, k, v, o, 24, null, rec);
    BlockSizes b = rec.sizes;
    assertEquals("B_c=2, B_r=2, T_r=4, T_c=3", b.toString());
    assertEquals(2 * b.tr() * b.tc(), rec.steps.size());
    assertEquals(2 * b.tc(), rec.loads);
    StepListener.Step first = rec.steps.get(0);
    StepListener.Step second = rec.steps.get(1);
    assertEquals(0, first.j());
    assertEquals(1, second.i()); // inner loop over i
    assertEquals(0, second.j());
    StepListener.Step last = rec.steps.get(b.tr() * b.tc() - 1);
    assertEquals(6, last.rowStart());
    assertEquals(7, last.rowEnd());
    assertEquals(4, last.colStart());
    assertEquals(5, last.colEnd());
    assertEquals(1, last.sij().length);
    // causal top-left: row 0 sees only key 0, so S_00 row 0 is [s, −∞]
    assertEquals(Float.NEGATIVE_INFINITY, first.sij()[1]);
    assertEquals(first.sij()[0], first.mTilde()[0]);
    assertEquals(1f, first.lTilde()[0]);
    // the HBM snapshot after the last step of head 0 is head 0's output
    float[] o0 = last.o();
    for (int r = 0; r < nq; r++) {
      for (int e = 0; e < 2; e++) {
        assertEquals(got.output().get(0, 0, r, e), o0[r * 2 + e]);
      }
    }
    assertTrue(rec.steps.get(1).io().accesses() > first.io().accesses());
    assertEquals(rec.finalIo.accesses(), rec.steps.getLast().io().accesses());
    assertEquals(first.m()[0], first.mNew()[0]);
  }

  @Test
  void watchingARunDoesNotChangeIt() {
    Tensor q = TestTensors.uniform(7, 2, 4, 9, 5);
    Tensor k = TestTensors.uniform(8, 2, 2, 11, 5);
    Tensor v = TestTensors.uniform(9, 2, 2, 11, 3);
    AttentionOptions o = AttentionOptions.builder().window(3, 1).softcap(4f).build();
    AttentionResult plain = Algorithm1.compute(q, k, v, o, 27);
    IoCounter counter = new IoCounter();
    Recorder rec = new Recorder();
    AttentionResult watched = Algorithm1.compute(q, k, v, o, 27, counter, rec);
    assertArrayEquals(plain.output().toArray(), watched.output().toArray());
    assertArrayEquals(plain.lse(), watched.lse());
    assertEquals(counter.tally(), rec.finalIo);
    assertEquals(2 * 4 * rec.sizes.tr() * rec.sizes.tc(), rec.steps.size());
  }

  /** Keeps what the listener saw. */
  private static final class Recorder implements StepListener {
    BlockSizes sizes;
    int loads;
    final java.util.List<Step> steps = new java.util.ArrayList<>();
    IoTally finalIo;

    @Override
    public void start(BlockSizes sizes, dev.flashattn4j.values.AttentionShape shape) {
      this.sizes = sizes;
    }

    @Override
    public void blockLoaded(int b, int h, int j, int colStart, int colEnd, IoTally io) {
      loads++;
    }

    @Override
    public void step(Step step) {
      steps.add(step);
    }

    @Override
    public void finish(AttentionResult result, IoTally io) {
      finalIo = io;
    }
  }
}
