package dev.flashattn4j.tensor;

import dev.flashattn4j.internal.Checks;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A float32 tensor viewed as (B, H, N, D) over a {@code float[]}: the last dimension is contiguous,
 * the other three have explicit strides, so that a tensor can be a view into a larger array (a
 * packed QKV projection, one sequence of a packed batch, the (B, N, H, D) layout of a model)
 * without a copy. This is FlashAttention's params struct ({@code q_batch_stride, q_head_stride,
 * q_row_stride}) in Java.
 *
 * <p>Tensors of rank 2 (N, D) and 3 (H, N, D) are accepted and mean B = 1 (and H = 1); {@link
 * #shape()} keeps the rank the tensor was made with, so that results can be written back with the
 * caller's rank. A tensor does not own its array: views share it. A dimension argument ({@link
 * #narrow}, {@link #select}) counts in the view's own shape, outermost first.
 *
 * {@snippet file="dev/flashattn4j/snippets/CoreSnippetsTest.java" region="views"}
 */
public final class Tensor {

  private final float[] data;
  private final int offset;
  private final int batch;
  private final int heads;
  private final int rows;
  private final int cols;
  private final int batchStride;
  private final int headStride;
  private final int rowStride;
  private final int rank;

  private Tensor(
      float[] data,
      int offset,
      int rank,
      int batch,
      int heads,
      int rows,
      int cols,
      int batchStride,
      int headStride,
      int rowStride) {
    this.data = data;
    this.offset = offset;
    this.rank = rank;
    this.batch = batch;
    this.heads = heads;
    this.rows = rows;
    this.cols = cols;
    this.batchStride = batchStride;
    this.headStride = headStride;
    this.rowStride = rowStride;
  }

  /**
   * Wraps a row-major array.
   *
   * @param data the elements, row-major, {@code data.length} equal to the product of {@code shape}
   * @param shape (N, D), (H, N, D) or (B, H, N, D)
   */
  public static Tensor of(float[] data, int... shape) {
    Checks.notNull(data, "data");
    int[] s = checkShape(shape);
    long size = (long) s[0] * s[1] * s[2] * s[3];
    if (size != data.length) {
      throw new IllegalArgumentException(
          "data has "
              + data.length
              + " elements but shape "
              + Arrays.toString(shape)
              + " needs "
              + size);
    }
    return new Tensor(
        data, 0, shape.length, s[0], s[1], s[2], s[3], s[1] * s[2] * s[3], s[2] * s[3], s[3]);
  }

  /**
   * A float32 copy of a memory segment of float32 elements (an mmapped file, a native buffer), in
   * the platform's byte order. One copy: the kernels' micro-kernels read heap {@code float[]}
   * arrays (what C2 vectorises best), so a segment is read once into one.
   *
   * @param segment row-major float32 elements, exactly as many as the shape holds
   * @param shape (N, D), (H, N, D) or (B, H, N, D)
   * @throws IllegalArgumentException when the sizes differ
   */
  public static Tensor copyOf(MemorySegment segment, int... shape) {
    Checks.notNull(segment, "segment");
    int[] s = checkShape(shape);
    long size = (long) s[0] * s[1] * s[2] * s[3];
    if (segment.byteSize() != size * Float.BYTES) {
      throw new IllegalArgumentException(
          "the segment holds "
              + segment.byteSize()
              + " bytes but shape "
              + Arrays.toString(shape)
              + " needs "
              + size * Float.BYTES
              + " (float32)");
    }
    return of(segment.toArray(ValueLayout.JAVA_FLOAT), shape);
  }

  /**
   * A float32 copy of float16 (IEEE half) bit patterns, exactly widened. One copy, as for {@link
   * #copyOf(MemorySegment, int...)}; the paged KV cache keeps K and V in 16 bits itself.
   *
   * @param halves row-major float16 patterns
   */
  public static Tensor ofFloat16(short[] halves, int... shape) {
    Checks.notNull(halves, "halves");
    float[] f = new float[halves.length];
    for (int i = 0; i < f.length; i++) {
      f[i] = Float.float16ToFloat(halves[i]);
    }
    return of(f, shape);
  }

  /**
   * A float32 copy of bfloat16 bit patterns (the upper 16 bits of a float32), exactly widened.
   *
   * @param bits row-major bfloat16 patterns
   */
  public static Tensor ofBfloat16(short[] bits, int... shape) {
    Checks.notNull(bits, "bits");
    float[] f = new float[bits.length];
    for (int i = 0; i < f.length; i++) {
      f[i] = Float.intBitsToFloat(bits[i] << 16);
    }
    return of(f, shape);
  }

  /** A new zero tensor of the given shape ((N, D), (H, N, D) or (B, H, N, D)). */
  public static Tensor zeros(int... shape) {
    int[] s = checkShape(shape);
    long size = (long) s[0] * s[1] * s[2] * s[3];
    if (size > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "shape " + Arrays.toString(shape) + " has " + size + " elements, more than a float[]");
    }
    return of(new float[(int) size], shape);
  }

  /**
   * A new tensor with entries drawn uniformly from [low, high), in row-major order from {@code
   * random}: the inputs of demos and benchmarks ({@code uniform(r, 0, 1, N, d)} is NumPy's {@code
   * np.random.rand(N, d)} in spirit, not in bits).
   *
   * @param shape (N, D), (H, N, D) or (B, H, N, D)
   */
  public static Tensor uniform(SplittableRandom random, float low, float high, int... shape) {
    Checks.notNull(random, "random");
    Tensor t = zeros(shape);
    double width = (double) high - low;
    for (int i = 0; i < t.data.length; i++) {
      t.data[i] = (float) (low + random.nextDouble() * width);
    }
    return t;
  }

  /**
   * A strided view: element (b, h, n, i) lies at {@code data[offset + b*batchStride + h*headStride
   * + n*rowStride + i]}.
   *
   * @param shape (N, D), (H, N, D) or (B, H, N, D)
   * @param strides the strides of the dimensions before the last, as many as {@code shape.length -
   *     1}, outermost first; the last dimension has stride 1
   */
  public static Tensor view(float[] data, int offset, int[] shape, int[] strides) {
    Checks.notNull(data, "data");
    int[] s = checkShape(shape);
    Checks.notNull(strides, "strides");
    if (strides.length != shape.length - 1) {
      throw new IllegalArgumentException(
          "a rank-" + shape.length + " view needs " + (shape.length - 1) + " strides");
    }
    int[] st = new int[3];
    for (int k = 0; k < strides.length; k++) {
      if (strides[k] < 0) {
        throw new IllegalArgumentException("negative stride " + Arrays.toString(strides));
      }
      st[3 - strides.length + k] = strides[k];
    }
    if (offset < 0) {
      throw new IllegalArgumentException("negative offset " + offset);
    }
    boolean empty = s[0] == 0 || s[1] == 0 || s[2] == 0 || s[3] == 0;
    long last =
        (long) offset
            + (long) (s[0] - 1) * st[0]
            + (long) (s[1] - 1) * st[1]
            + (long) (s[2] - 1) * st[2]
            + s[3];
    if (!empty && last > data.length) {
      throw new IllegalArgumentException(
          "view of shape "
              + Arrays.toString(shape)
              + " with strides "
              + Arrays.toString(strides)
              + " at offset "
              + offset
              + " reaches element "
              + last
              + " of an array of "
              + data.length);
    }
    return new Tensor(data, offset, shape.length, s[0], s[1], s[2], s[3], st[0], st[1], st[2]);
  }

  /**
   * A (B, H, N, D) view of an array laid out as (B, N, H, D), the layout a linear projection
   * produces before the heads are split: no copy.
   */
  public static Tensor ofBnhd(float[] data, int batch, int rows, int heads, int cols) {
    Checks.notNull(data, "data");
    long size = (long) batch * rows * heads * cols;
    if (size != data.length) {
      throw new IllegalArgumentException(
          "data has " + data.length + " elements but (B, N, H, D) needs " + size);
    }
    return view(
        data,
        0,
        new int[] {batch, heads, rows, cols},
        new int[] {rows * heads * cols, cols, heads * cols});
  }

  private static int[] checkShape(int[] shape) {
    Checks.notNull(shape, "shape");
    if (shape.length < 2 || shape.length > 4) {
      throw new IllegalArgumentException(
          "shape " + Arrays.toString(shape) + " must be (N, D), (H, N, D) or (B, H, N, D)");
    }
    int[] s = {1, 1, 1, 1};
    for (int k = 0; k < shape.length; k++) {
      if (shape[k] < 0) {
        throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
      }
      s[4 - shape.length + k] = shape[k];
    }
    return s;
  }

  /** The backing array (shared, not copied). */
  public float[] data() {
    return data;
  }

  /** Index in {@link #data()} of element (0, 0, 0, 0). */
  public int offset() {
    return offset;
  }

  /** B. */
  public int batch() {
    return batch;
  }

  /** H. */
  public int heads() {
    return heads;
  }

  /** N. */
  public int rows() {
    return rows;
  }

  /** D, the contiguous dimension. */
  public int cols() {
    return cols;
  }

  /** Floats between consecutive batch entries. */
  public int batchStride() {
    return batchStride;
  }

  /** Floats between consecutive heads. */
  public int headStride() {
    return headStride;
  }

  /** Floats between consecutive rows. */
  public int rowStride() {
    return rowStride;
  }

  /** The rank this tensor was made with: 2, 3 or 4. */
  public int rank() {
    return rank;
  }

  /** The shape with the rank this tensor was made with. */
  public int[] shape() {
    int[] full = {batch, heads, rows, cols};
    return Arrays.copyOfRange(full, 4 - rank, 4);
  }

  /** Number of elements. */
  public long size() {
    return (long) batch * heads * rows * cols;
  }

  /** Index in {@link #data()} of element (b, h, n, 0): the start of a row. */
  public int rowOffset(int b, int h, int n) {
    return offset + b * batchStride + h * headStride + n * rowStride;
  }

  /** Element (b, h, n, i). */
  public float get(int b, int h, int n, int i) {
    return data[rowOffset(b, h, n) + i];
  }

  /** Sets element (b, h, n, i). */
  public void set(int b, int h, int n, int i, float value) {
    data[rowOffset(b, h, n) + i] = value;
  }

  /** True when the elements are row-major and packed from {@link #offset()} on. */
  public boolean isContiguous() {
    return rowStride == cols
        && (heads <= 1 || headStride == rows * cols)
        && (batch <= 1 || batchStride == heads * rows * cols);
  }

  /** A row-major copy of the elements, in (B, H, N, D) order. */
  public float[] toArray() {
    float[] out = new float[Math.toIntExact(size())];
    int p = 0;
    for (int b = 0; b < batch; b++) {
      for (int h = 0; h < heads; h++) {
        for (int n = 0; n < rows; n++) {
          System.arraycopy(data, rowOffset(b, h, n), out, p, cols);
          p += cols;
        }
      }
    }
    return out;
  }

  /** A contiguous copy with the same shape and rank. */
  public Tensor copy() {
    return of(toArray(), shape());
  }

  /** The same elements seen with another rank: (N, D) ↔ (1, N, D) ↔ (1, 1, N, D) and alike. */
  public Tensor withRank(int newRank) {
    if (newRank < 2 || newRank > 4) {
      throw new IllegalArgumentException("rank must be 2, 3 or 4, not " + newRank);
    }
    if ((newRank < 4 && batch != 1) || (newRank < 3 && heads != 1)) {
      throw new IllegalArgumentException(
          "shape " + Arrays.toString(shape()) + " cannot be seen with rank " + newRank);
    }
    return new Tensor(
        data, offset, newRank, batch, heads, rows, cols, batchStride, headStride, rowStride);
  }

  /**
   * Elements [start, start + length) of dimension {@code dim}, as a view of the same rank
   * (PyTorch's {@code narrow}): no copy.
   *
   * @param dim 0 to rank − 1, outermost first
   * @throws IllegalArgumentException when dim, start or length do not fit the shape
   */
  public Tensor narrow(int dim, int start, int length) {
    int at = internalDim(dim);
    int[] size = {batch, heads, rows, cols};
    if (start < 0 || length < 0 || (long) start + length > size[at]) {
      throw new IllegalArgumentException(
          "narrow("
              + dim
              + ", "
              + start
              + ", "
              + length
              + ") does not fit dimension "
              + dim
              + " of size "
              + size[at]
              + " in "
              + Arrays.toString(shape()));
    }
    int[] stride = {batchStride, headStride, rowStride, 1};
    size[at] = length;
    int newOffset = length == 0 ? offset : offset + start * stride[at];
    return new Tensor(
        data,
        newOffset,
        rank,
        size[0],
        size[1],
        size[2],
        size[3],
        batchStride,
        headStride,
        rowStride);
  }

  /**
   * Element {@code index} of dimension {@code dim}, with that dimension removed (PyTorch's {@code
   * select}): a view of rank − 1, no copy. The rank must stay at least 2, and the last dimension
   * (contiguous in every view) cannot be selected.
   *
   * @param dim 0 to rank − 2, outermost first
   * @throws IllegalArgumentException when dim or index do not fit
   */
  public Tensor select(int dim, int index) {
    if (rank == 2) {
      throw new IllegalArgumentException(
          "select needs rank 3 or 4 (a view has 2 to 4 dimensions), not "
              + Arrays.toString(shape()));
    }
    if (dim == rank - 1) {
      throw new IllegalArgumentException(
          "select cannot take the last dimension: its elements are the contiguous rows of a view");
    }
    Tensor one = narrow(dim, index, 1);
    if (index < 0 || index >= shape()[dim]) {
      throw new IllegalArgumentException(
          "index " + index + " is outside dimension " + dim + " of " + Arrays.toString(shape()));
    }
    // (size, stride) of B, H, N without the selected one, behind a new outermost dimension of 1
    int at = internalDim(dim);
    int[] size = {batch, heads, rows};
    int[] stride = {batchStride, headStride, rowStride};
    int[] newSize = {1, 1, 1};
    int[] newStride = new int[3];
    for (int i = 2, w = 2; i >= 0; i--) {
      if (i != at) {
        newSize[w] = size[i];
        newStride[w] = stride[i];
        w--;
      }
    }
    newStride[0] = newStride[1] * newSize[1];
    return new Tensor(
        data,
        one.offset,
        rank - 1,
        newSize[0],
        newSize[1],
        newSize[2],
        cols,
        newStride[0],
        newStride[1],
        newStride[2]);
  }

  /** The index in (B, H, N, D) of dimension {@code dim} of this rank. */
  private int internalDim(int dim) {
    if (dim < 0 || dim >= rank) {
      throw new IllegalArgumentException(
          "dimension " + dim + " is not in [0, " + rank + ") for " + Arrays.toString(shape()));
    }
    return 4 - rank + dim;
  }

  @Override
  public String toString() {
    return "Tensor" + Arrays.toString(shape());
  }
}
