package dev.flashattn4j.values;

import dev.flashattn4j.internal.Checks;
import dev.flashattn4j.tensor.Tensor;
import java.util.Arrays;

/**
 * The output of attention and the log-sum-exp of each row (what the backward pass and the merge of
 * partial results need).
 *
 * @param output O, shape (B, H_q, N_q, d_v), with the rank of Q
 * @param lse the natural log-sum-exp of each row's final scores, (B, H_q, N_q) row-major; −∞ for a
 *     row with no key
 */
public record AttentionResult(Tensor output, float[] lse) {

  /**
   * Checks that the LSE has one value per row of the output.
   *
   * @throws IllegalArgumentException when an argument is null or the sizes do not match
   */
  public AttentionResult {
    Checks.notNull(output, "output");
    Checks.notNull(lse, "lse");
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

  /**
   * Combines attention results over disjoint shards of the same keys and values into the result
   * over all of them, by their log-sum-exp: with M = max_s LSE_s,
   *
   * <pre>
   *   LSE = M + log Σ_s exp(LSE_s − M),    O = Σ_s exp(LSE_s − LSE) · O_s
   * </pre>
   *
   * row by row. This is how attention over K and V held in different places (pages, threads,
   * devices, machines) is put together: each place attends the same queries to its own keys and
   * sends back O and the LSE; the order of the shards does not matter mathematically. A shard where
   * a row sees no key (an empty shard, or one cut by a window or the causal mask) has LSE −∞ and
   * contributes nothing; a row no shard sees gives O = 0 and LSE −∞. Shards must be computed with
   * the same scale, softcap and query rows. Sums run in double.
   *
   * @param parts results of the same shape (B, H_q, N_q, d_v), at least one
   * @return the merged result, with the first part's rank
   */
  public static AttentionResult merge(AttentionResult... parts) {
    Checks.notNull(parts, "parts");
    if (parts.length == 0) {
      throw new IllegalArgumentException("merge needs at least one part");
    }
    Tensor first = Checks.notNull(parts[0], "parts[0]").output();
    for (int s = 1; s < parts.length; s++) {
      Tensor o = Checks.notNull(parts[s], "parts[" + s + "]").output();
      if (o.batch() != first.batch()
          || o.heads() != first.heads()
          || o.rows() != first.rows()
          || o.cols() != first.cols()) {
        throw new IllegalArgumentException(
            "cannot merge part "
                + s
                + " of shape "
                + Arrays.toString(o.shape())
                + " with part 0 of shape "
                + Arrays.toString(first.shape()));
      }
    }
    Tensor out = Tensor.zeros(first.shape());
    float[] lse = new float[parts[0].lse.length];
    double[] acc = new double[first.cols()];
    int dv = first.cols();
    int row = 0;
    for (int b = 0; b < first.batch(); b++) {
      for (int h = 0; h < first.heads(); h++) {
        for (int i = 0; i < first.rows(); i++, row++) {
          double max = Double.NEGATIVE_INFINITY;
          for (AttentionResult p : parts) {
            max = Math.max(max, p.lse[row]);
          }
          if (max == Double.NEGATIVE_INFINITY) {
            lse[row] = Float.NEGATIVE_INFINITY; // no shard sees a key: O stays 0
            continue;
          }
          double sum = 0;
          for (AttentionResult p : parts) {
            sum += Math.exp(p.lse[row] - max);
          }
          double total = max + Math.log(sum);
          Arrays.fill(acc, 0);
          for (AttentionResult p : parts) {
            if (p.lse[row] == Float.NEGATIVE_INFINITY) {
              continue;
            }
            double w = Math.exp(p.lse[row] - total);
            Tensor o = p.output;
            int at = o.rowOffset(b, h, i);
            for (int c = 0; c < dv; c++) {
              acc[c] += w * o.data()[at + c];
            }
          }
          int dst = out.rowOffset(b, h, i);
          for (int c = 0; c < dv; c++) {
            out.data()[dst + c] = (float) acc[c];
          }
          lse[row] = (float) total;
        }
      }
    }
    return new AttentionResult(out, lse);
  }

  /** LSE of row (b, h, i). */
  public float lse(int b, int h, int i) {
    return lse[(b * output.heads() + h) * output.rows() + i];
  }
}
