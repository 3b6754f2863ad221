package dev.flashattn4j.cli;

import dev.flashattn4j.cli.bench.BenchCase;
import dev.flashattn4j.cli.bench.BenchRow;
import dev.flashattn4j.cli.bench.Machine;
import dev.flashattn4j.values.Causal;
import dev.flashattn4j.viz.chart.BenchChart;
import dev.flashattn4j.viz.chart.BenchPoint;
import dev.flashattn4j.viz.chart.Peak;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** {@code bench --plot}: the rows of a benchmark run as a chart of GFLOP/s against N. */
final class BenchPlot {

  private BenchPlot() {}

  /**
   * Draws GFLOP/s against N per kernel and thread count, with the FMA peak of each thread count.
   *
   * @param peaks the measured FMA peak (GFLOP/s) by thread count
   */
  static void write(
      List<BenchRow> rows, Map<Integer, Double> peaks, Machine machine, int iters, Path png) {
    List<BenchPoint> points =
        rows.stream()
            .map(
                r -> {
                  BenchCase c = r.benchCase();
                  return new BenchPoint(
                      c.kernel(), c.threads(), c.d(), c.causal() != Causal.NONE, c.n(), r.gflops());
                })
            .toList();
    List<Peak> lines =
        peaks.entrySet().stream()
            .map(
                e ->
                    new Peak(
                        "FMA peak, " + e.getKey() + (e.getKey() == 1 ? " thread" : " threads"),
                        e.getValue()))
            .toList();
    BenchCase first = rows.getFirst().benchCase();
    // one line for the run, one for the machine: a long line would wrap where it happens to end
    String subtitle =
        String.format(
            "B = %d, H = %d, %d timed calls a point, median · %s, %d cores%n" + "JDK %s · %s",
            first.batch(),
            first.heads(),
            iters,
            machine.cpu(),
            machine.cores(),
            Runtime.version().feature()
                + "."
                + Runtime.version().interim()
                + "."
                + Runtime.version().update(),
            machine.vectors().split(";")[0]);
    Outputs.write(png, () -> BenchChart.write(points, lines, subtitle, png));
  }
}
