package dev.flashattn4j.viz.render;

import java.awt.Font;
import java.awt.Graphics2D;
import java.util.ArrayList;
import java.util.List;

/**
 * Names with subscripts and superscripts, written as in TeX: {@code m_i^new} is m with subscript i
 * and superscript new, {@code S_ij} is S with subscript ij, {@code m_i^(j−1)} has a superscript in
 * parentheses. A sub- or superscript runs to the next space, '_' or '^'.
 */
public final class RichText {

  private record Run(String text, int shift) {} // shift: 0 base, -1 sub, +1 super

  private RichText() {}

  /** Draws {@code name} with its left end at x and its baseline at y; returns its width. */
  public static double draw(Graphics2D g, String name, double x, double y, Font font) {
    return layout(g, name, x, y, font, true);
  }

  /** The width {@code name} takes in {@code font}. */
  public static double width(Graphics2D g, String name, Font font) {
    return layout(g, name, 0, 0, font, false);
  }

  /** Draws {@code name} centred on x, baseline at y. */
  public static void centred(Graphics2D g, String name, double cx, double y, Font font) {
    draw(g, name, cx - width(g, name, font) / 2, y, font);
  }

  private static double layout(
      Graphics2D g, String name, double x, double y, Font font, boolean paint) {
    Font small = font.deriveFont(font.getSize2D() * 0.72f);
    double cx = x;
    for (Run run : runs(name)) {
      Font f = run.shift == 0 ? font : small;
      double dy =
          run.shift == 0 ? 0 : run.shift < 0 ? font.getSize2D() * 0.28 : -font.getSize2D() * 0.38;
      if (paint) {
        g.setFont(f);
        g.drawString(run.text, (float) cx, (float) (y + dy));
      }
      cx += g.getFontMetrics(f).getStringBounds(run.text, g).getWidth();
    }
    return cx - x;
  }

  private static List<Run> runs(String name) {
    List<Run> runs = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    int shift = 0;
    for (int k = 0; k < name.length(); k++) {
      char c = name.charAt(k);
      if (c == '_' || c == '^') {
        flush(runs, cur, shift);
        shift = c == '_' ? -1 : 1;
      } else if (c == ' ' && shift != 0) {
        flush(runs, cur, shift);
        shift = 0;
        cur.append(c);
      } else {
        cur.append(c);
      }
    }
    flush(runs, cur, shift);
    return runs;
  }

  private static void flush(List<Run> runs, StringBuilder cur, int shift) {
    if (!cur.isEmpty()) {
      runs.add(new Run(cur.toString(), shift));
      cur.setLength(0);
    }
  }
}
