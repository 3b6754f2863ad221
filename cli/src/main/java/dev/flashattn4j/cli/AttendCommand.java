package dev.flashattn4j.cli;

import dev.flashattn4j.api.AttentionResult;
import dev.flashattn4j.tensor.Npy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
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
    checkWritable("--out", out);
    if (lse != null) {
      checkWritable("--lse", lse);
    }
    AttentionInputs.Loaded in = inputs.load();
    AttentionResult r =
        in.kernel().run(in.q(), in.k(), in.v(), in.options(), in.sram(), in.threads());
    try {
      Npy.write(out, r.output());
      if (lse != null) {
        Npy.write(lse, r.lse(), r.lseShape());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    spec.commandLine()
        .getOut()
        .printf(
            "wrote %s %s%s%n",
            out,
            Arrays.toString(r.output().shape()),
            lse == null ? "" : " and " + lse + " " + Arrays.toString(r.lseShape()));
    return 0;
  }

  /** An output path whose folder exists and is writable, and that is not a folder itself. */
  static void checkWritable(String flag, Path file) {
    Path dir = file.toAbsolutePath().getParent();
    if (Files.isDirectory(file)) {
      throw new BadInputException(flag + " " + file + " is a folder");
    }
    if (dir == null || !Files.isDirectory(dir) || !Files.isWritable(dir)) {
      throw new BadInputException(
          flag + " " + file + ": the folder does not exist or is not writable");
    }
  }
}
