package dev.flashattn4j.cli;

import dev.flashattn4j.viz.matvec.MatVec;
import dev.flashattn4j.viz.matvec.MatVecAnimation;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code flashattn animate matvec}: the seed notebook's animation of A·v as a sum of the scaled
 * columns of A, one frame per second, looping.
 */
@Command(
    name = "matvec",
    mixinStandardHelpOptions = true,
    description = {
      "Animate A·v as a sum of the columns of A scaled by the entries of v: one frame per"
          + " column, then the columns tip to tail and their sum (1 frame/s, looping)."
    })
public final class AnimateMatvecCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--a",
      paramLabel = "A11,A12,A21,A22",
      description = "The 2×2 matrix A, row by row (default: ${DEFAULT-VALUE}).")
  String a = "2,1,1,3";

  @Option(
      names = "--v",
      paramLabel = "V1,V2",
      description = "The vector v (default: ${DEFAULT-VALUE}).")
  String v = "1,2";

  @Option(
      names = "--out",
      paramLabel = "FILE.gif",
      description = "Output file (default: ${DEFAULT-VALUE}).")
  Path out = Path.of("matrix-vector-multiplication.gif");

  @Override
  public Integer call() {
    MatVec mv = new MatVec(MatVec.parse(a, "--a"), MatVec.parse(v, "--v"));
    Outputs.check(out, "--out", "gif");
    Outputs.write(out, () -> new MatVecAnimation(mv).write(out));
    PrintWriter pw = spec.commandLine().getOut();
    pw.printf(
        "wrote %s: %d frames of %d ms, looping; A·v = %s%n",
        out, mv.columns() + 1, MatVecAnimation.FRAME_MS, MatVec.format(mv.product()));
    pw.flush();
    return 0;
  }
}
