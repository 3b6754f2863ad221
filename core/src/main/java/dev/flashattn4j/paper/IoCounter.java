package dev.flashattn4j.paper;

/**
 * Counts, as an algorithm's loops run, the elements each line of the paper moves between HBM and
 * SRAM, and the peak number of elements held in SRAM. {@link Algorithm1} and {@link
 * StandardAttention} call it at the line that moves the data; {@link IoModel} gives the closed
 * forms the counts must equal. Not thread-safe: one counter per run.
 */
public final class IoCounter {

  /** A counter at zero. */
  public IoCounter() {}

  private final long[] reads = new long[IoTally.LINES];
  private final long[] writes = new long[IoTally.LINES];
  private long peakSram;

  /** Records {@code elements} read from HBM into SRAM at paper line {@code line}. */
  public void read(int line, long elements) {
    reads[line] += elements;
  }

  /** Records {@code elements} written from SRAM to HBM at paper line {@code line}. */
  public void write(int line, long elements) {
    writes[line] += elements;
  }

  /** Records that {@code elements} are held in SRAM at once now. */
  public void holding(long elements) {
    peakSram = Math.max(peakSram, elements);
  }

  /** The counts so far (a snapshot). */
  public IoTally tally() {
    return new IoTally(reads, writes, peakSram);
  }
}
