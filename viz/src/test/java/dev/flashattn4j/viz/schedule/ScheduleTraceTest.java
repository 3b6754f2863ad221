package dev.flashattn4j.viz.schedule;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.paper.Algorithm1;
import dev.flashattn4j.paper.BlockSizes;
import dev.flashattn4j.paper.IoModel;
import dev.flashattn4j.paper.IoTally;
import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import dev.flashattn4j.values.Window;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ScheduleTraceTest {

  static Stream<Arguments> setups() {
    return Stream.of(
        Arguments.of(ScheduleSetup.SEED),
        Arguments.of(new ScheduleSetup(7, 2, 20, 5, 1f)), // B_c = 3, B_r = 2: uneven last blocks
        Arguments.of(new ScheduleSetup(1, 1, 4, 6, 1f)),
        Arguments.of(new ScheduleSetup(33, 5, 60, 7, 0.4472136f)),
        Arguments.of(new ScheduleSetup(64, 8, 256, 8, 1f)));
  }

  @ParameterizedTest
  @MethodSource("setups")
  void thePaperTraceIsTheRealRun(ScheduleSetup setup) {
    ScheduleTrace t = PaperSchedule.run(setup);
    BlockSizes b = BlockSizes.of(setup.sram(), setup.d(), setup.n(), setup.n());
    assertEquals(List.of(b.bc(), b.br(), b.tr(), b.tc()), List.of(t.bc(), t.br(), t.tr(), t.tc()));
    assertEquals(b.tr() * b.tc(), t.steps().size());
    // the paper's loop order: K/V block j outside, Q block i inside
    for (int k = 0; k < t.steps().size(); k++) {
      assertEquals(k / b.tr(), t.steps().get(k).j());
      assertEquals(k % b.tr(), t.steps().get(k).i());
    }
    // O as the run returns it, and as the recorded HBM writes replay it
    AttentionResult run =
        Algorithm1.compute(setup.q(), setup.k(), setup.v(), setup.options(), setup.sram());
    assertArrayEquals(run.output().toArray(), t.output().values());
    assertArrayEquals(
        t.output().values(), HbmState.after(t, t.steps().size() - 1).get("O").values());
    // the counter's totals, which equal the closed forms
    IoTally model = IoModel.algorithm1(1, b, setup.d(), setup.d());
    assertEquals(model.totalReads(), t.totalReads());
    assertEquals(model.totalWrites(), t.totalWrites());
    assertTrue(t.maxDifference() <= 1e-6, "exact: " + t.maxDifference());
  }

  @ParameterizedTest
  @MethodSource("setups")
  void theFastModelRunsQBlocksOutsideAndIsExact(ScheduleSetup setup) {
    ScheduleTrace t = FastSchedule.run(setup);
    BlockSizes b = BlockSizes.of(setup.sram(), setup.d(), setup.n(), setup.n());
    for (int k = 0; k < t.steps().size(); k++) {
      assertEquals(k / b.tc(), t.steps().get(k).i());
      assertEquals(k % b.tc(), t.steps().get(k).j());
    }
    long n = setup.n();
    long d = setup.d();
    // Q once, K and V once per Q block; O and L written once
    assertEquals(n * d + b.tr() * n * 2 * d, t.totalReads());
    assertEquals(n * (d + 1), t.totalWrites());
    Tensor out = Tensor.of(t.output().values().clone(), setup.n(), setup.d());
    ErrorBudget.Check check =
        ErrorBudget.check(
            setup.q(),
            setup.k(),
            setup.v(),
            setup.options(),
            new AttentionResult(
                out, HbmState.after(t, t.steps().size() - 1).get("L").values().clone()));
    assertTrue(check.passed(), check.toString());
  }

  static Stream<Arguments> masked() {
    return Stream.of(
        Arguments.of(ScheduleSetup.SEED.masked(Causal.TOP_LEFT, Window.NONE)),
        Arguments.of(
            new ScheduleSetup(9, 3, 24, 2022, 1f).masked(Causal.BOTTOM_RIGHT, Window.NONE)),
        Arguments.of(new ScheduleSetup(20, 2, 24, 7, 1f).masked(Causal.NONE, new Window(3, 1))),
        Arguments.of(
            new ScheduleSetup(33, 5, 60, 7, 0.5f).masked(Causal.TOP_LEFT, new Window(4, 0))),
        Arguments.of(new ScheduleSetup(7, 2, 20, 5, 1f).masked(Causal.NONE, new Window(0, 0))));
  }

  /**
   * Under a causal mask or a window both schedules stay exact; every tile's kind is what its
   * elements say; the fast order skips exactly the tiles no row sees and reads that much less.
   */
  @ParameterizedTest
  @MethodSource("masked")
  void maskedRunsClassifyTheirTilesAndTheFastOrderSkipsTheEmptyOnes(ScheduleSetup setup) {
    ScheduleTrace paper = PaperSchedule.run(setup);
    ScheduleTrace fast = FastSchedule.run(setup);
    BlockSizes b = BlockSizes.of(setup.sram(), setup.d(), setup.n(), setup.n());
    int n = setup.n();
    long d = setup.d();
    for (ScheduleTrace t : List.of(paper, fast)) {
      assertEquals(b.tr() * b.tc(), t.steps().size());
      for (ScheduleStep s : t.steps()) {
        int seen = 0;
        int all = 0;
        for (int r = b.rowStart(s.i()); r < b.rowEnd(s.i()); r++) {
          for (int c = b.colStart(s.j()); c < b.colEnd(s.j()); c++) {
            seen += t.sees(r, c) ? 1 : 0;
            all++;
            assertEquals(
                c >= setup.options().keyStart(r, n, n) && c < setup.options().keyEnd(r, n, n),
                t.sees(r, c));
          }
        }
        TileKind want =
            seen == all ? TileKind.FULL : seen == 0 ? TileKind.MASKED : TileKind.DIAGONAL;
        assertEquals(want, s.tile(), t.kernel() + " tile " + s.i() + "," + s.j());
      }
    }
    // Algorithm 1 skips nothing and is the real run; what the masked tiles cost is counted
    assertTrue(paper.steps().stream().noneMatch(ScheduleStep::skipped));
    assertEquals(0, paper.savedReads());
    AttentionResult run =
        Algorithm1.compute(setup.q(), setup.k(), setup.v(), setup.options(), setup.sram());
    assertArrayEquals(run.output().toArray(), paper.output().values());
    assertTrue(paper.maxDifference() <= 1e-6, "exact: " + paper.maxDifference());
    // the fast order: Q once, K and V only for the tiles some row sees
    long visibleKeys = 0;
    long skippedKeys = 0;
    for (ScheduleStep s : fast.steps()) {
      long keys = b.colEnd(s.j()) - b.colStart(s.j());
      assertEquals(s.tile() == TileKind.MASKED, s.skipped());
      if (s.skipped()) {
        skippedKeys += keys;
        assertEquals(0, s.scores().rows(), "nothing computed");
      } else {
        visibleKeys += keys;
      }
    }
    assertEquals(n * d + visibleKeys * 2 * d, fast.totalReads());
    assertEquals(skippedKeys * 2 * d, fast.savedReads());
    assertEquals(n * (d + 1), fast.totalWrites());
    Tensor out = Tensor.of(fast.output().values().clone(), n, setup.d());
    ErrorBudget.Check check =
        ErrorBudget.check(
            setup.q(),
            setup.k(),
            setup.v(),
            setup.options(),
            new AttentionResult(
                out, HbmState.after(fast, fast.steps().size() - 1).get("L").values().clone()));
    assertTrue(check.passed(), check.toString());
  }

  /**
   * The seed under causal top-left, by hand: 3 tiles of each kind; the 3 empty ones cost 48 + 30.
   */
  @Test
  void theSeedUnderACausalMaskByHand() {
    ScheduleSetup causal = ScheduleSetup.SEED.masked(Causal.TOP_LEFT, Window.NONE);
    ScheduleTrace paper = PaperSchedule.run(causal);
    assertArrayEquals(new int[] {3, 3, 3}, paper.tileCounts());
    // each empty tile (j > i): line 8 loads Q_i, O_i (2·2·3) and ℓ_i, m_i (2·2), lines 12–13
    // write O_i, ℓ_i, m_i (2·3 + 2 + 2); K_j, V_j are needed by the column's other tiles
    assertEquals(3 * 16, paper.maskedReads());
    assertEquals(3 * 10, paper.maskedWrites());
    ScheduleTrace fast = FastSchedule.run(causal);
    // each skipped tile keeps K_j, V_j (2·2·3 elements) in HBM
    assertEquals(3 * 12, fast.savedReads());
    assertEquals(0, fast.maskedReads());
    assertEquals("causal top-left", fast.mask());
  }

  @ParameterizedTest
  @MethodSource("setups")
  void statisticsBeforeAStepAreTheOnesTheLastStepOfThatBlockLeft(ScheduleSetup setup) {
    ScheduleTrace t = PaperSchedule.run(setup);
    for (int k = t.tr(); k < t.steps().size(); k++) {
      ScheduleStep now = t.steps().get(k);
      ScheduleStep before = t.steps().get(k - t.tr()); // same i, previous j
      assertEquals(before.i(), now.i());
      assertArrayEquals(before.stats().get(2).values(), now.stats().get(0).values(), "m_i");
      assertArrayEquals(before.stats().get(5).values(), now.stats().get(3).values(), "ℓ_i");
    }
  }
}
