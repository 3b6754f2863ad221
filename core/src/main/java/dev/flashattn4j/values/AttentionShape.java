package dev.flashattn4j.values;

import dev.flashattn4j.internal.Checks;
import dev.flashattn4j.tensor.Tensor;
import java.util.Arrays;

/**
 * The sizes of one attention call, checked once at the public boundary: Q is (B, H_q, N_q, d), K is
 * (B, H_kv, N_k, d), V is (B, H_kv, N_k, d_v), H_q a multiple of H_kv (GQA; H_kv = 1 is MQA).
 *
 * @param batch B
 * @param queryHeads H_q
 * @param kvHeads H_kv
 * @param queryRows N_q
 * @param keyRows N_k
 * @param headDim d
 * @param valueDim d_v
 */
public record AttentionShape(
    int batch, int queryHeads, int kvHeads, int queryRows, int keyRows, int headDim, int valueDim) {

  /**
   * Checks Q, K, V (and the options' mask) against each other.
   *
   * @throws IllegalArgumentException naming the argument and the shapes when they don't fit
   */
  public static AttentionShape of(Tensor q, Tensor k, Tensor v, AttentionOptions options) {
    Checks.notNull(q, "q");
    Checks.notNull(k, "k");
    Checks.notNull(v, "v");
    Checks.notNull(options, "options");
    String shapes =
        " (q "
            + Arrays.toString(q.shape())
            + ", k "
            + Arrays.toString(k.shape())
            + ", v "
            + Arrays.toString(v.shape())
            + ")";
    if (q.batch() != k.batch() || k.batch() != v.batch()) {
      throw new IllegalArgumentException("q, k and v must have the same batch size B" + shapes);
    }
    if (k.heads() != v.heads() || k.rows() != v.rows()) {
      throw new IllegalArgumentException(
          "k and v must have the same number of heads and of rows" + shapes);
    }
    if (q.cols() != k.cols()) {
      throw new IllegalArgumentException(
          "d of q (" + q.cols() + ") must equal d of k (" + k.cols() + ")" + shapes);
    }
    if (q.cols() < 1) {
      throw new IllegalArgumentException("d must be at least 1" + shapes);
    }
    if (k.heads() < 1 || q.heads() % k.heads() != 0) {
      throw new IllegalArgumentException(
          "the heads of q ("
              + q.heads()
              + ") must be a multiple of the heads of k and v ("
              + k.heads()
              + ")"
              + shapes);
    }
    long rows = (long) q.batch() * q.heads() * Math.max(1, q.rows());
    if (rows > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "B·H_q·N_q = " + rows + " rows is more than one LSE array can hold" + shapes);
    }
    AttentionShape shape =
        new AttentionShape(q.batch(), q.heads(), k.heads(), q.rows(), k.rows(), q.cols(), v.cols());
    if (options.mask() != null) {
      options
          .mask()
          .checkBroadcastsTo(shape.batch, shape.queryHeads, shape.queryRows, shape.keyRows);
    }
    perHead("ALiBi slopes", options.alibiSlopes(), shape.queryHeads);
    perHead("sinks", options.sinks(), shape.queryHeads);
    return shape;
  }

  private static void perHead(String what, float[] values, int heads) {
    if (values != null && values.length != heads) {
      throw new IllegalArgumentException(
          what + " need one value per query head: " + values.length + " for H_q = " + heads);
    }
  }

  /** H_q / H_kv: how many query heads share one K/V head. */
  public int groupSize() {
    return queryHeads / kvHeads;
  }

  /** The K/V head that query head {@code h} reads. */
  public int kvHead(int h) {
    return h / groupSize();
  }

  /** The shape of O with the rank of Q. */
  public int[] outputShape(int rank) {
    int[] full = {batch, queryHeads, queryRows, valueDim};
    return Arrays.copyOfRange(full, 4 - rank, 4);
  }

  /** B · H_q · N_q: the number of output rows. */
  public int outputRows() {
    return Math.multiplyExact(Math.multiplyExact(batch, queryHeads), queryRows);
  }

  /** Forward FLOPs as the project counts them: 4·B·H·N_q·N_k·d, halved when causal. */
  public double forwardFlops(boolean causal) {
    double f = 4.0 * batch * queryHeads * (double) queryRows * keyRows * headDim;
    return causal ? f / 2 : f;
  }
}
