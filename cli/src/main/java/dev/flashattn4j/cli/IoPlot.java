package dev.flashattn4j.cli;

import dev.flashattn4j.paper.BlockSizes;
import dev.flashattn4j.paper.IoModel;
import dev.flashattn4j.viz.chart.IoChart;
import dev.flashattn4j.viz.chart.IoPoint;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code io --plot}: HBM accesses of Algorithm 1 and of standard attention from the closed forms of
 * {@link IoModel} (equal to the counts, as the paper's tests check), against N at a fixed M and
 * against the block size at the given N.
 */
final class IoPlot {

  /** The M of the chart against N when --sram is not given (the size `io` is documented with). */
  static final int DEFAULT_SRAM = 100_000;

  /** The chart against N runs over powers of two from here. */
  static final int FIRST_N = 64;

  private IoPlot() {}

  /**
   * Draws the chart.
   *
   * @param sram M, or null for {@link #DEFAULT_SRAM} (at least 4d)
   */
  static void write(int nq, int nk, int d, Integer sram, Path png) {
    int m = sram != null ? sram : (int) Math.max(DEFAULT_SRAM, BlockSizes.minimumSram(d));
    long lastN = Math.min(1L << 22, Math.max(16_384, 4L * Math.max(nq, nk)));
    List<IoPoint> byN = new ArrayList<>();
    for (long n = FIRST_N; n <= lastN; n *= 2) {
      int ni = (int) n;
      byN.add(
          new IoPoint(
              ni,
              IoModel.algorithm1(1, BlockSizes.of(m, d, ni, ni), d, d).accesses(),
              IoModel.standard(1, ni, ni, d, d).accesses()));
    }
    List<IoPoint> byBlock = new ArrayList<>();
    for (IoModel.SweepRow r : IoModel.sweep(1, nq, nk, d, d)) {
      byBlock.add(new IoPoint(r.blocks().bc(), r.algorithm1().accesses(), r.standard().accesses()));
    }
    String shape = nq == nk ? "N = " + nq : "N_q = " + nq + ", N_k = " + nk;
    Outputs.write(
        png,
        () ->
            IoChart.write(
                byN,
                String.format(
                    Locale.ROOT,
                    "one head, d = %d, M = %,d elements%s",
                    d,
                    m,
                    sram != null ? "" : " (no --sram given: a fixed M for this panel)"),
                byBlock,
                "one head, " + shape + ", d = " + d + ", M = 4d·B_c",
                png));
  }
}
