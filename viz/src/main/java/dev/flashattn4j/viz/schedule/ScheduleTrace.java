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
    long standardWrites) {

  public ScheduleTrace {
    initial = List.copyOf(initial);
    steps = List.copyOf(steps);
  }

  /** The last step's HBM read count: all the run read. */
  public long totalReads() {
    return steps.isEmpty() ? 0 : steps.getLast().reads();
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
