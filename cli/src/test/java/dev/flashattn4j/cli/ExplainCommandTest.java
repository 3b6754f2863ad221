package dev.flashattn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.values.Causal;
import dev.flashattn4j.values.Window;
import dev.flashattn4j.viz.schedule.FastSchedule;
import dev.flashattn4j.viz.schedule.PaperSchedule;
import dev.flashattn4j.viz.schedule.ScheduleSetup;
import dev.flashattn4j.viz.schedule.ScheduleTrace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExplainCommandTest {

  @TempDir Path dir;

  @Test
  void writesOneSelfContainedPageWithTheRun() throws IOException {
    Path html = dir.resolve("a1.html");
    Cli r = Cli.run("explain", "--out", html.toString());
    assertEquals(0, r.exit(), r.toString());
    assertTrue(r.out().contains("9 steps"), r.out());
    String page = Files.readString(html);
    assertTrue(page.startsWith("<!DOCTYPE html>"));
    assertFalse(page.contains("http://") || page.contains("https://"), "nothing from the network");
    assertFalse(page.contains("<link") || page.contains(" src="), "no external files");
    // the embedded run is demo's: its max difference and the last step's HBM counts
    ScheduleTrace trace = PaperSchedule.run(ScheduleSetup.SEED);
    Matcher m = Pattern.compile("\"maxDifference\":([^,]+),").matcher(page);
    assertTrue(m.find());
    assertEquals(trace.maxDifference(), Double.parseDouble(m.group(1)), 0.0);
    assertTrue(page.contains("\"totalReads\":" + trace.totalReads()), "reads");
    assertTrue(page.contains("\"totalWrites\":" + trace.totalWrites()), "writes");
  }

  /** --causal and --window reach the run: the page holds its tiles, the output counts them. */
  @Test
  void theCausalMaskAndTheWindowReachThePictures() throws IOException {
    Path html = dir.resolve("causal.html");
    Cli r =
        Cli.run(
            "explain",
            "--kernel",
            "fast",
            "--n",
            "9",
            "--causal",
            "top-left",
            "--out",
            html.toString());
    assertEquals(0, r.exit(), r.toString());
    ScheduleTrace trace =
        FastSchedule.run(
            new ScheduleSetup(9, 3, 24, 2022, 1f).masked(Causal.TOP_LEFT, Window.NONE));
    assertTrue(
        r.out()
            .contains(
                "causal top-left: tiles 11 whole, 4 diagonal, 10 seen by no row;"
                    + " skipping them saved "
                    + trace.savedReads()
                    + " HBM reads"),
        r.out());
    String page = Files.readString(html);
    assertTrue(page.contains("\"mask\":\"causal top-left\""), "the mask");
    assertTrue(page.contains("\"savedReads\":" + trace.savedReads()), "the reads saved");
    assertTrue(page.contains("\"tile\":\"masked\",\"skipped\":true"), "skipped tiles");

    Path gif = dir.resolve("window.gif");
    Cli a = Cli.run("animate", "schedule", "--window", "2,0", "--n", "8", "--out", gif.toString());
    assertEquals(0, a.exit(), a.toString());
    assertTrue(
        a.out().contains("window (2, 0): tiles")
            && a.out().contains("Algorithm 1 computes them anyway"),
        a.out());
  }

  @Test
  void aBadCausalOrWindowIsRefusedBeforeAnyWork() {
    Path gif = dir.resolve("x.gif");
    Cli r = Cli.run("animate", "schedule", "--causal", "diagonal", "--out", gif.toString());
    assertEquals(2, r.exit(), r.toString());
    assertTrue(r.err().contains("--causal must be top-left or bottom-right"), r.err());
    Cli w = Cli.run("explain", "--window", "2", "--out", dir.resolve("x.html").toString());
    assertEquals(2, w.exit(), w.toString());
    assertTrue(w.err().contains("--window must be LEFT,RIGHT"), w.err());
    assertFalse(Files.exists(gif));
  }

  @Test
  void theFastOrderHasItsOwnDefaultFile() throws IOException {
    Path cwdFile = Path.of("algorithm1-fast.html");
    Path html = dir.resolve("fast.html");
    Cli r = Cli.run("explain", "--kernel", "fast", "--n", "9", "--out", html.toString());
    assertEquals(0, r.exit(), r.toString());
    assertTrue(Files.readString(html).contains("FlashAttention-2"));
    assertFalse(Files.exists(cwdFile));
  }
}
