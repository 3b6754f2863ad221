package dev.flashattn4j.viz.chart;

import java.text.FieldPosition;
import java.text.NumberFormat;
import java.text.ParsePosition;

/** Tick labels of a log₁₀ axis: 10⁶ for powers of ten, 2.5·10⁶ otherwise. */
final class PowerFormat extends NumberFormat {

  private static final long serialVersionUID = 1L;
  private static final String SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹";

  @Override
  public StringBuffer format(double x, StringBuffer to, FieldPosition pos) {
    if (!(x > 0) || Double.isInfinite(x)) {
      return to.append(x);
    }
    int e = (int) Math.floor(Math.log10(x) + 1e-9);
    double mantissa = x / Math.pow(10, e);
    if (Math.abs(mantissa - Math.rint(mantissa)) < 1e-6) {
      mantissa = Math.rint(mantissa);
    }
    if (mantissa != 1) {
      to.append(
              mantissa == Math.rint(mantissa)
                  ? Long.toString((long) mantissa)
                  : String.format(java.util.Locale.ROOT, "%.2g", mantissa))
          .append('·');
    }
    to.append("10");
    String digits = Integer.toString(e);
    for (char c : digits.toCharArray()) {
      to.append(c == '-' ? '⁻' : SUPERSCRIPTS.charAt(c - '0'));
    }
    return to;
  }

  @Override
  public StringBuffer format(long x, StringBuffer to, FieldPosition pos) {
    return format((double) x, to, pos);
  }

  @Override
  public Number parse(String source, ParsePosition pos) {
    throw new UnsupportedOperationException("tick labels are not parsed");
  }
}
