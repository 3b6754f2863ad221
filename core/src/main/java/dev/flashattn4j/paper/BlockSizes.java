package dev.flashattn4j.paper;

/**
 * The block sizes of the paper's Algorithm 1 (lines 1 and 3) for an SRAM of M elements:
 *
 * <pre>
 *   B_c = ⌈M / 4d⌉,  B_r = min(B_c, d),  T_r = ⌈N_q / B_r⌉,  T_c = ⌈N_k / B_c⌉
 * </pre>
 *
 * The last row block has N_q − (T_r − 1)·B_r rows and the last column block N_k − (T_c − 1)·B_c
 * (shorter, never longer: unlike the seed's {@code np.array_split}, no block outgrows B_r or B_c).
 *
 * <p>The rule for M: Algorithm 1 needs at least one row each of Q_i, K_j, V_j and O_i on chip, so M
 * must be at least {@link #minimumSram(int) 4d}; below that ⌈M / 4d⌉ would round a block of less
 * than one row up to one row and the SRAM budget would mean nothing.
 *
 * @param sram M, the SRAM size in elements
 * @param d the head dimension the block sizes are computed from (Algorithm1 uses max(d, d_v))
 * @param nq N_q, rows of Q
 * @param nk N_k, rows of K and V
 * @param bc B_c, rows of a K/V block
 * @param br B_r, rows of a Q/O block
 * @param tr T_r, the number of Q/O blocks
 * @param tc T_c, the number of K/V blocks
 */
public record BlockSizes(int sram, int d, int nq, int nk, int bc, int br, int tr, int tc) {

  /**
   * The paper's block sizes.
   *
   * @throws IllegalArgumentException when d &lt; 1, N &lt; 0 or M &lt; 4d, naming M, d and the
   *     minimum
   */
  public static BlockSizes of(int sram, int d, int nq, int nk) {
    if (d < 1) {
      throw new IllegalArgumentException("d must be at least 1, not " + d);
    }
    if (nq < 0 || nk < 0) {
      throw new IllegalArgumentException("N_q and N_k must not be negative: " + nq + ", " + nk);
    }
    long minimum = minimumSram(d);
    if (sram < minimum) {
      throw new IllegalArgumentException(
          "SRAM size M = "
              + sram
              + " is too small for d = "
              + d
              + ": Algorithm 1 needs M >= 4d = "
              + minimum
              + " (one row each of Q_i, K_j, V_j and O_i)");
    }
    int bc = (int) ceilDiv(sram, 4L * d); // line 1: B_c = ⌈M/4d⌉
    int br = Math.min(bc, d); // line 1: B_r = min(⌈M/4d⌉, d)
    int tr = (int) ceilDiv(nq, br); // line 3: T_r = ⌈N_q/B_r⌉
    int tc = (int) ceilDiv(nk, bc); // line 3: T_c = ⌈N_k/B_c⌉
    return new BlockSizes(sram, d, nq, nk, bc, br, tr, tc);
  }

  /** The smallest M Algorithm 1 accepts for head dimension d: 4d. */
  public static long minimumSram(int d) {
    return 4L * d;
  }

  /** First row of block Q_i (0-based i). */
  public int rowStart(int i) {
    return i * br;
  }

  /** One past the last row of block Q_i. */
  public int rowEnd(int i) {
    return Math.min(nq, (i + 1) * br);
  }

  /** First key of block K_j (0-based j). */
  public int colStart(int j) {
    return j * bc;
  }

  /** One past the last key of block K_j. */
  public int colEnd(int j) {
    return Math.min(nk, (j + 1) * bc);
  }

  @Override
  public String toString() {
    return String.format("B_c=%d, B_r=%d, T_r=%d, T_c=%d", bc, br, tr, tc);
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }
}
