package dev.flashattn4j.viz.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.viz.gif.FramesOnDisk;
import dev.flashattn4j.viz.gif.GifInfo;
import dev.flashattn4j.viz.render.Palette;
import java.awt.Color;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ScheduleAnimationTest {

  @TempDir Path dir;

  static Stream<Arguments> runs() {
    ScheduleSetup uneven = new ScheduleSetup(7, 2, 20, 5, 1f);
    return Stream.of(
        Arguments.of("paper-seed", PaperSchedule.run(ScheduleSetup.SEED)),
        Arguments.of("fast-seed", FastSchedule.run(ScheduleSetup.SEED)),
        Arguments.of("paper-uneven", PaperSchedule.run(uneven)),
        Arguments.of("paper-64", PaperSchedule.run(new ScheduleSetup(64, 8, 256, 1, 1f))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("runs")
  void oneFramePerStepPlusOpeningAndClosingWithTheirDelays(String name, ScheduleTrace trace)
      throws Exception {
    Path gif = dir.resolve(name + ".gif");
    ScheduleAnimation.write(trace, gif);
    GifInfo info = GifInfo.read(gif);
    int steps = trace.tr() * trace.tc();
    assertEquals(steps, trace.steps().size());
    assertEquals(steps + 2, info.frames().size());
    List<Integer> delays = new ArrayList<>();
    delays.add(ScheduleAnimation.OPENING_MS);
    delays.addAll(Collections.nCopies(steps, ScheduleAnimation.stepMs(steps)));
    delays.add(ScheduleAnimation.CLOSING_MS);
    assertEquals(delays, info.delaysMs());
    assertEquals(0, info.loopCount());
    if (name.endsWith("seed")) {
      FramesOnDisk.save(name, info.frames());
    }
    ScheduleLayout layout = new ScheduleLayout(trace);
    // the opening and closing frames highlight nothing
    assertHighlights(info.frames().getFirst(), layout, trace, List.of(), name + " opening");
    assertHighlights(info.frames().getLast(), layout, trace, List.of(), name + " closing");
    for (int k = 0; k < steps; k++) {
      assertHighlights(
          info.frames().get(k + 1),
          layout,
          trace,
          trace.steps().get(k).highlights(),
          name + " step " + (k + 1));
    }
  }

  /**
   * Every row of every HBM array has the tint the step says: query block orange, key block blue,
   * the rest plain; a written block has the write outline at its left edge.
   */
  private static void assertHighlights(
      BufferedImage frame,
      ScheduleLayout layout,
      ScheduleTrace trace,
      List<Highlight> highlights,
      String what) {
    for (Grid array : trace.initial()) {
      for (int r = 0; r < trace.n(); r++) {
        Color expected = HbmPanel.fill(array.name(), r, highlights);
        Rectangle2D cell = layout.hbmCell(array.name(), r, 0);
        int x = (int) cell.getX() + 3;
        int y = (int) cell.getY() + (int) Math.min(3, layout.hbmCellHeight() / 2);
        assertEquals(
            hex(expected),
            hex(new Color(frame.getRGB(x, y))),
            what + ": " + array.name() + " row " + r);
      }
    }
    for (Highlight h : highlights) {
      Rectangle2D first = layout.hbmCell(h.array(), h.start(), 0);
      Rectangle2D last = layout.hbmCell(h.array(), h.end() - 1, 0);
      int x = (int) first.getX() - 2;
      int y = (int) ((first.getY() + last.getMaxY()) / 2);
      Color left = new Color(frame.getRGB(x, y));
      assertEquals(
          h.written(),
          hex(left).equals(hex(Palette.WRITE_OUTLINE)),
          what + ": write outline of " + h.array() + " is " + hex(left));
    }
  }

  private static String hex(Color c) {
    return String.format("#%06X", c.getRGB() & 0xFFFFFF);
  }

  @Test
  void tooManyStepsIsAClearErrorAndWritesNothing() {
    ScheduleTrace big = PaperSchedule.run(new ScheduleSetup(66, 1, 4, 1, 1f)); // 66 × 66 steps
    Path gif = dir.resolve("big.gif");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ScheduleAnimation.write(big, gif));
    assertTrue(e.getMessage().contains("larger SRAM"), e.getMessage());
    assertTrue(Files.notExists(gif));
  }

  @Test
  void stepTimeIsOneSecondForShortRunsAndShrinksForLongOnes() {
    assertEquals(1000, ScheduleAnimation.stepMs(9));
    assertEquals(1000, ScheduleAnimation.stepMs(30));
    assertEquals(470, ScheduleAnimation.stepMs(64));
    assertEquals(200, ScheduleAnimation.stepMs(1024));
  }
}
