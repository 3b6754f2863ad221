package dev.flashattn4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.reference.ErrorBudget.Errors;
import dev.flashattn4j.reference.NaiveAttention;
import dev.flashattn4j.tensor.Npy;
import dev.flashattn4j.tensor.NpyArray;
import dev.flashattn4j.tensor.NpyDtype;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.GoldenCase;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code attend} and {@code verify --expect} against every case saved from PyTorch's SDPA. */
class GoldenCliTest {

  @TempDir Path tmp;

  static List<GoldenCase> cases() {
    return GoldenCase.all();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void attendWritesWhatTorchComputed(GoldenCase c) throws IOException {
    Path out = tmp.resolve("o.npy");
    Path lse = tmp.resolve("lse.npy");
    List<String> args = new ArrayList<>(List.of("attend"));
    args.addAll(c.cliArgs());
    args.addAll(List.of("--out", out.toString(), "--lse", lse.toString()));
    Cli r = Cli.run(args);
    assertEquals(0, r.exit(), r.toString());

    NpyArray o = Npy.read(out);
    NpyArray expected = Npy.read(c.expectedOutput());
    assertEquals(NpyDtype.FLOAT32, o.dtype());
    assertArrayEquals(expected.shape(), o.shape(), "O has Q's rank");
    NpyArray l = Npy.read(lse);
    assertArrayEquals(Npy.read(c.expectedLse()).shape(), l.shape(), "LSE is Q's shape without d");

    Tensor q = c.readQ();
    Tensor k = c.readK();
    Tensor v = c.readV();
    var check =
        ErrorBudget.check(q, k, v, c.options(), NaiveAttention.compute(q, k, v, c.options()));
    double tol = ErrorBudget.referenceTolerance(check.outputTolerance());
    Errors e = Errors.of(o.toFloatArray(), expected.toFloatArray());
    assertTrue(e.maxAbs() <= tol, c + ": |O - O_torch| = " + e.maxAbs() + " > " + tol);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void verifyPassesAgainstTorchWithEveryKernelThatExists(GoldenCase c) {
    for (String kernel : List.of("fast", "paper", "naive")) {
      List<String> args = new ArrayList<>(List.of("verify", "--kernel", kernel));
      args.addAll(c.cliArgs());
      args.addAll(
          List.of(
              "--expect",
              c.expectedOutput().toString(),
              "--expect-lse",
              c.expectedLse().toString()));
      Cli r = Cli.run(args);
      assertEquals(0, r.exit(), r.toString());
      assertTrue(r.out().contains("PASS"), r.toString());
      assertTrue(r.out().contains("vs " + c.expectedOutput()), r.toString());
      assertTrue(r.err().isEmpty(), r.toString());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void verifyFailsAgainstAnotherCasesOutput(GoldenCase c) throws IOException {
    // torch's output with one element moved by far more than the budget: exit 1, not 0
    NpyArray expected = Npy.read(c.expectedOutput());
    float[] wrong = expected.toFloatArray();
    wrong[wrong.length / 2] += 1e-3f;
    Path ref = tmp.resolve("wrong.npy");
    Npy.write(ref, wrong, expected.shape());
    List<String> args = new ArrayList<>(List.of("verify"));
    args.addAll(c.cliArgs());
    args.addAll(List.of("--expect", ref.toString()));
    Cli r = Cli.run(args);
    assertEquals(Main.EXIT_CHECK_FAILED, r.exit(), r.toString());
    assertTrue(r.out().contains("OVER") && r.out().contains("FAIL"), r.toString());
  }
}
