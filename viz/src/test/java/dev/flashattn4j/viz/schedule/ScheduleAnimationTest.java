package dev.flashattn4j.viz.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.values.Causal;
import dev.flashattn4j.values.Window;
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
        Arguments.of("paper-64", PaperSchedule.run(new ScheduleSetup(64, 8, 256, 1, 1f))),
        Arguments.of(
            "paper-causal",
            PaperSchedule.run(ScheduleSetup.SEED.masked(Causal.TOP_LEFT, Window.NONE))),
        Arguments.of(
            "fast-causal",
            FastSchedule.run(
                new ScheduleSetup(9, 3, 24, 2022, 1f).masked(Causal.TOP_LEFT, Window.NONE))),
        Arguments.of(
            "fast-window",
            FastSchedule.run(
                new ScheduleSetup(20, 2, 24, 7, 1f)
                    .masked(Causal.BOTTOM_RIGHT, new Window(5, 0)))));
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
    if (name.endsWith("seed") || name.endsWith("causal")) {
      FramesOnDisk.save(name, info.frames());
    }
    ScheduleLayout layout = new ScheduleLayout(trace);
    assertEquals(layout.height(), info.frames().getFirst().getHeight());
    // the opening and closing frames highlight nothing
    assertHighlights(info.frames().getFirst(), layout, trace, List.of(), name + " opening");
    assertHighlights(info.frames().getLast(), layout, trace, List.of(), name + " closing");
    assertTileMap(info.frames().getFirst(), layout, trace, 0, -1, name + " opening");
    assertTileMap(info.frames().getLast(), layout, trace, steps, -1, name + " closing");
    for (int k = 0; k < steps; k++) {
      assertHighlights(
          info.frames().get(k + 1),
          layout,
          trace,
          trace.steps().get(k).highlights(),
          name + " step " + (k + 1));
      assertTileMap(info.frames().get(k + 1), layout, trace, k + 1, k, name + " step " + (k + 1));
    }
  }

  /**
   * The map of S's tiles: in every tile, a key a row sees has its tile kind's colour (whole or
   * diagonal), a hidden key grey, pale until the schedule reaches the tile; the current tile is
   * outlined; a tile the schedule skipped is crossed out.
   */
  private static void assertTileMap(
      BufferedImage frame,
      ScheduleLayout layout,
      ScheduleTrace trace,
      int done,
      int current,
      String what) {
    for (int k = 0; k < trace.steps().size(); k++) {
      ScheduleStep s = trace.steps().get(k);
      Rectangle2D tile = layout.mapTile(s.i(), s.j());
      // a point off the cross's diagonals and off the tile's borders
      double px = tile.getCenterX();
      double py = tile.getY() + tile.getHeight() * 0.22 + 1;
      Rectangle2D first = layout.mapElement(0, 0);
      int r = (int) ((py - first.getY()) / first.getHeight());
      int c = (int) ((px - first.getX()) / first.getWidth());
      Rectangle2D element = layout.mapElement(r, c);
      if (element.getHeight() < 4 || element.getWidth() < 4) {
        continue; // elements of a pixel or two: their edges blend
      }
      // the element's own centre, unless a cross line runs there
      px = element.getCenterX();
      py = element.getCenterY();
      Color fill =
          trace.sees(r, c)
              ? (s.tile() == TileKind.FULL ? TileMapPanel.FULL : TileMapPanel.DIAGONAL)
              : TileMapPanel.HIDDEN;
      Color expected = k < done ? fill : TileMapPanel.pale(fill);
      String where = what + ": tile " + (s.i() + 1) + "," + (s.j() + 1) + " element " + r + "," + c;
      if (!s.skipped() || !onCross(tile, px, py)) {
        assertEquals(hex(expected), hex(new Color(frame.getRGB((int) px, (int) py))), where);
      }
      // the outline just outside the tile's left edge, half-way down
      Color left =
          new Color(frame.getRGB((int) Math.floor(tile.getX()) - 2, (int) tile.getCenterY()));
      boolean outlined = distance(left, Palette.INK) < 60;
      assertEquals(k == current, outlined, where + ": outline " + hex(left));
    }
    assertEquals(
        trace.steps().stream().filter(ScheduleStep::skipped).count(),
        trace.kernel().equals("fast") ? trace.tileCounts()[TileKind.MASKED.ordinal()] : 0,
        what + ": the fast order skips every tile no row sees, Algorithm 1 none");
  }

  /** True when (x, y) is within 3 px of a diagonal of the tile (the cross on a skipped tile). */
  private static boolean onCross(Rectangle2D t, double x, double y) {
    double u = (x - t.getX()) / t.getWidth();
    double v = (y - t.getY()) / t.getHeight();
    double scale = Math.min(t.getWidth(), t.getHeight());
    return Math.abs(u - v) * scale < 3 || Math.abs(u + v - 1) * scale < 3;
  }

  private static int distance(Color a, Color b) {
    return Math.abs(a.getRed() - b.getRed())
        + Math.abs(a.getGreen() - b.getGreen())
        + Math.abs(a.getBlue() - b.getBlue());
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
