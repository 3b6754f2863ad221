package dev.flashattn4j.viz.render;

import java.util.Locale;

/** Numbers in cells: as many decimals as fit, −∞ for minus infinity. */
public final class NumberText {

  private NumberText() {}

  /** {@code x} with {@code decimals} decimals (−∞, ∞, NaN spelled out). */
  public static String format(double x, int decimals) {
    if (x == Double.NEGATIVE_INFINITY) {
      return "−∞";
    }
    if (x == Double.POSITIVE_INFINITY) {
      return "∞";
    }
    if (Double.isNaN(x)) {
      return "NaN";
    }
    String s = String.format(Locale.ROOT, "%." + decimals + "f", x);
    if (s.startsWith("-")) {
      // −0.00 reads as a sign error; a real minus sign otherwise
      s = s.matches("-0\\.?0*") ? s.substring(1) : "−" + s.substring(1);
    }
    return s;
  }

  /** A count with thousands separators: 12,345. */
  public static String count(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }

  /** A small non-negative number in scientific notation: 2.98e−08. */
  public static String scientific(double x) {
    return String.format(Locale.ROOT, "%.2e", x).replace("-", "−");
  }
}
