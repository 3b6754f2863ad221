package dev.flashattn4j.tensor;

import java.util.Arrays;

/**
 * One tensor of a safetensors file, as its header describes it (already checked against the file).
 *
 * @param name the tensor's name, e.g. {@code model.layers.0.self_attn.q_proj.weight}
 * @param dtype its element type
 * @param shape its dimensions, outermost first (empty for a scalar); a copy is kept and given
 * @param begin the offset of its first byte in the data region (after the header)
 * @param end one past its last byte: {@code end − begin = product(shape) · dtype.byteSize()}
 */
public record SafetensorsEntry(
    String name, SafetensorsDtype dtype, long[] shape, long begin, long end) {

  public SafetensorsEntry {
    shape = shape.clone();
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** Number of elements: the product of the shape (1 for a scalar). */
  public long elements() {
    long n = 1;
    for (long s : shape) {
      n *= s;
    }
    return n;
  }

  /** Bytes of data. */
  public long byteSize() {
    return end - begin;
  }

  /** Rank: the number of dimensions. */
  public int rank() {
    return shape.length;
  }

  /** Dimension {@code i}, outermost first. */
  public long dim(int i) {
    return shape[i];
  }

  /** "bf16 [32, 64]". */
  public String describe() {
    return dtype.lowerName() + " " + Arrays.toString(shape);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SafetensorsEntry e
        && name.equals(e.name)
        && dtype == e.dtype
        && Arrays.equals(shape, e.shape)
        && begin == e.begin
        && end == e.end;
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return name + ": " + describe() + " at [" + begin + ", " + end + ")";
  }
}
