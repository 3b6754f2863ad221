package dev.flashattn4j.viz.schedule;

/**
 * Rows [start, end) of an HBM array that a step has in SRAM.
 *
 * @param array the array's name (Q, K, V, O, ℓ, m, L)
 * @param start first row
 * @param end one past the last row
 * @param block which kind of block it is (its colour)
 * @param written whether the step writes these rows back to HBM
 */
public record Highlight(String array, int start, int end, Block block, boolean written) {

  /** The two kinds of block: a block of query rows i and a block of key rows j. */
  public enum Block {
    /** Q_i and the rows of O, ℓ, m (or L) that go with it. */
    QUERY,
    /** K_j and V_j. */
    KEY
  }
}
