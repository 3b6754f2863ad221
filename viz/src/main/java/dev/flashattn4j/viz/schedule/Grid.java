package dev.flashattn4j.viz.schedule;

import java.util.Arrays;

/**
 * A named matrix to draw: an array in HBM, a block in SRAM, a column of statistics.
 *
 * @param name what the picture calls it (Q, K_j, ℓ_i^new, …)
 * @param rows number of rows
 * @param cols number of columns
 * @param values the entries, (rows, cols) row-major; −∞ stands for a masked score or m = −∞
 */
public record Grid(String name, int rows, int cols, float[] values) {

  public Grid {
    if (rows < 0 || cols < 0 || values.length != rows * cols) {
      throw new IllegalArgumentException(
          name + ": " + values.length + " values for " + rows + "×" + cols);
    }
  }

  /** A column vector (n × 1). */
  public static Grid column(String name, float[] values) {
    return new Grid(name, values.length, 1, values);
  }

  public float get(int r, int c) {
    return values[r * cols + c];
  }

  /** Rows [start, end) as a new grid with another name. */
  public Grid rows(String newName, int start, int end) {
    return new Grid(
        newName, end - start, cols, Arrays.copyOfRange(values, start * cols, end * cols));
  }

  /** A copy with rows [start, start + block.rows) replaced by {@code block}. */
  public Grid with(int start, Grid block) {
    float[] v = values.clone();
    System.arraycopy(block.values, 0, v, start * cols, block.values.length);
    return new Grid(name, rows, cols, v);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Grid g
        && name.equals(g.name)
        && rows == g.rows
        && cols == g.cols
        && Arrays.equals(values, g.values);
  }

  @Override
  public int hashCode() {
    return (name.hashCode() * 31 + rows) * 31 + Arrays.hashCode(values);
  }

  @Override
  public String toString() {
    return name + "[" + rows + "×" + cols + "]";
  }
}
