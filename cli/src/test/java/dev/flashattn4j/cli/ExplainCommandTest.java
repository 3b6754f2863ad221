package dev.flashattn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
