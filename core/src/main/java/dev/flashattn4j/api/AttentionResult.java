package dev.flashattn4j.api;

import dev.flashattn4j.tensor.Tensor;
import java.util.Arrays;
import java.util.Objects;

/**
 * The output of attention and the log-sum-exp of each row (what the backward pass and the merge of
 * partial results need).
 *
 * @param output O, shape (B, H_q, N_q, d_v), with the rank of Q
 * @param lse the natural log-sum-exp of each row's final scores, (B, H_q, N_q) row-major; −∞ for a
 *     row with no key
 */
public record AttentionResult(Tensor output, float[] lse) {

  public AttentionResult {
    Objects.requireNonNull(output, "output");
    Objects.requireNonNull(lse, "lse");
    long rows = (long) output.batch() * output.heads() * output.rows();
    if (lse.length != rows) {
      throw new IllegalArgumentException(
          "lse has " + lse.length + " values for " + rows + " rows of " + output);
    }
  }

  /** The shape of the LSE: the output's shape without its last dimension. */
  public int[] lseShape() {
    int[] s = output.shape();
    return Arrays.copyOf(s, s.length - 1);
  }

  /** LSE of row (b, h, i). */
  public float lse(int b, int h, int i) {
    return lse[(b * output.heads() + h) * output.rows() + i];
  }
}
