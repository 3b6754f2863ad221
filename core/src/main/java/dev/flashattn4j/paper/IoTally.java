package dev.flashattn4j.paper;

import java.util.Arrays;

/**
 * HBM traffic by line of an algorithm of the paper, in elements (not bytes), and the peak SRAM in
 * use. Made by {@link IoCounter} (counted as the loops run) and by {@link IoModel} (closed forms),
 * so that the two can be compared with {@link #equals}.
 */
public final class IoTally {

  /** Lines 0 to {@code LINES - 1} can carry traffic (Algorithm 4, the backward, has 26). */
  public static final int LINES = 27;

  private final long[] reads;
  private final long[] writes;
  private final long peakSram;

  /**
   * The traffic of one run, line by line.
   *
   * @param reads elements read from HBM, indexed by the paper's line number, length {@link #LINES}
   * @param writes elements written to HBM, indexed by line, length {@link #LINES}
   * @param peakSram the most elements held on chip at once
   */
  public IoTally(long[] reads, long[] writes, long peakSram) {
    if (reads.length != LINES || writes.length != LINES) {
      throw new IllegalArgumentException("reads and writes need " + LINES + " lines");
    }
    this.reads = reads.clone();
    this.writes = writes.clone();
    this.peakSram = peakSram;
  }

  /** Elements read from HBM at paper line {@code line}. */
  public long reads(int line) {
    return reads[line];
  }

  /** Elements written to HBM at paper line {@code line}. */
  public long writes(int line) {
    return writes[line];
  }

  /** All elements read from HBM. */
  public long totalReads() {
    return Arrays.stream(reads).sum();
  }

  /** All elements written to HBM. */
  public long totalWrites() {
    return Arrays.stream(writes).sum();
  }

  /** HBM accesses: reads plus writes. */
  public long accesses() {
    return totalReads() + totalWrites();
  }

  /** The most elements held in SRAM at once. */
  public long peakSram() {
    return peakSram;
  }

  /** The lines that move data, in order. */
  public int[] lines() {
    return java.util.stream.IntStream.range(0, LINES)
        .filter(l -> reads[l] != 0 || writes[l] != 0)
        .toArray();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof IoTally t
        && Arrays.equals(reads, t.reads)
        && Arrays.equals(writes, t.writes)
        && peakSram == t.peakSram;
  }

  @Override
  public int hashCode() {
    return 31 * (31 * Arrays.hashCode(reads) + Arrays.hashCode(writes)) + Long.hashCode(peakSram);
  }

  @Override
  public String toString() {
    StringBuilder s = new StringBuilder("IoTally{");
    for (int l : lines()) {
      s.append(String.format("line %d: r=%d w=%d; ", l, reads[l], writes[l]));
    }
    return s.append("peak SRAM=").append(peakSram).append('}').toString();
  }
}
