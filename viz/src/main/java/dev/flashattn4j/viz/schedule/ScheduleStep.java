package dev.flashattn4j.viz.schedule;

import java.util.List;

/**
 * One step of a schedule: the work on one (K/V block j, Q block i) pair.
 *
 * @param i the Q block, 0-based
 * @param j the K/V block, 0-based
 * @param lines the pseudo-code lines the step runs (numbers of the schedule's {@link PseudoCode})
 * @param caption what the step does, in words
 * @param highlights the HBM rows in SRAM during the step
 * @param writes what the step writes to HBM
 * @param sram the blocks on chip (K_j, V_j, Q_i, O_i …), each (rows, d) or (rows, d_v)
 * @param scores S_ij, (B_r', B_c'), −∞ where masked
 * @param stats the row statistics on chip, each a column of B_r' values (m_i, m̃_ij, m_i^new …)
 * @param reads HBM elements read so far, this step included
 * @param written HBM elements written so far, this step included
 * @param tile what the tile (i, j) of S is under the causal mask and the window
 * @param skipped true when the schedule skipped the tile: K_j, V_j not loaded, nothing computed
 * @param savedReads HBM elements the schedule did not read so far because it skipped tiles
 */
public record ScheduleStep(
    int i,
    int j,
    List<Integer> lines,
    String caption,
    List<Highlight> highlights,
    List<BlockWrite> writes,
    List<Grid> sram,
    Grid scores,
    List<Grid> stats,
    long reads,
    long written,
    TileKind tile,
    boolean skipped,
    long savedReads) {

  public ScheduleStep {
    if (tile == null || (skipped && tile != TileKind.MASKED)) {
      throw new IllegalArgumentException("only a masked tile may be skipped, not " + tile);
    }
    lines = List.copyOf(lines);
    highlights = List.copyOf(highlights);
    writes = List.copyOf(writes);
    sram = List.copyOf(sram);
    stats = List.copyOf(stats);
  }
}
