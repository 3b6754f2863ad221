package dev.flashattn4j.viz.schedule;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.api.AttentionResult;
import dev.flashattn4j.paper.Algorithm1;
import dev.flashattn4j.paper.BlockSizes;
import dev.flashattn4j.paper.IoModel;
import dev.flashattn4j.paper.IoTally;
import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.tensor.Tensor;
import java.util.List;
import java.util.stream.Stream;
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
