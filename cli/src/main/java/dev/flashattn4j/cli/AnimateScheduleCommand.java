package dev.flashattn4j.cli;

import dev.flashattn4j.viz.render.NumberText;
import dev.flashattn4j.viz.schedule.ScheduleAnimation;
import dev.flashattn4j.viz.schedule.ScheduleSetup;
import dev.flashattn4j.viz.schedule.ScheduleTrace;
import dev.flashattn4j.viz.schedule.TileKind;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code flashattn animate schedule}: Algorithm 1's tiling as a GIF, one frame per (j, i) step of a
 * real run, plus an opening and a closing frame.
 */
@Command(
    name = "schedule",
    mixinStandardHelpOptions = true,
    description = {
      "Animate Algorithm 1 step by step, driven by a real run: Q, K, V, O, ℓ, m in HBM with the"
          + " blocks in SRAM highlighted, the SRAM contents, the HBM traffic so far, the paper's"
          + " lines; the last frame compares O with vanilla attention."
    })
public final class AnimateScheduleCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin ScheduleOptions options;

  @Option(
      names = "--out",
      paramLabel = "FILE.gif",
      description = "Output file (default: algorithm1-<kernel>.gif).")
  Path out;

  @Override
  public Integer call() {
    ScheduleSetup setup = options.setup(ScheduleAnimation.MAX_STEPS);
    Path file = out != null ? out : Path.of("algorithm1-" + options.kernel + ".gif");
    Outputs.check(file, "--out", "gif");
    ScheduleTrace trace = options.run(setup);
    Outputs.write(file, () -> ScheduleAnimation.write(trace, file));
    int steps = trace.steps().size();
    PrintWriter pw = spec.commandLine().getOut();
    pw.printf(
        "wrote %s: %d frames (opening, %d steps of %d ms, closing), looping%n",
        file, steps + 2, steps, ScheduleAnimation.stepMs(steps));
    pw.printf(
        "HBM reads %s, writes %s; max |O − vanilla O| = %s%n",
        NumberText.count(trace.totalReads()),
        NumberText.count(trace.totalWrites()),
        NumberText.scientific(trace.maxDifference()).replace('−', '-'));
    if (!trace.mask().isEmpty()) {
      int[] tiles = trace.tileCounts();
      pw.printf(
          "%s: tiles %d whole, %d diagonal, %d seen by no row; %s%n",
          trace.mask(),
          tiles[TileKind.FULL.ordinal()],
          tiles[TileKind.DIAGONAL.ordinal()],
          tiles[TileKind.MASKED.ordinal()],
          trace.savedReads() > 0
              ? "skipping them saved " + NumberText.count(trace.savedReads()) + " HBM reads"
              : "Algorithm 1 computes them anyway: "
                  + NumberText.count(trace.maskedReads())
                  + " reads, "
                  + NumberText.count(trace.maskedWrites())
                  + " writes");
    }
    pw.flush();
    return 0;
  }
}
