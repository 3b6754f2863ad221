package dev.flashattn4j.cli;

import dev.flashattn4j.viz.page.ExplainPage;
import dev.flashattn4j.viz.render.NumberText;
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
 * {@code flashattn explain}: one self-contained HTML page that steps through a run of Algorithm 1
 * (next, previous, play, a slider), with the same panels as {@code animate schedule}.
 */
@Command(
    name = "explain",
    mixinStandardHelpOptions = true,
    description = {
      "Write one self-contained HTML page (no network) that steps through a real run of"
          + " Algorithm 1: next/previous/play, a slider, HBM and SRAM with their numbers, the"
          + " HBM traffic so far and the paper's pseudo-code with the current lines highlighted."
    })
public final class ExplainCommand implements Callable<Integer> {

  /** The most steps a page holds (its data grows with the steps). */
  static final int MAX_STEPS = 4096;

  @Spec CommandSpec spec;

  @Mixin ScheduleOptions options;

  @Option(
      names = "--out",
      paramLabel = "FILE.html",
      description = "Output file (default: algorithm1.html, or algorithm1-fast.html).")
  Path out;

  @Override
  public Integer call() {
    ScheduleSetup setup = options.setup(MAX_STEPS);
    Path file =
        out != null
            ? out
            : Path.of(options.kernel.equals("fast") ? "algorithm1-fast.html" : "algorithm1.html");
    Outputs.check(file, "--out", "html");
    ScheduleTrace trace = options.run(setup);
    Outputs.write(file, () -> ExplainPage.write(trace, file));
    PrintWriter pw = spec.commandLine().getOut();
    pw.printf(
        "wrote %s: %d steps; open it in a browser (it needs no network)%n",
        file, trace.steps().size());
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
