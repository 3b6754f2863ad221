package dev.flashattn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.cli.bench.BenchReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code flashattn bench} run as a user runs it, on sizes small enough for a test. */
class BenchCommandTest {

  @Test
  void printsTheMachineTheTableAndTheCsv(@TempDir Path dir) throws Exception {
    Path csv = dir.resolve("bench.csv");
    Cli r =
        Cli.run(
            "bench",
            "--n",
            "16,48",
            "--d",
            "8",
            "--heads",
            "2",
            "--threads",
            "1,2",
            "--kernel",
            "fast,naive",
            "--causal",
            "both",
            "--warmup",
            "0",
            "--iters",
            "3",
            "--slow-limit",
            "0.0001",
            "--no-progress",
            "--csv",
            csv.toString());
    assertEquals(0, r.exit(), r.toString());
    String out = r.out();
    assertTrue(out.contains("machine: "), out);
    assertTrue(out.contains("JDK "), out);
    assertTrue(out.contains("FMA peak"), out);
    assertTrue(out.contains("FMA rate the machine gave"), out);
    assertTrue(out.contains("median ms") && out.contains("GFLOP/s") && out.contains("% peak"), out);
    // naive at N = 48 is 4·2·48²·8 = 147 KFLOP, over the 100 KFLOP limit: skipped with a note;
    // causal it is half that, and runs
    assertTrue(out.contains("skipped: naive N=48 d=8 none"), out);
    assertFalse(out.contains("skipped: naive N=48 d=8 top-left"), out);
    List<String> lines = Files.readAllLines(csv);
    assertEquals(BenchReport.CSV_HEADER, lines.get(0));
    // fast: 2 N × 2 causal × 2 threads; naive: 1 thread, N = 16 both, N = 48 causal only
    assertEquals(1 + 8 + 3, lines.size(), String.join("\n", lines));
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(",");
      assertEquals(16, f.length, line);
      double ms = Double.parseDouble(f[7]);
      double gflops = Double.parseDouble(f[10]);
      assertTrue(ms > 0 && gflops > 0, line);
      double flops = 4.0 * 2 * Integer.parseInt(f[4]) * Integer.parseInt(f[4]) * 8;
      if (!f[6].equals("none")) {
        flops /= 2;
      }
      // ms is written with 4 decimals: allow for that rounding
      assertEquals(flops / (ms / 1e3) / 1e9, gflops, gflops * (1e-3 + 6e-5 / ms) + 1e-3, line);
      if (f[0].equals("fast")) {
        assertTrue(Long.parseLong(f[13]) > 0, "the workspace is reported: " + line);
      }
    }
  }

  @Test
  void backwardTimesTheThreeBackwardKernelsWithTwoAndAHalfTimesTheFlops(@TempDir Path dir)
      throws Exception {
    Path csv = dir.resolve("bwd.csv");
    Cli r =
        Cli.run(
            "bench",
            "--backward",
            "--n",
            "16,32",
            "--d",
            "8",
            "--heads",
            "2",
            "--threads",
            "1",
            "--causal",
            "none",
            "--warmup",
            "0",
            "--iters",
            "2",
            "--no-progress",
            "--csv",
            csv.toString());
    assertEquals(0, r.exit(), r.toString());
    List<String> lines = Files.readAllLines(csv);
    assertEquals(1 + 6, lines.size(), String.join("\n", lines));
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(",");
      assertTrue(f[0].endsWith("-bwd"), line);
      double ms = Double.parseDouble(f[7]);
      double gflops = Double.parseDouble(f[10]);
      double flops = 2.5 * 4.0 * 2 * Integer.parseInt(f[4]) * Integer.parseInt(f[4]) * 8;
      assertEquals(flops / (ms / 1e3) / 1e9, gflops, gflops * (1e-3 + 6e-5 / ms) + 1e-3, line);
    }
  }

  @Test
  void badFlagsExitTwoWithOneLine() {
    for (String[] args :
        new String[][] {
          {"bench", "--n", "0"},
          {"bench", "--kernel", "slow"},
          {"bench", "--causal", "sideways"},
          {"bench", "--threads", "0"},
          {"bench", "--threads", "5000"},
          {"bench", "--decode", "--threads", "5000"},
          {"bench-decode", "--threads", "5000"},
          {"decode-demo", "--threads", "5000"},
          {"bench", "--iters", "0"}
        }) {
      Cli r = Cli.run(args);
      assertEquals(2, r.exit(), r.toString());
      assertTrue(r.err().startsWith("error: "), r.toString());
      assertFalse(r.out().contains("GFLOP/s"), r.toString());
    }
  }
}
