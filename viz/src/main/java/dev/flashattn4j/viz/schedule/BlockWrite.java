package dev.flashattn4j.viz.schedule;

/**
 * What a step writes to HBM: rows {@code [start, start + block.rows())} of array {@code array} now
 * hold {@code block}'s values. Replaying the writes of the steps in order gives the HBM state at
 * every step ({@link HbmState}), without a copy of all of HBM per step.
 */
public record BlockWrite(String array, int start, Grid block) {}
