package dev.flashattn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.viz.gif.GifInfo;
import dev.flashattn4j.viz.render.Palette;
import dev.flashattn4j.viz.schedule.Highlight;
import dev.flashattn4j.viz.schedule.PaperSchedule;
import dev.flashattn4j.viz.schedule.ScheduleLayout;
import dev.flashattn4j.viz.schedule.ScheduleSetup;
import dev.flashattn4j.viz.schedule.ScheduleStep;
import dev.flashattn4j.viz.schedule.ScheduleTrace;
import java.awt.geom.Rectangle2D;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class AnimateCommandTest {

  @TempDir Path dir;

  @Test
  void matvecWritesTheSeedAnimation() throws IOException {
    Path gif = dir.resolve("mv.gif");
    Cli r = Cli.run("animate", "matvec", "--out", gif.toString());
    assertEquals(0, r.exit(), r.toString());
    assertTrue(r.out().contains("A·v = [4, 7]"), r.out());
    GifInfo info = GifInfo.read(gif);
    assertEquals(3, info.frames().size(), "two columns and the sum");
    assertEquals(Collections.nCopies(3, 1000), info.delaysMs());
    assertEquals(0, info.loopCount());
  }

  @Test
  void matvecTakesAnyMatrixAndVector() throws IOException {
    Path gif = dir.resolve("mv.gif");
    Cli r =
        Cli.run("animate", "matvec", "--a", "1,-2,0.5,3", "--v", "-1,2", "--out", gif.toString());
    assertEquals(0, r.exit(), r.toString());
    // -1·[1, 0.5] + 2·[-2, 3] = [-5, 5.5]
    assertTrue(r.out().contains("A·v = [-5, 5.5]"), r.out());
    assertEquals(3, GifInfo.read(gif).frames().size());
  }

  @Test
  void scheduleHasOneFramePerStepAndAgreesWithDemo() throws IOException {
    Path gif = dir.resolve("s.gif");
    Cli r = Cli.run("animate", "schedule", "--out", gif.toString());
    assertEquals(0, r.exit(), r.toString());
    GifInfo info = GifInfo.read(gif);
    // the seed's N = 6, d = 3, M = 24: T_r = T_c = 3, 9 steps, plus opening and closing
    assertEquals(11, info.frames().size());
    List<Integer> delays = new ArrayList<>(List.of(4000));
    delays.addAll(Collections.nCopies(9, 1000));
    delays.add(5000);
    assertEquals(delays, info.delaysMs());
    assertEquals(0, info.loopCount());
    assertEquals(
        maxDifference(Cli.run("demo").out(), "max \\|FlashAttention − vanilla\\| = (\\S+)"),
        maxDifference(r.out(), "max \\|O − vanilla O\\| = (\\S+)"));

    // frame 5 is step (j = 2, i = 2): Q rows 2–3 and K rows 2–3 tinted, where the run says
    ScheduleTrace trace = PaperSchedule.run(ScheduleSetup.SEED);
    ScheduleStep step = trace.steps().get(4);
    assertEquals(List.of(1, 1), List.of(step.j(), step.i()));
    ScheduleLayout layout = new ScheduleLayout(trace);
    for (Highlight h : step.highlights()) {
      for (int row = 0; row < 6; row++) {
        Rectangle2D cell = layout.hbmCell(h.array(), row, 0);
        int rgb = info.frames().get(5).getRGB((int) cell.getX() + 3, (int) cell.getY() + 3);
        int tint =
            (h.block() == Highlight.Block.QUERY ? Palette.QUERY_TINT : Palette.KEY_TINT).getRGB();
        boolean inBlock = row >= h.start() && row < h.end();
        assertEquals(inBlock, rgb == tint, h.array() + " row " + row);
      }
    }
  }

  @Test
  void theFastOrderIsAnimatedToo() throws IOException {
    Path gif = dir.resolve("f.gif");
    Cli r =
        Cli.run(
            "animate",
            "schedule",
            "--kernel",
            "fast",
            "--n",
            "7",
            "--d",
            "2",
            "--sram",
            "20",
            "--out",
            gif.toString());
    assertEquals(0, r.exit(), r.toString());
    // B_c = 3, B_r = 2: T_r = 4, T_c = 3
    assertEquals(12 + 2, GifInfo.read(gif).frames().size());
  }

  static Stream<Arguments> badFlags() {
    return Stream.of(
        Arguments.of(List.of("animate", "schedule", "--n", "0"), "--n"),
        Arguments.of(List.of("animate", "schedule", "--n", "-3"), "--n"),
        Arguments.of(List.of("animate", "schedule", "--d", "8", "--sram", "31"), "--sram"),
        Arguments.of(List.of("animate", "schedule", "--kernel", "naive"), "--kernel"),
        Arguments.of(List.of("animate", "schedule", "--scale", "0"), "--scale"),
        Arguments.of(
            List.of("animate", "schedule", "--n", "200", "--d", "1", "--sram", "4"), "--sram"),
        Arguments.of(List.of("animate", "schedule", "--n", "abc"), "--n"),
        Arguments.of(List.of("animate", "matvec", "--a", "2,1,1"), "2×2"),
        Arguments.of(List.of("animate", "matvec", "--a", "2,1,one,3"), "--a"),
        Arguments.of(List.of("animate", "matvec", "--v", "1,2,3"), "2×3"),
        Arguments.of(List.of("animate", "matvec", "--v", "1;2"), "--v"),
        Arguments.of(List.of("explain", "--n", "0"), "--n"),
        Arguments.of(List.of("explain", "--d", "16", "--sram", "10"), "--sram"));
  }

  @ParameterizedTest
  @MethodSource("badFlags")
  void badFlagsExit2WithOneLineAndWriteNothing(List<String> args, String names) throws IOException {
    List<String> all = new ArrayList<>(args);
    all.addAll(List.of("--out", dir.resolve("out.file").toString()));
    Cli r = Cli.run(all);
    assertEquals(2, r.exit(), r.toString());
    String firstLine = r.err().lines().findFirst().orElse("");
    assertTrue(firstLine.contains(names), r.toString());
    if (r.err().startsWith("error:")) {
      assertEquals(1, r.err().lines().count(), "one line: " + r.err());
    }
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(List.of(), files.toList(), "no file, not even a partial one");
    }
  }

  @Test
  void aMissingDirectoryIsBadInputFoundBeforeDrawing() {
    Path out = dir.resolve("no/such/dir/a.gif");
    Cli r = Cli.run("animate", "schedule", "--out", out.toString());
    assertEquals(2, r.exit(), r.toString());
    assertTrue(r.err().startsWith("error: --out"), r.err());
    assertTrue(Files.notExists(out));
  }

  @Test
  void animateAloneSaysWhatItNeeds() {
    Cli r = Cli.run("animate");
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("matvec or schedule"), r.err());
  }

  private static String maxDifference(String out, String regex) {
    Matcher m = Pattern.compile(regex).matcher(out);
    assertTrue(m.find(), regex + " in\n" + out);
    return m.group(1).replace('−', '-');
  }
}
