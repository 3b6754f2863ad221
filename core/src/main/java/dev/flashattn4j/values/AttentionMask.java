package dev.flashattn4j.values;

import dev.flashattn4j.internal.Checks;
import java.util.Arrays;

/**
 * A boolean keep-mask (true = keep the score) or a float additive mask (added to the score), of a
 * shape that broadcasts to (B, H_q, N_q, N_k) by NumPy's rules: the shape is aligned right, and
 * every dimension is either 1 or equal to the full one. The mask is never expanded: kernels read it
 * through {@link #rowOffset} and {@link #keyStride}.
 */
public final class AttentionMask {

  private final boolean[] keep;
  private final float[] bias;
  private final int[] shape;
  private final int[] dims = {1, 1, 1, 1};
  private final int[] strides = new int[4];

  private AttentionMask(boolean[] keep, float[] bias, int[] shape) {
    this.keep = keep;
    this.bias = bias;
    if (shape.length < 1 || shape.length > 4) {
      throw new IllegalArgumentException(
          "mask shape " + Arrays.toString(shape) + " must have rank 1 to 4");
    }
    this.shape = shape.clone();
    long size = 1;
    for (int k = 0; k < shape.length; k++) {
      if (shape[k] < 0) {
        throw new IllegalArgumentException("negative dimension in mask " + Arrays.toString(shape));
      }
      dims[4 - shape.length + k] = shape[k];
      size *= shape[k];
    }
    int length = keep != null ? keep.length : bias.length;
    if (size != length) {
      throw new IllegalArgumentException(
          "mask has "
              + length
              + " elements but shape "
              + Arrays.toString(shape)
              + " needs "
              + size);
    }
    int stride = 1;
    for (int k = 3; k >= 0; k--) {
      strides[k] = dims[k] == 1 ? 0 : stride;
      stride *= dims[k];
    }
  }

  /**
   * A boolean keep-mask.
   *
   * @param keep row-major, true where the score is kept
   * @param shape a shape that broadcasts to (B, H_q, N_q, N_k), e.g. (N_q, N_k) or (B, 1, 1, N_k)
   */
  public static AttentionMask keep(boolean[] keep, int... shape) {
    return new AttentionMask(Checks.notNull(keep, "keep"), null, Checks.notNull(shape, "shape"));
  }

  /**
   * A float additive mask: {@code -inf} removes a score.
   *
   * @param bias row-major, added to the (scaled, soft-capped) score
   * @param shape a shape that broadcasts to (B, H_q, N_q, N_k)
   */
  public static AttentionMask additive(float[] bias, int... shape) {
    return new AttentionMask(null, Checks.notNull(bias, "bias"), Checks.notNull(shape, "shape"));
  }

  /** True for a boolean keep-mask, false for an additive float mask. */
  public boolean isBoolean() {
    return keep != null;
  }

  /** The keep flags (boolean masks only), row-major in {@link #shape()}. */
  public boolean[] keepArray() {
    return keep;
  }

  /** The additive values (float masks only), row-major in {@link #shape()}. */
  public float[] biasArray() {
    return bias;
  }

  /** The shape the mask was made with. */
  public int[] shape() {
    return shape.clone();
  }

  /**
   * Checks that the mask broadcasts to (B, H, N_q, N_k).
   *
   * @throws IllegalArgumentException naming both shapes when it does not
   */
  public void checkBroadcastsTo(int b, int h, int nq, int nk) {
    int[] full = {b, h, nq, nk};
    for (int k = 0; k < 4; k++) {
      if (dims[k] != 1 && dims[k] != full[k]) {
        throw new IllegalArgumentException(
            "mask of shape "
                + Arrays.toString(shape)
                + " does not broadcast to (B, H, N_q, N_k) = "
                + Arrays.toString(full));
      }
    }
  }

  /** Index of the mask value for (b, h, i, key 0); add {@code j * keyStride()} for key j. */
  public int rowOffset(int b, int h, int i) {
    return b * strides[0] + h * strides[1] + i * strides[2];
  }

  /** 1 when the mask has a key dimension, 0 when it is broadcast along the keys. */
  public int keyStride() {
    return strides[3];
  }

  /** The additive value for (b, h, i, j): 0 or −∞ for a boolean mask. */
  public float valueAt(int b, int h, int i, int j) {
    int idx = rowOffset(b, h, i) + j * strides[3];
    if (keep != null) {
      return keep[idx] ? 0f : Float.NEGATIVE_INFINITY;
    }
    return bias[idx];
  }

  @Override
  public String toString() {
    return (keep != null ? "keep-mask" : "additive mask") + Arrays.toString(shape);
  }
}
