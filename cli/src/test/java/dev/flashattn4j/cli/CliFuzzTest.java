package dev.flashattn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.tensor.Npy;
import dev.flashattn4j.testing.TestTensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A seeded fuzzer over CLI arguments (issue 19): {@code attend}, {@code grad} and {@code verify} on
 * small valid inputs with random options drawn from hostile values (NaN, ±∞, 0, negatives, huge,
 * not numbers, empty). Every run exits 0, or 2 with one line on standard error, never a trace.
 */
class CliFuzzTest {

  @TempDir static Path dir;

  static Path q;
  static Path k;
  static Path v;
  static Path dout;

  @BeforeAll
  static void inputs() throws IOException {
    q = dir.resolve("q.npy");
    k = dir.resolve("k.npy");
    v = dir.resolve("v.npy");
    dout = dir.resolve("dout.npy");
    Npy.write(q, TestTensors.normal(1, 1, 2, 5, 8));
    Npy.write(k, TestTensors.normal(2, 1, 2, 7, 8));
    Npy.write(v, TestTensors.normal(3, 1, 2, 7, 4));
    Npy.write(dout, TestTensors.normal(4, 1, 2, 5, 4));
  }

  private static final String[] VALUES = {
    "NaN",
    "Infinity",
    "-Infinity",
    "0",
    "-1",
    "1",
    "2",
    "0.5",
    "1e40",
    "-1e40",
    "2147483647",
    "-2147483648",
    "99999999999",
    "abc",
    "",
    " ",
    "1,2",
    "-0",
    "3",
    "top-left",
    "bottom-right",
    "none",
    "fast",
    "paper",
    "naive",
    "0x10",
    "1e-45"
  };

  private static final String[] OPTIONS = {
    "--scale",
    "--window",
    "--softcap",
    "--dropout",
    "--alibi",
    "--sinks",
    "--kernel",
    "--sram",
    "--threads",
    "--causal",
    "--seed"
  };

  static IntStream seeds() {
    return IntStream.rangeClosed(1, 300);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void hostileOptionsGiveAResultOrOneLine(int seed) {
    SplittableRandom r = new SplittableRandom(seed);
    String command = new String[] {"attend", "grad", "verify"}[r.nextInt(3)];
    List<String> args =
        new ArrayList<>(
            List.of(command, "--q", q.toString(), "--k", k.toString(), "--v", v.toString()));
    switch (command) {
      case "attend" -> args.addAll(List.of("--out", dir.resolve("o" + seed + ".npy").toString()));
      case "grad" ->
          args.addAll(
              List.of(
                  "--dout",
                  dout.toString(),
                  "--out-dq",
                  dir.resolve("dq" + seed + ".npy").toString()));
      default -> {}
    }
    int n = 1 + r.nextInt(3);
    for (int i = 0; i < n; i++) {
      args.add(OPTIONS[r.nextInt(OPTIONS.length)]);
      args.add(VALUES[r.nextInt(VALUES.length)]);
    }
    Cli c = Cli.run(args);
    String what = String.join(" ", args) + "\n" + c;
    assertTrue(c.exit() == 0 || c.exit() == 2, what);
    assertFalse(c.err().contains("\tat ") || c.err().contains("Exception"), what);
    if (c.exit() == 2) {
      assertEquals(1, c.err().strip().lines().count(), what);
    }
  }
}
