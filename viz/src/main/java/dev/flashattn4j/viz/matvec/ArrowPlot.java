package dev.flashattn4j.viz.matvec;

import dev.flashattn4j.viz.render.Canvas;
import dev.flashattn4j.viz.render.Palette;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;

/** A square piece of the plane drawn into a pixel box: grid, axes, ticks, arrows. */
final class ArrowPlot {

  private static final Font LABEL_FONT = Canvas.font(Font.BOLD, 15f);

  private final Canvas canvas;
  private final Rectangle box;
  private final PlotRange range;

  /** The boxes of the labels drawn so far (for tests: no axis may cross one). */
  private final java.util.List<java.awt.geom.Rectangle2D> labels = new java.util.ArrayList<>();

  ArrowPlot(Canvas canvas, Rectangle box, PlotRange range) {
    this.canvas = canvas;
    this.box = box;
    this.range = range;
  }

  double px(double x) {
    return box.x + (x - range.xmin()) / range.span() * box.width;
  }

  double py(double y) {
    return box.y + box.height - (y - range.ymin()) / range.span() * box.height;
  }

  /** The boxes of the labels drawn so far. */
  java.util.List<java.awt.geom.Rectangle2D> labels() {
    return java.util.List.copyOf(labels);
  }

  /** The grid at every tick, the two axes through the origin, tick labels and axis names. */
  void drawAxes() {
    Graphics2D g = canvas.graphics();
    Font tickFont = Canvas.font(Font.PLAIN, 13f);
    int ticks = (int) Math.round(range.span() / range.step());
    g.setStroke(new BasicStroke(1f));
    for (int t = 0; t <= ticks; t++) {
      double x = range.xmin() + t * range.step();
      double y = range.ymin() + t * range.step();
      g.setColor(Palette.GRID);
      g.draw(new Line2D.Double(px(x), box.y, px(x), box.y + box.height));
      g.draw(new Line2D.Double(box.x, py(y), box.x + box.width, py(y)));
      g.setColor(Palette.MUTED);
      canvas.centred(MatVec.format(x), px(x), box.y + box.height + 16, tickFont);
      String ly = MatVec.format(y);
      canvas.text(ly, box.x - 8 - canvas.width(ly, tickFont), py(y) + 5, tickFont);
    }
    g.setColor(Palette.MUTED);
    g.draw(new Rectangle(box));
    g.setColor(Palette.INK);
    g.setStroke(new BasicStroke(1.6f));
    if (range.xmin() <= 0 && range.xmax() >= 0) {
      g.draw(new Line2D.Double(px(0), box.y, px(0), box.y + box.height));
    }
    if (range.ymin() <= 0 && range.ymax() >= 0) {
      g.draw(new Line2D.Double(box.x, py(0), box.x + box.width, py(0)));
    }
    Font axisFont = Canvas.font(Font.ITALIC, 16f);
    canvas.centred("x", box.x + box.width / 2.0, box.y + box.height + 40, axisFont);
    canvas.centred("y", box.x - 44, box.y + box.height / 2.0, axisFont);
  }

  /**
   * An arrow from {@code from} to {@code to} (plane coordinates) with a label near its tip.
   *
   * @param dashed a faded, dashed arrow (context rather than the subject of the frame)
   */
  void arrow(double[] from, double[] to, Color colour, float width, boolean dashed, String label) {
    Graphics2D g = canvas.graphics();
    double x0 = px(from[0]);
    double y0 = py(from[1]);
    double x1 = px(to[0]);
    double y1 = py(to[1]);
    double len = Math.hypot(x1 - x0, y1 - y0);
    g.setColor(colour);
    if (len < 1) {
      g.fill(new java.awt.geom.Ellipse2D.Double(x0 - 5, y0 - 5, 10, 10));
    } else {
      double head = Math.min(18 + width, len * 0.5);
      double ux = (x1 - x0) / len;
      double uy = (y1 - y0) / len;
      float[] dash = dashed ? new float[] {9f, 6f} : null;
      g.setStroke(
          new BasicStroke(width, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, dash, 0f));
      g.draw(new Line2D.Double(x0, y0, x1 - ux * head * 0.8, y1 - uy * head * 0.8));
      Path2D.Double tip = new Path2D.Double();
      tip.moveTo(x1, y1);
      tip.lineTo(x1 - ux * head - uy * head * 0.42, y1 - uy * head + ux * head * 0.42);
      tip.lineTo(x1 - ux * head + uy * head * 0.42, y1 - uy * head - ux * head * 0.42);
      tip.closePath();
      g.fill(tip);
    }
    if (label != null) {
      // beside the tip, on the side away from the arrow's body
      double w = canvas.width(label, LABEL_FONT);
      label(label, colour, x1 + (x1 >= x0 ? 10 : -10 - w), y1 + (y1 <= y0 ? -8 : 20));
    }
  }

  /**
   * A label beside the middle of the arrow from {@code from} to {@code to}, on the side of the
   * arrow away from the plane point {@code away}.
   */
  void midLabel(double[] from, double[] to, double[] away, String text, Color colour) {
    double x0 = px(from[0]);
    double y0 = py(from[1]);
    double x1 = px(to[0]);
    double y1 = py(to[1]);
    double len = Math.max(1e-9, Math.hypot(x1 - x0, y1 - y0));
    double nx = -(y1 - y0) / len;
    double ny = (x1 - x0) / len;
    double away0 = nx * (px(away[0]) - x0) + ny * (py(away[1]) - y0) > 0 ? -1 : 1;
    double w = canvas.width(text, LABEL_FONT);
    // the first offset, on the side away from `away` and then on the other, whose label box no
    // axis crosses; the nearest one on the preferred side if every offset is crossed
    double[] first = null;
    for (double side : new double[] {away0, -away0}) {
      for (double offset = 22; offset <= 70; offset += 12) {
        double mx = (x0 + x1) / 2 + side * nx * offset;
        double my = (y0 + y1) / 2 + side * ny * offset;
        // anchor the box's near edge at the offset point
        double lx = side * nx >= 0 ? mx : mx - w;
        double ly = side * ny >= 0 ? my + 14 : my;
        double[] at = clamp(lx, ly, w);
        if (first == null) {
          first = at;
        }
        if (!crossesAxis(at[0], at[1], w)) {
          label(text, colour, at[0], at[1]);
          return;
        }
      }
    }
    label(text, colour, first[0], first[1]);
  }

  /** The label box's left end and baseline, kept inside the plot. */
  private double[] clamp(double x, double baseline, double w) {
    return new double[] {
      Math.max(box.x + 4, Math.min(box.x + box.width - w - 4, x)),
      Math.max(box.y + 18, Math.min(box.y + box.height - 6, baseline))
    };
  }

  /** True when an axis line runs through the box of a label of width w at (x, baseline). */
  boolean crossesAxis(double x, double baseline, double w) {
    double top = baseline - 15 - 2;
    double bottom = baseline + 5 + 2;
    boolean horizontal = range.ymin() <= 0 && range.ymax() >= 0;
    boolean vertical = range.xmin() <= 0 && range.xmax() >= 0;
    return (horizontal && py(0) >= top && py(0) <= bottom)
        || (vertical && px(0) >= x - 5 && px(0) <= x + w + 5);
  }

  private void label(String text, Color colour, double x, double baseline) {
    Graphics2D g = canvas.graphics();
    double w = canvas.width(text, LABEL_FONT);
    double[] at = clamp(x, baseline, w);
    double lx = at[0];
    double ly = at[1];
    labels.add(new java.awt.geom.Rectangle2D.Double(lx - 3, ly - 15, w + 6, 20));
    g.setColor(new Color(255, 255, 255, 215));
    g.fill(new java.awt.geom.RoundRectangle2D.Double(lx - 3, ly - 15, w + 6, 20, 6, 6));
    g.setColor(colour.darker());
    canvas.text(text, lx, ly, LABEL_FONT);
  }
}
