package dev.flashattn4j.viz.schedule;

import java.util.List;

/**
 * A whole run of a tiled attention schedule, step by step: what the animation and the step-through
 * page draw. Made from a real run of {@link dev.flashattn4j.paper.Algorithm1} ({@link
 * PaperSchedule}) or from the model of the fast kernel's loop order ({@link FastSchedule}).
 *
 * @param kernel "paper" or "fast"
 * @param title the schedule's name
 * @param note a remark the pictures show (what the schedule is and is not), or ""
 * @param n N (rows of Q, K, V)
 * @param d the head dimension
 * @param sram M, the SRAM size in elements
 * @param bc B_c, rows of a K/V block
 * @param br B_r, rows of a Q block
 * @param tr T_r, number of Q blocks
 * @param tc T_c, number of K/V blocks
 * @param scale the factor on Q·Kᵀ
 * @param code the pseudo-code the steps' line numbers refer to
 * @param initial the HBM arrays before the loops (Q, K, V, O, and ℓ, m or L), in drawing order
 * @param steps the steps in the order the schedule runs them
 * @param output O at the end, (N, d)
 * @param reference the vanilla result, standard attention in float64 with the same scale, (N, d)
 * @param maxDifference max |output − reference|
 * @param standardReads HBM elements standard attention (the paper's Algorithm 0) reads, for
 *     comparison
 * @param standardWrites HBM elements standard attention writes
 * @param mask the causal mask and window in words ("causal top-left"), or "" for none
 * @param maskedReads HBM elements the run read for tiles no row sees (0 when it skips them)
 * @param maskedWrites HBM elements the run wrote for tiles no row sees
 * @param keyStart the first key each query row sees under the causal mask and the window
 * @param keyEnd one past the last key each query row sees
 */
public record ScheduleTrace(
    String kernel,
    String title,
    String note,
    int n,
    int d,
    int sram,
    int bc,
    int br,
    int tr,
    int tc,
    float scale,
    PseudoCode code,
    List<Grid> initial,
    List<ScheduleStep> steps,
    Grid output,
    Grid reference,
    double maxDifference,
    long standardReads,
    long standardWrites,
    String mask,
    long maskedReads,
    long maskedWrites,
    int[] keyStart,
    int[] keyEnd) {

  /**
   * Checks the sizes.
   *
   * @throws IllegalArgumentException when the key ranges do not have one entry per row
   */
  public ScheduleTrace {
    initial = List.copyOf(initial);
    steps = List.copyOf(steps);
    if (keyStart.length != n || keyEnd.length != n) {
      throw new IllegalArgumentException("key ranges for " + keyStart.length + " rows, N = " + n);
    }
    keyStart = keyStart.clone();
    keyEnd = keyEnd.clone();
  }

  /** The key ranges of every query row under these options: [keyStart(r), keyEnd(r)). */
  static int[][] keyRanges(dev.flashattn4j.values.AttentionOptions options, int n) {
    int[][] ranges = new int[2][n];
    for (int r = 0; r < n; r++) {
      ranges[0][r] = options.keyStart(r, n, n);
      ranges[1][r] = Math.max(ranges[0][r], options.keyEnd(r, n, n));
    }
    return ranges;
  }

  /** True when query row {@code r} sees key {@code c}. */
  public boolean sees(int r, int c) {
    return c >= keyStart[r] && c < keyEnd[r];
  }

  /** The last step's HBM read count: all the run read. */
  public long totalReads() {
    return steps.isEmpty() ? 0 : steps.getLast().reads();
  }

  /** HBM elements the run did not read because it skipped tiles. */
  public long savedReads() {
    return steps.isEmpty() ? 0 : steps.getLast().savedReads();
  }

  /** Tiles of each kind, in {@link TileKind} order. */
  public int[] tileCounts() {
    int[] counts = new int[TileKind.values().length];
    for (ScheduleStep s : steps) {
      counts[s.tile().ordinal()]++;
    }
    return counts;
  }

  /** The last step's HBM write count: all the run wrote. */
  public long totalWrites() {
    return steps.isEmpty() ? 0 : steps.getLast().written();
  }

  /** max |a − b| over two grids of the same size. */
  public static double maxDifference(Grid a, Grid b) {
    double max = 0;
    for (int k = 0; k < a.values().length; k++) {
      max = Math.max(max, Math.abs((double) a.values()[k] - b.values()[k]));
    }
    return max;
  }
}
