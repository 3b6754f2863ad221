package dev.flashattn4j.viz.chart;

/**
 * HBM accesses (reads + writes, in elements) of both algorithms at one x: a sequence length N or a
 * block size B_c.
 *
 * @param x N or B_c
 * @param algorithm1 Algorithm 1's accesses
 * @param standard standard attention's (Algorithm 0's) accesses
 */
public record IoPoint(double x, long algorithm1, long standard) {}
