package dev.flashattn4j.viz.schedule;

import dev.flashattn4j.viz.render.Canvas;
import dev.flashattn4j.viz.render.Palette;
import dev.flashattn4j.viz.render.RichText;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;
import java.util.List;

/**
 * The bottom of a frame, across its width: the pseudo-code with its sub- and superscripts set
 * ({@link RichText}), the lines of the current step highlighted.
 */
final class CodePanel {

  static final Color HIGHLIGHT = new Color(0xFF, 0xF0, 0xA8);

  private CodePanel() {}

  static void paint(Canvas canvas, ScheduleLayout layout, PseudoCode code, List<Integer> current) {
    Graphics2D g = canvas.graphics();
    double x = ScheduleLayout.HBM_X + 4;
    double y = layout.codeY() + 8;
    g.setColor(Palette.INK);
    canvas.text(code.name(), x - 4, y, Canvas.font(Font.BOLD, 15f));
    double lineH = layout.codeLineHeight();
    Font font = Canvas.font(Font.PLAIN, 13f);
    Font bold = font.deriveFont(Font.BOLD);
    double width = ScheduleLayout.WIDTH - 20 - x;
    for (int k = 1; k <= code.lines().size(); k++) {
      double base = y + 8 + k * lineH;
      boolean on = current.contains(k);
      if (on) {
        g.setColor(HIGHLIGHT);
        g.fill(new Rectangle2D.Double(x - 4, base - lineH * 0.78, width + 4, lineH));
      }
      g.setColor(on ? Palette.INK : Palette.MUTED);
      canvas.text(String.format("%2d", k), x, base, on ? bold : font);
      g.setColor(on ? Palette.INK : Palette.MUTED);
      Font f = on ? bold : font;
      double w = RichText.width(g, code.line(k), f);
      double avail = width - 30;
      RichText.draw(
          g,
          code.line(k),
          x + 26,
          base,
          w > avail ? f.deriveFont((float) (f.getSize2D() * avail / w)) : f);
    }
  }
}
