package dev.flashattn4j.viz.schedule;

import dev.flashattn4j.viz.render.Canvas;
import dev.flashattn4j.viz.render.NumberText;
import dev.flashattn4j.viz.render.Palette;
import dev.flashattn4j.viz.render.RichText;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.geom.Line2D;
import java.awt.geom.Rectangle2D;

/**
 * Draws a {@link Grid} as a table of cells: each cell filled, thin borders while cells are big
 * enough to have them, the values written in while they fit (as many decimals as fit, none when not
 * even one digit fits), and the name on top.
 */
final class GridPainter {

  /** The fill of cell (r, c). */
  interface Fill {
    Color at(int r, int c);
  }

  /** Below this cell height or width no numbers are written. */
  static final double MIN_TEXT_CELL = 13;

  private GridPainter() {}

  /** The font size numbers get in cells of height {@code ch}. */
  static float fontSize(double ch) {
    return (float) Math.min(13, Math.max(8, ch * 0.46));
  }

  /**
   * Paints {@code grid} with its top-left cell at (x, y).
   *
   * @param maxDecimals the most decimals to write
   */
  static void paint(
      Canvas canvas,
      Grid grid,
      double x,
      double y,
      double cw,
      double ch,
      Fill fill,
      int maxDecimals) {
    Graphics2D g = canvas.graphics();
    for (int r = 0; r < grid.rows(); r++) {
      for (int c = 0; c < grid.cols(); c++) {
        g.setColor(fill.at(r, c));
        g.fill(new Rectangle2D.Double(x + c * cw, y + r * ch, cw, ch));
      }
    }
    if (cw >= 5 && ch >= 5) {
      g.setColor(Palette.CELL_BORDER);
      g.setStroke(new BasicStroke(1f));
      for (int r = 0; r <= grid.rows(); r++) {
        g.draw(new Line2D.Double(x, y + r * ch, x + grid.cols() * cw, y + r * ch));
      }
      for (int c = 0; c <= grid.cols(); c++) {
        g.draw(new Line2D.Double(x + c * cw, y, x + c * cw, y + grid.rows() * ch));
      }
    }
    int decimals = decimals(canvas, grid, cw, ch, maxDecimals);
    if (decimals >= 0) {
      Font font = Canvas.font(Font.PLAIN, fontSize(ch));
      for (int r = 0; r < grid.rows(); r++) {
        for (int c = 0; c < grid.cols(); c++) {
          g.setColor(Palette.textOn(fill.at(r, c)));
          canvas.centred(
              NumberText.format(grid.get(r, c), decimals),
              x + (c + 0.5) * cw,
              y + (r + 0.5) * ch,
              font);
        }
      }
    }
  }

  /** The name of a grid, centred above it. */
  static void title(Canvas canvas, String name, double cx, double baseline, float size) {
    canvas.graphics().setColor(Palette.INK);
    RichText.centred(canvas.graphics(), name, cx, baseline, Canvas.font(Font.BOLD, size));
  }

  /** The most decimals (≤ max) with which every value fits a cell, or −1 when none fits. */
  static int decimals(Canvas canvas, Grid grid, double cw, double ch, int max) {
    if (cw < MIN_TEXT_CELL || ch < MIN_TEXT_CELL || grid.values().length == 0) {
      return -1;
    }
    Font font = Canvas.font(Font.PLAIN, fontSize(ch));
    boolean integers = true;
    for (float v : grid.values()) {
      integers &= v == Math.rint(v) || Float.isInfinite(v);
    }
    // whole numbers may drop the decimals; rounding 0.43 to "0" would mislead
    int min = integers ? 0 : 1;
    for (int dec = max; dec >= min; dec--) {
      double widest = 0;
      for (float v : grid.values()) {
        widest = Math.max(widest, canvas.width(NumberText.format(v, dec), font));
      }
      if (widest <= cw - 4) {
        return dec;
      }
    }
    return -1;
  }
}
