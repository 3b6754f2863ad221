package dev.flashattn4j.viz.chart;

/**
 * A horizontal line on the benchmark chart: a measured machine limit.
 *
 * @param label what it is ("FMA peak, 2 threads")
 * @param gflops its height in GFLOP/s
 */
public record Peak(String label, double gflops) {}
