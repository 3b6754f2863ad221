package dev.flashattn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The decode benchmark verifies, measures every case and writes its CSV. */
class BenchDecodeCommandTest {

  @Test
  void tinyRunWritesOneCsvRowPerCase(@TempDir Path dir) throws Exception {
    Path csv = dir.resolve("decode.csv");
    Cli r =
        Cli.run(
            "bench-decode",
            "--cache-len",
            "100,300",
            "--batch",
            "1,2",
            "--storage",
            "float32,float16",
            "--heads",
            "4",
            "--kv-heads",
            "2",
            "--d",
            "16",
            "--page-size",
            "32",
            "--min-time",
            "0",
            "--bandwidth-mib",
            "8",
            "--threads",
            "2",
            "--csv",
            csv.toString());
    assertEquals(0, r.exit(), r.out() + r.err());
    assertTrue(r.out().contains("checked against the oracle (float32"), r.out());
    assertTrue(r.out().contains("checked against the oracle (float16"), r.out());
    List<String> lines = Files.readAllLines(csv);
    assertEquals(9, lines.size(), String.join("\n", lines));
    List<String> header = List.of(lines.get(0).split(","));
    for (String col :
        List.of("cache_len", "batch", "median_ms", "kv_gb_per_s", "read_bandwidth_gb_per_s")) {
      assertTrue(header.contains(col), col + " missing from " + header);
    }
    String[] first = lines.get(1).split(",");
    assertEquals("float32", first[header.indexOf("storage")]);
    assertEquals("100", first[header.indexOf("cache_len")]);
    assertTrue(Double.parseDouble(first[header.indexOf("median_ms")]) > 0);
    // kv_gb_per_s = bytes of K and V (100 tokens · 2 heads · 2·16 floats · 4 bytes) / median
    double expected =
        100 * 2 * 32 * 4 / (Double.parseDouble(first[header.indexOf("median_ms")]) * 1e6);
    assertEquals(
        expected, Double.parseDouble(first[header.indexOf("kv_gb_per_s")]), expected * 1e-2);
  }

  @Test
  void timesAndCapsMustBeFiniteNumbers() {
    // issue 19: NaN, negative and infinite values were accepted
    String[][] bad = {
      {"--min-time", "NaN"},
      {"--min-time", "-5"},
      {"--min-time", "Infinity"},
      {"--max-gb", "NaN"},
      {"--max-gb", "0"},
      {"--max-gb", "-1"},
      {"--max-gb", "Infinity"}
    };
    for (String[] b : bad) {
      Cli r = Cli.run("bench-decode", "--cache-len", "64", "--batch", "1", b[0], b[1]);
      assertEquals(2, r.exit(), String.join(" ", b) + ": " + r);
      assertTrue(r.err().contains(b[0]), r.err());
      assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
    }
  }

  @Test
  void casesOverTheMemoryCapAreSkippedWithANote() {
    Cli r =
        Cli.run(
            "bench-decode",
            "--cache-len",
            "64",
            "--batch",
            "1",
            "--storage",
            "float32",
            "--heads",
            "2",
            "--kv-heads",
            "1",
            "--d",
            "8",
            "--min-time",
            "0",
            "--bandwidth-mib",
            "8",
            "--max-gb",
            "0.000001");
    assertEquals(0, r.exit(), r.out() + r.err());
    assertTrue(r.out().contains("skipped"), r.out());
  }

  @Test
  void badFlags() {
    assertEquals(2, Cli.run("bench-decode", "--storage", "int4").exit());
    assertEquals(2, Cli.run("bench-decode", "--heads", "6", "--kv-heads", "4").exit());
  }

  @Test
  void benchDecodePassesItsFlagsOn() {
    picocli.CommandLine cl = Main.commandLine();
    picocli.CommandLine.ParseResult parsed =
        cl.parseArgs(
            "bench",
            "--decode",
            "--n",
            "40,80",
            "--batch",
            "2",
            "--heads",
            "8",
            "--d",
            "16",
            "--threads",
            "1",
            "--csv",
            "x.csv");
    BenchCommand bench = (BenchCommand) parsed.subcommand().commandSpec().userObject();
    assertEquals(
        List.of(
            "--cache-len",
            "40,80",
            "--batch",
            "2",
            "--heads",
            "8",
            "--d",
            "16",
            "--threads",
            "1",
            "--csv",
            "x.csv"),
        bench.decodeArgs());
    BenchCommand plain =
        (BenchCommand)
            Main.commandLine()
                .parseArgs("bench", "--decode")
                .subcommand()
                .commandSpec()
                .userObject();
    assertEquals(List.of(), plain.decodeArgs()); // bench-decode's own defaults
    Cli twoThreadCounts = Cli.run("bench", "--decode", "--threads", "1,2");
    assertEquals(2, twoThreadCounts.exit());
    assertTrue(twoThreadCounts.err().contains("one --threads value"), twoThreadCounts.err());
  }
}
