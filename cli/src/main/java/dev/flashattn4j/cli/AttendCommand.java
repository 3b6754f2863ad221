package dev.flashattn4j.cli;

import dev.flashattn4j.tensor.Npy;
import dev.flashattn4j.values.AttentionResult;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code attend}: O (and the LSE) of Q, K, V read from .npy files, written as float32 .npy. */
@Command(
    name = "attend",
    mixinStandardHelpOptions = true,
    description = {
      "Computes attention of Q over K and V (.npy float32, float64 or float16, C order) and"
          + " writes O as float32 with Q's rank; each output file is written whole or not at all."
    })
final class AttendCommand implements Callable<Integer> {

  @Mixin AttentionInputs inputs;

  @Option(names = "--out", required = true, paramLabel = "O.npy", description = "the output O")
  Path out;

  @Option(
      names = "--lse",
      paramLabel = "LSE.npy",
      description = "also write each row's log-sum-exp (Q's shape without d)")
  Path lse;

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    Outputs outputs = inputs.notInputs(new Outputs().add("--out", out).add("--lse", lse));
    AttentionInputs.Loaded in = inputs.load();
    AttentionResult r =
        in.kernel().run(in.q(), in.k(), in.v(), in.options(), in.sram(), in.threads());
    // Both files are written next to their targets first and renamed only when both are whole:
    // a failure leaves neither (and never a half-written one).
    outputs.writeAll(
        Map.of(
            "--out",
            Outputs.tensor(r.output()),
            "--lse",
            file -> Npy.write(file, r.lse(), r.lseShape())));
    spec.commandLine()
        .getOut()
        .printf(
            "wrote %s %s%s%n",
            out,
            Arrays.toString(r.output().shape()),
            lse == null ? "" : " and " + lse + " " + Arrays.toString(r.lseShape()));
    return 0;
  }
}
