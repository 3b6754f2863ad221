package dev.flashattn4j.viz.schedule;

import dev.flashattn4j.viz.render.Canvas;
import dev.flashattn4j.viz.render.Palette;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;
import java.util.List;

/** The bottom-right of a frame: the pseudo-code, the lines of the current step highlighted. */
final class CodePanel {

  static final Color HIGHLIGHT = new Color(0xFF, 0xF0, 0xA8);

  private CodePanel() {}

  static void paint(Canvas canvas, PseudoCode code, List<Integer> current) {
    Graphics2D g = canvas.graphics();
    double x = ScheduleLayout.CODE_X;
    double y = ScheduleLayout.BOTTOM_Y + 8;
    g.setColor(Palette.INK);
    canvas.text(code.name(), x, y, Canvas.font(Font.BOLD, 15f));
    double lineH = Math.min(15.5, (ScheduleLayout.HEIGHT - 12 - y - 6) / code.lines().size());
    Font font = Canvas.font(Font.PLAIN, (float) Math.min(12.5, lineH * 0.82));
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
      double w = canvas.width(code.line(k), f);
      double avail = width - 30;
      canvas.text(
          code.line(k),
          x + 26,
          base,
          w > avail ? f.deriveFont((float) (f.getSize2D() * avail / w)) : f);
    }
  }
}
