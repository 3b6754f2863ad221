package dev.flashattn4j.viz.matvec;

import java.util.Arrays;

/**
 * A matrix–vector product A·v seen as a sum of the columns of A, each scaled by its entry of v: A·v
 * = v₁·a₁ + v₂·a₂ + …
 *
 * @param a the 2×n matrix A, row-major ({@code a.length == 2 * v.length})
 * @param v the vector v (n entries)
 */
public record MatVec(double[] a, double[] v) {

  /** The seed notebook's example: A = [[2, 1], [1, 3]], v = [1, 2], A·v = [4, 7]. */
  public static final MatVec SEED = new MatVec(new double[] {2, 1, 1, 3}, new double[] {1, 2});

  public MatVec {
    if (v.length < 1) {
      throw new IllegalArgumentException("v needs at least one entry");
    }
    if (a.length != 2 * v.length) {
      throw new IllegalArgumentException(
          "A must be 2×"
              + v.length
              + " (2·"
              + v.length
              + " = "
              + 2 * v.length
              + " numbers, row by row) to multiply a vector of "
              + v.length
              + ", not "
              + a.length
              + " numbers");
    }
    for (double x : a) {
      requireFinite(x, "A");
    }
    for (double x : v) {
      requireFinite(x, "v");
    }
    a = a.clone();
    v = v.clone();
  }

  /**
   * Parses a comma-separated list of numbers (a flag's value).
   *
   * @param what the flag, for the error message
   */
  public static double[] parse(String text, String what) {
    String[] parts = text.trim().split("\\s*,\\s*", -1);
    double[] out = new double[parts.length];
    for (int k = 0; k < parts.length; k++) {
      try {
        out[k] = Double.parseDouble(parts[k]);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            what + " must be numbers separated by commas (e.g. 2,1,1,3), not '" + text + "'");
      }
      requireFinite(out[k], what);
    }
    return out;
  }

  public int columns() {
    return v.length;
  }

  /** Column c of A: (a[c], a[n + c]). */
  public double[] column(int c) {
    return new double[] {a[c], a[columns() + c]};
  }

  /** v_c times column c of A. */
  public double[] scaledColumn(int c) {
    double[] col = column(c);
    return new double[] {v[c] * col[0], v[c] * col[1]};
  }

  /** The sum of the scaled columns of A up to and including c (the tip of the c-th arrow). */
  public double[] partialSum(int c) {
    double[] s = new double[2];
    for (int k = 0; k <= c; k++) {
      double[] sc = scaledColumn(k);
      s[0] += sc[0];
      s[1] += sc[1];
    }
    return s;
  }

  /** A·v. */
  public double[] product() {
    return partialSum(columns() - 1);
  }

  @Override
  public double[] a() {
    return a.clone();
  }

  @Override
  public double[] v() {
    return v.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof MatVec m && Arrays.equals(a, m.a) && Arrays.equals(v, m.v);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(a) + Arrays.hashCode(v);
  }

  @Override
  public String toString() {
    return "MatVec[a=" + Arrays.toString(a) + ", v=" + Arrays.toString(v) + "]";
  }

  private static void requireFinite(double x, String what) {
    if (!Double.isFinite(x)) {
      throw new IllegalArgumentException(what + " must hold finite numbers, not " + x);
    }
  }

  /** A number as people write it: 2 rather than 2.0, at most 3 decimals. */
  public static String format(double x) {
    if (x == Math.rint(x) && Math.abs(x) < 1e15) {
      return Long.toString((long) x);
    }
    String s = String.format(java.util.Locale.ROOT, "%.3f", x);
    s = s.replaceAll("0+$", "");
    return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
  }

  /** A vector as [x, y]. */
  public static String format(double[] xy) {
    StringBuilder sb = new StringBuilder("[");
    for (int k = 0; k < xy.length; k++) {
      sb.append(k == 0 ? "" : ", ").append(format(xy[k]));
    }
    return sb.append(']').toString();
  }
}
