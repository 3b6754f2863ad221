package dev.flashattn4j.viz.render;

import java.awt.Font;
import java.awt.Graphics2D;
import java.util.ArrayList;
import java.util.List;

/**
 * Text with subscripts and superscripts, written as in TeX: {@code m_i^new} is m with subscript i
 * and superscript new, {@code S_ij} is S with subscript ij, {@code e^{m_i − m_i^new}} has a
 * superscript that holds subscripts of its own, {@code m_i^(j−1)} a superscript in parentheses. A
 * script is a group in braces (drawn without them), a group in parentheses (drawn with them), or
 * else a run of letters and digits (so {@code S_ij),} ends at the parenthesis). Scripts nest, each
 * level smaller and further from the baseline. The step-through page's {@code rich()} reads the
 * same notation.
 */
public final class RichText {

  /** A piece of text at one size and height: size and rise relative to the base font. */
  record Run(String text, double scale, double rise) {}

  private static final double SCRIPT_SCALE = 0.72;
  private static final double SUB_DROP = 0.28;
  private static final double SUP_RISE = 0.38;

  private RichText() {}

  /** Draws {@code text} with its left end at x and its baseline at y; returns its width. */
  public static double draw(Graphics2D g, String text, double x, double y, Font font) {
    return layout(g, text, x, y, font, true);
  }

  /** The width {@code text} takes in {@code font}. */
  public static double width(Graphics2D g, String text, Font font) {
    return layout(g, text, 0, 0, font, false);
  }

  /** Draws {@code text} centred on x, baseline at y. */
  public static void centred(Graphics2D g, String text, double cx, double y, Font font) {
    draw(g, text, cx - width(g, text, font) / 2, y, font);
  }

  /** {@code text} without its markup: what a reader sees, for tests and plain-text output. */
  public static String plain(String text) {
    StringBuilder sb = new StringBuilder();
    for (Run r : runs(text)) {
      sb.append(r.text);
    }
    return sb.toString();
  }

  private static double layout(
      Graphics2D g, String text, double x, double y, Font font, boolean paint) {
    double cx = x;
    for (Run run : runs(text)) {
      Font f = run.scale == 1 ? font : font.deriveFont((float) (font.getSize2D() * run.scale));
      if (paint) {
        g.setFont(f);
        g.drawString(run.text, (float) cx, (float) (y - run.rise * font.getSize2D()));
      }
      cx += g.getFontMetrics(f).getStringBounds(run.text, g).getWidth();
    }
    return cx - x;
  }

  /** The runs of {@code text}, in order. */
  static List<Run> runs(String text) {
    List<Run> runs = new ArrayList<>();
    parse(text, 0, text.length(), 1, 0, runs);
    return runs;
  }

  /** Parses text[from, to) at one scale and rise into runs. */
  private static void parse(String t, int from, int to, double scale, double rise, List<Run> out) {
    StringBuilder cur = new StringBuilder();
    int k = from;
    while (k < to) {
      char c = t.charAt(k);
      if ((c == '_' || c == '^') && k + 1 < to) {
        flush(out, cur, scale, rise);
        double s = scale * SCRIPT_SCALE;
        double r = c == '_' ? rise - SUB_DROP * scale : rise + SUP_RISE * scale;
        int start = k + 1;
        char open = t.charAt(start);
        if (open == '{' || open == '(') {
          int end = closing(t, start, to);
          if (open == '{') {
            parse(t, start + 1, end, s, r, out);
          } else {
            parse(t, start, Math.min(end + 1, to), s, r, out);
          }
          k = Math.min(end + 1, to);
        } else {
          int end = start;
          while (end < to && isScriptChar(t.charAt(end))) {
            end++;
          }
          if (end == start) { // nothing to raise: the '_' or '^' is a character
            cur.append(c);
            k++;
            continue;
          }
          parse(t, start, end, s, r, out);
          k = end;
        }
      } else {
        cur.append(c);
        k++;
      }
    }
    flush(out, cur, scale, rise);
  }

  /** The index of the bracket that closes the one at {@code open}, or {@code to} when none does. */
  private static int closing(String t, int open, int to) {
    char o = t.charAt(open);
    char c = o == '{' ? '}' : ')';
    int depth = 0;
    for (int k = open; k < to; k++) {
      if (t.charAt(k) == o) {
        depth++;
      } else if (t.charAt(k) == c && --depth == 0) {
        return k;
      }
    }
    return to;
  }

  /**
   * Letters, digits and combining marks continue a script; modifier letters (ʲ, ᵀ), which are
   * already raised, and everything else end it.
   */
  private static boolean isScriptChar(char c) {
    int type = Character.getType(c);
    return (Character.isLetterOrDigit(c) && type != Character.MODIFIER_LETTER)
        || type == Character.NON_SPACING_MARK;
  }

  private static void flush(List<Run> runs, StringBuilder cur, double scale, double rise) {
    if (!cur.isEmpty()) {
      runs.add(new Run(cur.toString(), scale, rise));
      cur.setLength(0);
    }
  }
}
