package dev.flashattn4j.cli.bench;

/**
 * The timing of one {@link BenchCase}: what the table, the CSV file and a chart show.
 *
 * @param benchCase what was timed
 * @param medianMs the median wall time of one call, in ms
 * @param minMs the fastest call, in ms
 * @param maxMs the slowest call, in ms
 * @param gflops FLOPs / median time, in GFLOP/s
 * @param peakGflops the FMA peak of {@code threads} threads measured in the same run
 * @param extraBytes memory beyond inputs and outputs: the fast kernel's workspaces, or what the
 *     other kernels allocate per call beyond O and the LSE
 * @param roundSpread the timed calls run in three rounds; (max − min) / min of the rounds' medians:
 *     above {@link #DISTURBED} the machine changed speed during the case
 */
public record BenchRow(
    BenchCase benchCase,
    double medianMs,
    double minMs,
    double maxMs,
    double gflops,
    double peakGflops,
    long extraBytes,
    double roundSpread) {

  /** A spread of the rounds' medians above this (10%) marks a row as disturbed. */
  public static final double DISTURBED = 0.10;

  /** True when the rounds' medians spread more than {@link #DISTURBED}. */
  public boolean disturbed() {
    return roundSpread > DISTURBED;
  }

  /** The same timing against another peak. */
  public BenchRow withPeak(double peak) {
    return new BenchRow(benchCase, medianMs, minMs, maxMs, gflops, peak, extraBytes, roundSpread);
  }

  /** GFLOP/s as a percentage of the measured FMA peak. */
  public double percentOfPeak() {
    return 100 * gflops / peakGflops;
  }

  /** (max − min) / median: how much the calls spread. */
  public double spread() {
    return (maxMs - minMs) / medianMs;
  }
}
