package dev.flashattn4j.viz.render;

/** Unicode subscript digits, for names like a₁ and K₁₂. */
public final class Subscripts {

  private static final String DIGITS = "₀₁₂₃₄₅₆₇₈₉";

  private Subscripts() {}

  /** {@code n} (≥ 0) in subscript digits. */
  public static String of(int n) {
    String s = Integer.toString(n);
    StringBuilder sb = new StringBuilder(s.length());
    for (int k = 0; k < s.length(); k++) {
      char c = s.charAt(k);
      sb.append(c == '-' ? '₋' : DIGITS.charAt(c - '0'));
    }
    return sb.toString();
  }
}
