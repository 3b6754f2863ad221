package dev.flashattn4j.viz.schedule;

import dev.flashattn4j.viz.render.Canvas;
import dev.flashattn4j.viz.render.NumberText;
import dev.flashattn4j.viz.render.Palette;
import dev.flashattn4j.viz.render.RichText;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;

/**
 * Below the HBM arrays: the HBM reads and writes counted so far (with bars against the whole run
 * and a line for standard attention), what skipping the tiles no row sees saved (or, for Algorithm
 * 1, which does not skip them, what they cost), and the legend of the colours.
 */
final class CounterPanel {

  private static final double X = 20;
  private static final double BAR_W = 300;

  private CounterPanel() {}

  /** The height the panel takes for {@code trace}. */
  static double height(ScheduleTrace trace) {
    double h = 8 + 28 + 28 + 26 + 34 + 48 + 12;
    if (trace.savedReads() > 0) {
      h += 50;
    } else if (trace.maskedReads() > 0 || trace.maskedWrites() > 0) {
      h += 26;
    }
    return h;
  }

  static void paint(
      Canvas canvas,
      ScheduleLayout layout,
      ScheduleTrace trace,
      long reads,
      long writes,
      long saved) {
    Graphics2D g = canvas.graphics();
    double y = layout.countersY() + 8;
    g.setColor(Palette.INK);
    canvas.text("HBM traffic so far (elements)", X, y, Canvas.font(Font.BOLD, 16f));
    long scale = Math.max(1, Math.max(trace.totalReads(), trace.totalWrites()));
    y += 28;
    bar(canvas, "reads", reads, trace.totalReads(), scale, y, Palette.BLUE);
    y += 28;
    bar(canvas, "writes", writes, trace.totalWrites(), scale, y, Palette.VERMILLION);
    Font small = Canvas.font(Font.PLAIN, 13f);
    if (trace.savedReads() > 0) {
      y += 28;
      bar(canvas, "saved", saved, trace.savedReads(), scale, y, Palette.GREEN);
      y += 22;
      g.setColor(Palette.MUTED);
      RichText.draw(
          g, "saved: the reads of K_j, V_j for the tiles no row sees, skipped", X, y, small);
    } else if (trace.maskedReads() > 0 || trace.maskedWrites() > 0) {
      y += 26;
      g.setColor(Palette.MUTED);
      canvas.text(
          "tiles no row sees cost "
              + NumberText.count(trace.maskedReads())
              + " reads + "
              + NumberText.count(trace.maskedWrites())
              + " writes: Algorithm 1 does not skip them; the fast kernel does",
          X,
          y,
          small);
    }
    y += 26;
    g.setColor(Palette.MUTED);
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
    RichText.draw(g, text, X + 36, y, Canvas.font(Font.PLAIN, 14f));
  }
}
