package dev.flashattn4j.viz.chart;

/**
 * One measured benchmark case, as {@code ./flashattn bench} reports it.
 *
 * @param kernel the kernel (fast, paper, naive …)
 * @param threads the number of threads
 * @param d the head dimension
 * @param causal whether the case is causal
 * @param n the sequence length N
 * @param gflops the measured rate in GFLOP/s
 */
public record BenchPoint(String kernel, int threads, int d, boolean causal, int n, double gflops) {}
