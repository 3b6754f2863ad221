package dev.flashattn4j.cli;

import dev.flashattn4j.api.AttentionResult;
import dev.flashattn4j.tensor.Npy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
      if (out.toAbsolutePath().normalize().equals(lse.toAbsolutePath().normalize())) {
        throw new BadInputException("--out and --lse name the same file " + out);
      }
    }
    AttentionInputs.Loaded in = inputs.load();
    AttentionResult r =
        in.kernel().run(in.q(), in.k(), in.v(), in.options(), in.sram(), in.threads());
    // Both files are written next to their targets first and renamed only when both are whole:
    // a failure leaves neither (and never a half-written one).
    Path outTmp = temporary(out);
    Path lseTmp = lse == null ? null : temporary(lse);
    try {
      Npy.write(outTmp, r.output());
      if (lse != null) {
        Npy.write(lseTmp, r.lse(), r.lseShape());
        Files.move(lseTmp, lse, StandardCopyOption.REPLACE_EXISTING);
      }
      Files.move(outTmp, out, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException | UncheckedIOException e) {
      deleteQuietly(outTmp);
      deleteQuietly(lseTmp);
      String why = e.getMessage() == null ? e.toString() : e.getMessage();
      throw new BadInputException(
          "cannot write " + (lse == null ? out : out + " and " + lse) + ": " + why, e);
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

  /** A hidden file next to {@code file}, for writing it whole before the rename. */
  private static Path temporary(Path file) {
    Path abs = file.toAbsolutePath();
    String name = abs.getFileName().toString();
    return abs.resolveSibling(
        "."
            + name.substring(0, Math.min(name.length(), 200))
            + ".tmp"
            + ProcessHandle.current().pid());
  }

  private static void deleteQuietly(Path p) {
    if (p != null) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException e) {
        // best effort: the temporary file is hidden and named after the target
      }
    }
  }

  /**
   * An output path whose folder exists and is writable, and that is a regular file or nothing yet:
   * never a folder, a device, a FIFO or a symbolic link (writing there would replace or follow it).
   */
  static void checkWritable(String flag, Path file) {
    Path dir = file.toAbsolutePath().getParent();
    if (Files.isDirectory(file)) {
      throw new BadInputException(flag + " " + file + " is a folder");
    }
    if (Files.isSymbolicLink(file)) {
      throw new BadInputException(flag + " " + file + " is a symbolic link: name the file itself");
    }
    if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)
        && !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      throw new BadInputException(flag + " " + file + " exists and is not a regular file");
    }
    if (dir == null || !Files.isDirectory(dir) || !Files.isWritable(dir)) {
      throw new BadInputException(
          flag + " " + file + ": the folder does not exist or is not writable");
    }
  }
}
