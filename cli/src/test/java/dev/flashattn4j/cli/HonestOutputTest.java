package dev.flashattn4j.cli;

import static dev.flashattn4j.cli.OutputsTest.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.cli.bench.BenchCase;
import dev.flashattn4j.cli.bench.BenchReport;
import dev.flashattn4j.cli.bench.BenchRow;
import dev.flashattn4j.cli.bench.BenchRunner;
import dev.flashattn4j.cli.bench.Machine;
import dev.flashattn4j.values.Causal;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 23: numbers and files that say what they are. A run whose machine changed speed says it was
 * disturbed instead of reporting clean figures; a picture is written only under the name of its
 * format; progress frames never reach a log.
 */
class HonestOutputTest {

  private static BenchRow row(double spread) {
    BenchCase c = new BenchCase("fast", 1, 1, 8, 256, 64, Causal.NONE);
    return new BenchRow(c, 1, 0.9, 1.2, 100, 200, 0, spread);
  }

  private static String print(BenchReport r) {
    StringWriter w = new StringWriter();
    r.print(new PrintWriter(w));
    return w.toString();
  }

  @Test
  void theRoundsOfACaseSayWhetherTheMachineHeldItsSpeed() {
    assertEquals(0, BenchRunner.roundSpread(new double[] {2, 2, 2, 2, 2, 2}), 1e-12);
    // the last third ran at half speed: its median is twice the others
    assertEquals(1.0, BenchRunner.roundSpread(new double[] {1, 1, 1, 1, 2, 2}), 1e-12);
    assertEquals(0, BenchRunner.roundSpread(new double[] {5, 9}), 1e-12);
    assertFalse(row(0.05).disturbed());
    assertTrue(row(0.2).disturbed());
  }

  @Test
  void aRunWhoseFmaRateMovedOrWhoseRoundsDisagreedIsNotReportedClean() {
    Machine m = Machine.detect();
    BenchReport clean =
        new BenchReport(
            m, Map.of(1, 500.0), Map.of(1, 480.0), Map.of(1, 470.0), List.of(row(0.02)), List.of());
    assertNull(clean.disturbance());
    assertTrue(print(clean).contains("clean run"), print(clean));
    // issue 23's run: 529.6 GFLOP/s at the start, 283.6 at the end
    BenchReport slowed =
        new BenchReport(
            m, Map.of(1, 529.6), Map.of(1, 283.6), Map.of(1, 280.0), List.of(row(0.02)), List.of());
    assertTrue(print(slowed).contains("DISTURBED RUN"), print(slowed));
    assertTrue(slowed.disturbance().contains("529.6 to 283.6"), slowed.disturbance());
    BenchReport noisy =
        new BenchReport(
            m, Map.of(1, 500.0), Map.of(1, 500.0), Map.of(1, 500.0), List.of(row(0.3)), List.of());
    assertTrue(noisy.disturbance().contains("1 case(s)"), noisy.disturbance());
    assertTrue(print(noisy).contains("*"), print(noisy));
  }

  @Test
  void aPictureIsWrittenOnlyUnderTheNameOfItsFormat(@TempDir Path dir) {
    String txt = dir.resolve("io.txt").toString();
    assertRefused(
        Cli.run("io", "--n", "64", "--d", "16", "--sram", "1024", "--plot", txt),
        "name the file .png");
    assertRefused(
        Cli.run("bench", "--n", "16", "--d", "8", "--iters", "1", "--plot", txt),
        "name the file .png");
    assertRefused(Cli.run("train-demo", "--plot", txt), "name the file .png");
    assertRefused(Cli.run("animate", "matvec", "--out", txt), "name the file .gif");
    assertRefused(Cli.run("explain", "--out", txt), "name the file .html");
    assertFalse(Files.exists(dir.resolve("io.txt")));
    Cli ok =
        Cli.run(
            "io",
            "--n",
            "64",
            "--d",
            "16",
            "--sram",
            "1024",
            "--plot",
            dir.resolve("IO.PNG").toString());
    assertEquals(0, ok.exit(), ok.toString());
  }

  @Test
  void progressNeverReachesStandardErrorThatIsNotATerminal() {
    Cli r =
        Cli.run(
            "bench",
            "--n",
            "16",
            "--d",
            "8",
            "--heads",
            "1",
            "--threads",
            "1",
            "--kernel",
            "fast",
            "--warmup",
            "0",
            "--iters",
            "3");
    assertEquals(0, r.exit(), r.toString());
    assertFalse(r.err().contains("\r"), r.err());
    assertFalse(r.err().contains("bench "), r.err());
  }
}
