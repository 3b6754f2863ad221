package dev.flashattn4j.kernel.varlen;

/**
 * Checks of FlashAttention's {@code cu_seqlens}: the cumulative offsets of the sequences packed in
 * one tensor, {@code [0, n_0, n_0 + n_1, ..., total]}: sequence b owns rows [cu[b], cu[b + 1]).
 */
final class CuSeqlens {

  private CuSeqlens() {}

  /**
   * Checks that {@code cu} starts at 0, never decreases and ends at {@code totalRows}.
   *
   * @param name the argument's name, for the message
   * @param cu batch + 1 offsets
   * @param tensor what the rows are rows of, for the message
   * @throws IllegalArgumentException naming the argument, the index and the values
   */
  static void check(String name, int[] cu, int totalRows, String tensor) {
    if (cu == null) {
      throw new IllegalArgumentException(name + " must not be null");
    }
    if (cu.length == 0) {
      throw new IllegalArgumentException(name + " is empty: it needs batch + 1 offsets, from 0");
    }
    if (cu[0] != 0) {
      throw new IllegalArgumentException(name + "[0] must be 0, not " + cu[0]);
    }
    for (int b = 1; b < cu.length; b++) {
      if (cu[b] < cu[b - 1]) {
        throw new IllegalArgumentException(
            name
                + " must not decrease: "
                + name
                + "["
                + b
                + "] = "
                + cu[b]
                + " < "
                + name
                + "["
                + (b - 1)
                + "] = "
                + cu[b - 1]);
      }
    }
    if (cu[cu.length - 1] != totalRows) {
      throw new IllegalArgumentException(
          name
              + " ends at "
              + cu[cu.length - 1]
              + " but "
              + tensor
              + " has "
              + totalRows
              + " packed rows: the last offset must be the total");
    }
  }
}
