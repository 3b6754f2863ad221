package dev.flashattn4j.tensor;

import dev.flashattn4j.internal.Checks;
import java.util.Arrays;

/**
 * An array read from a .npy file: its element type, its shape (any rank, 0 for a scalar) and its
 * elements in C (row-major) order. float16 and float32 elements are held as {@code float[]}
 * (float16 converts exactly), float64 as {@code double[]}, bool as {@code boolean[]}, the integer
 * types as {@code long[]}.
 */
public final class NpyArray {

  private final NpyDtype dtype;
  private final int[] shape;
  private final float[] floats;
  private final double[] doubles;
  private final boolean[] bools;
  private final long[] longs;

  private NpyArray(NpyDtype dtype, int[] shape, float[] f, double[] d, boolean[] b, long[] l) {
    this.dtype = Checks.notNull(dtype, "dtype");
    this.shape = shape.clone();
    this.floats = f;
    this.doubles = d;
    this.bools = b;
    this.longs = l;
    long size = 1;
    for (int s : shape) {
      if (s < 0) {
        throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
      }
      size *= s;
    }
    if (size != length()) {
      throw new IllegalArgumentException(
          "shape " + Arrays.toString(shape) + " needs " + size + " elements, not " + length());
    }
  }

  /**
   * float32 (or float16-valued) elements.
   *
   * @param dtype {@link NpyDtype#FLOAT32} or {@link NpyDtype#FLOAT16}
   * @param data row-major, as many as the product of {@code shape}
   */
  public static NpyArray ofFloats(NpyDtype dtype, float[] data, int... shape) {
    if (dtype != NpyDtype.FLOAT32 && dtype != NpyDtype.FLOAT16) {
      throw new IllegalArgumentException("float[] data cannot have dtype " + dtype);
    }
    return new NpyArray(dtype, shape, Checks.notNull(data, "data"), null, null, null);
  }

  /**
   * float64 elements.
   *
   * @param data row-major, as many as the product of {@code shape}
   */
  public static NpyArray ofDoubles(double[] data, int... shape) {
    return new NpyArray(NpyDtype.FLOAT64, shape, null, Checks.notNull(data, "data"), null, null);
  }

  /**
   * bool elements.
   *
   * @param data row-major, as many as the product of {@code shape}
   */
  public static NpyArray ofBooleans(boolean[] data, int... shape) {
    return new NpyArray(NpyDtype.BOOL, shape, null, null, Checks.notNull(data, "data"), null);
  }

  /**
   * Integer elements.
   *
   * @param dtype one of the integer types ({@link NpyDtype#isInteger()})
   * @param data row-major, as many as the product of {@code shape}, each in the range of {@code
   *     dtype}
   */
  public static NpyArray ofIntegers(NpyDtype dtype, long[] data, int... shape) {
    if (dtype == null || !dtype.isInteger()) {
      throw new IllegalArgumentException("long[] data cannot have dtype " + dtype);
    }
    return new NpyArray(dtype, shape, null, null, null, Checks.notNull(data, "data"));
  }

  /** The element type the file declared. */
  public NpyDtype dtype() {
    return dtype;
  }

  /** The shape, outermost first; empty for a 0-d array. */
  public int[] shape() {
    return shape.clone();
  }

  /** The number of dimensions. */
  public int rank() {
    return shape.length;
  }

  /** The number of elements. */
  public int length() {
    if (floats != null) {
      return floats.length;
    }
    if (doubles != null) {
      return doubles.length;
    }
    return bools != null ? bools.length : longs.length;
  }

  /**
   * The elements as float32, row-major: float16 and float32 as they are, float64 and integers
   * rounded to nearest (NumPy's {@code astype(np.float32)}).
   *
   * @throws IllegalArgumentException for a bool array
   */
  public float[] toFloatArray() {
    if (floats != null) {
      return floats.clone();
    }
    float[] out = new float[length()];
    if (doubles != null) {
      for (int i = 0; i < out.length; i++) {
        out[i] = (float) doubles[i];
      }
      return out;
    }
    if (longs != null) {
      for (int i = 0; i < out.length; i++) {
        out[i] = (float) longs[i];
      }
      return out;
    }
    throw new IllegalArgumentException("a bool array has no float values");
  }

  /**
   * The elements as float64, row-major (exact for every float type and for integers up to 2^53).
   *
   * @throws IllegalArgumentException for a bool array
   */
  public double[] toDoubleArray() {
    if (doubles != null) {
      return doubles.clone();
    }
    if (floats != null) {
      double[] out = new double[floats.length];
      for (int i = 0; i < out.length; i++) {
        out[i] = floats[i];
      }
      return out;
    }
    if (longs != null) {
      double[] out = new double[longs.length];
      for (int i = 0; i < out.length; i++) {
        out[i] = longs[i];
      }
      return out;
    }
    throw new IllegalArgumentException("a bool array has no float values");
  }

  /**
   * The elements of a bool array, row-major; of an integer array, true where an element is not 0
   * (NumPy's {@code astype(bool)}: how an int8 or uint8 keep-mask from PyTorch reads).
   *
   * @throws IllegalArgumentException for a float array
   */
  public boolean[] toBooleanArray() {
    if (longs != null) {
      boolean[] out = new boolean[longs.length];
      for (int i = 0; i < out.length; i++) {
        out[i] = longs[i] != 0;
      }
      return out;
    }
    if (bools == null) {
      throw new IllegalArgumentException("a " + dtype.descr() + " array is not bool");
    }
    return bools.clone();
  }

  /**
   * The elements of an integer array, row-major.
   *
   * @throws IllegalArgumentException for a float or bool array
   */
  public long[] toLongArray() {
    if (longs == null) {
      throw new IllegalArgumentException("a " + dtype.descr() + " array is not of integers");
    }
    return longs.clone();
  }

  /**
   * The array as a float32 tensor of the same shape; for float16 and float32 arrays the tensor
   * shares this array's elements (no copy).
   *
   * @throws IllegalArgumentException when the array is not of floats or its rank is not 2, 3 or 4
   */
  public Tensor toTensor() {
    if (!dtype.isFloat()) {
      throw new IllegalArgumentException(
          "a " + dtype.descr() + " array cannot be a tensor of floats");
    }
    if (shape.length < 2 || shape.length > 4) {
      throw new IllegalArgumentException(
          "an array of shape "
              + Arrays.toString(shape)
              + " is not a tensor: it must be (N, D), (H, N, D) or (B, H, N, D)");
    }
    return Tensor.of(floats != null ? floats : toFloatArray(), shape);
  }

  @Override
  public String toString() {
    return "NpyArray[" + dtype.descr() + " " + Arrays.toString(shape) + "]";
  }
}
