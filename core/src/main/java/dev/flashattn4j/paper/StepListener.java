package dev.flashattn4j.paper;

import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.AttentionShape;

/**
 * Watches {@link Algorithm1} run, step by step (for pictures and teaching). Every method has an
 * empty default; the algorithm calls them in this order:
 *
 * <pre>
 *   start
 *   for each (b, h):  for j in 0..T_c-1:  blockLoaded(b, h, j, …)     line 6
 *                                         for i in 0..T_r-1: step(…)  lines 8–13
 *   finish
 * </pre>
 *
 * Indices are 0-based (the paper's are 1-based). A run without a listener pays nothing for this.
 */
public interface StepListener {

  /** Called once before the loops. */
  default void start(BlockSizes sizes, AttentionShape shape) {}

  /**
   * Line 6: K_j and V_j, keys [colStart, colEnd), were loaded for batch b, query head h.
   *
   * @param io the HBM traffic counted so far, this load included
   */
  default void blockLoaded(int b, int h, int j, int colStart, int colEnd, IoTally io) {}

  /** Lines 8–13 for block (j, i) are done: see {@link Step}. */
  default void step(Step step) {}

  /** Called once after the loops with the result and the total traffic. */
  default void finish(AttentionResult result, IoTally io) {}

  /**
   * One inner step of Algorithm 1 (lines 8–13 for K/V block j and Q block i), with copies of what
   * it computed and of the HBM state after it. Rows are the B_r' = rowEnd − rowStart rows of Q_i,
   * columns the B_c' = colEnd − colStart keys of K_j (the last blocks may be shorter).
   *
   * @param b the batch index
   * @param h the query head
   * @param j the K/V block, 0-based
   * @param i the Q block, 0-based
   * @param rowStart first query row of Q_i
   * @param rowEnd one past the last query row of Q_i
   * @param colStart first key of K_j
   * @param colEnd one past the last key of K_j
   * @param sij S_ij after scale, softcap and masks (−∞ where masked), (B_r', B_c') row-major
   * @param mTilde m̃_ij = rowmax(S_ij), length B_r'
   * @param lTilde l̃_ij = rowsum(P̃_ij), length B_r'
   * @param mNew m_i^new, length B_r'
   * @param lNew l_i^new, length B_r'
   * @param o O in HBM after line 12 for this (b, h), (N_q, d_v) row-major
   * @param l ℓ in HBM after line 13, length N_q
   * @param m m in HBM after line 13, length N_q
   * @param io the HBM traffic counted so far, this step included
   */
  record Step(
      int b,
      int h,
      int j,
      int i,
      int rowStart,
      int rowEnd,
      int colStart,
      int colEnd,
      float[] sij,
      float[] mTilde,
      float[] lTilde,
      float[] mNew,
      float[] lNew,
      float[] o,
      float[] l,
      float[] m,
      IoTally io) {

    /** The paper's lines this step runs. */
    public static final int[] LINES = {8, 9, 10, 11, 12, 13};

    /** The paper's lines this step runs: 8 to 13. */
    public int[] lines() {
      return LINES.clone();
    }

    /** B_r' = rowEnd − rowStart. */
    public int rows() {
      return rowEnd - rowStart;
    }

    /** B_c' = colEnd − colStart. */
    public int cols() {
      return colEnd - colStart;
    }
  }
}
