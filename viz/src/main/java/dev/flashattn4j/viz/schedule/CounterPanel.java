package dev.flashattn4j.viz.schedule;

import dev.flashattn4j.viz.render.Canvas;
import dev.flashattn4j.viz.render.NumberText;
import dev.flashattn4j.viz.render.Palette;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;

/**
 * The bottom-left of a frame: the HBM reads and writes counted so far (with bars against the whole
 * run and a line for standard attention) and the legend of the colours.
 */
final class CounterPanel {

  private static final double X = 20;
  private static final double BAR_W = 300;

  private CounterPanel() {}

  static void paint(Canvas canvas, ScheduleTrace trace, long reads, long writes) {
    Graphics2D g = canvas.graphics();
    double y = ScheduleLayout.BOTTOM_Y + 8;
    g.setColor(Palette.INK);
    canvas.text("HBM traffic so far (elements)", X, y, Canvas.font(Font.BOLD, 16f));
    long scale = Math.max(1, Math.max(trace.totalReads(), trace.totalWrites()));
    y += 28;
    bar(canvas, "reads", reads, trace.totalReads(), scale, y, Palette.BLUE);
    y += 28;
    bar(canvas, "writes", writes, trace.totalWrites(), scale, y, Palette.VERMILLION);
    y += 26;
    g.setColor(Palette.MUTED);
    Font small = Canvas.font(Font.PLAIN, 13f);
    canvas.text(
        "standard attention (Algorithm 0) moves "
            + NumberText.count(trace.standardReads())
            + " reads + "
            + NumberText.count(trace.standardWrites())
            + " writes",
        X,
        y,
        small);
    y += 34;
    legend(
        canvas, y, Palette.QUERY_TINT, null, "query block i: Q_i and its rows of O, ℓ, m (or L)");
    legend(canvas, y + 24, Palette.KEY_TINT, null, "key block j: K_j, V_j");
    legend(canvas, y + 48, Palette.CELL, Palette.WRITE_OUTLINE, "written back to HBM in this step");
  }

  private static void bar(
      Canvas canvas, String name, long now, long total, long scale, double y, Color colour) {
    Graphics2D g = canvas.graphics();
    Font font = Canvas.font(Font.PLAIN, 15f);
    g.setColor(Palette.INK);
    canvas.text(name, X, y, font);
    double bx = X + 60;
    g.setColor(Palette.GRID);
    g.fill(new Rectangle2D.Double(bx, y - 13, BAR_W * total / scale, 16));
    g.setColor(colour);
    g.fill(new Rectangle2D.Double(bx, y - 13, BAR_W * now / scale, 16));
    g.setColor(Palette.INK);
    canvas.text(
        NumberText.count(now) + " of " + NumberText.count(total),
        bx + BAR_W + 10,
        y,
        Canvas.font(Font.BOLD, 15f));
  }

  private static void legend(Canvas canvas, double y, Color fill, Color outline, String text) {
    Graphics2D g = canvas.graphics();
    Rectangle2D.Double box = new Rectangle2D.Double(X, y - 13, 26, 16);
    g.setColor(fill);
    g.fill(box);
    if (outline != null) {
      g.setColor(outline);
      g.setStroke(new BasicStroke(3f));
      g.draw(box);
    }
    g.setColor(Palette.INK);
    canvas.text(text, X + 36, y, Canvas.font(Font.PLAIN, 14f));
  }
}
