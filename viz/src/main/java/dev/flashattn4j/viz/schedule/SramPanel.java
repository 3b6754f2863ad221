package dev.flashattn4j.viz.schedule;

import dev.flashattn4j.viz.render.Canvas;
import dev.flashattn4j.viz.render.NumberText;
import dev.flashattn4j.viz.render.Palette;
import dev.flashattn4j.viz.render.RichText;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.util.List;

/**
 * The SRAM half of a step's frame: the blocks on chip (K_j, V_j, Q_i, O_i), the score tile S_ij as
 * a heat map and the row statistics m and ℓ with their values, row for row beside S_ij.
 */
final class SramPanel {

  private SramPanel() {}

  /** The panel's heading in bold, then {@code what} in grey. */
  static void title(Canvas canvas, String heading, String what) {
    Graphics2D g = canvas.graphics();
    Font bold = Canvas.font(Font.BOLD, 18f);
    g.setColor(Palette.INK);
    canvas.text(heading, ScheduleLayout.SRAM_X, ScheduleLayout.PANEL_TITLE_Y, bold);
    g.setColor(Palette.MUTED);
    canvas.text(
        what,
        ScheduleLayout.SRAM_X + canvas.width(heading, bold) + 10,
        ScheduleLayout.PANEL_TITLE_Y,
        Canvas.font(Font.PLAIN, 14f));
  }

  static void paint(
      Canvas canvas,
      ScheduleLayout layout,
      ScheduleTrace trace,
      ScheduleStep step,
      double[] scoreRange) {
    title(canvas, "SRAM", "fast, small on-chip memory: M = " + trace.sram() + " elements");
    // row 1: the blocks, each tinted like its rows in HBM
    double x = ScheduleLayout.SRAM_X;
    double cw = layout.sramCellWidth();
    double ch = layout.sramCellHeight();
    for (Grid grid : step.sram()) {
      Color tint =
          grid.name().startsWith("K") || grid.name().startsWith("V")
              ? Palette.KEY_TINT
              : Palette.QUERY_TINT;
      GridPainter.title(
          canvas, grid.name(), x + grid.cols() * cw / 2, ScheduleLayout.GRID_TITLE_Y, 15f);
      GridPainter.paint(canvas, grid, x, ScheduleLayout.GRID_Y, cw, ch, (r, c) -> tint, 2);
      x += grid.cols() * cw + ScheduleLayout.GAP;
    }
    // row 2: S_ij as a heat map (−∞, a hidden key, grey), the statistics beside it
    Grid s = step.scores();
    double scw = layout.scoreCellWidth();
    double rh = layout.rowHeight();
    double titleY = layout.row2TitleY();
    double top = layout.row2Y();
    GridPainter.title(
        canvas,
        s.name() + " = Q" + "_i" + " K_j^T" + (trace.scale() == 1f ? "" : " · scale"),
        ScheduleLayout.SRAM_X + Math.max(s.cols() * scw, 150) / 2,
        titleY,
        15f);
    if (step.skipped()) {
      Graphics2D g = canvas.graphics();
      g.setColor(Palette.MUTED);
      Font font = Canvas.font(Font.ITALIC, 14f);
      RichText.draw(
          g, "not computed: no row of Q_i sees K_j,", ScheduleLayout.SRAM_X, top + 20, font);
      RichText.draw(
          g, "so K_j, V_j stay in HBM (tile skipped)", ScheduleLayout.SRAM_X, top + 40, font);
    } else {
      GridPainter.paint(
          canvas,
          s,
          ScheduleLayout.SRAM_X,
          top,
          scw,
          rh,
          (r, c) -> heat(s.get(r, c), scoreRange),
          2);
      colourScale(canvas, top + s.rows() * rh + 10, scoreRange);
    }
    double sx = ScheduleLayout.SRAM_X + ScheduleLayout.SCORES_W + 24;
    List<Grid> stats = step.stats();
    double sw = layout.statWidth();
    for (Grid stat : stats) {
      GridPainter.title(canvas, stat.name(), sx + sw / 2, titleY, 14f);
      GridPainter.paint(canvas, stat, sx, top, sw, rh, (r, c) -> Palette.CELL, 3);
      sx += sw + 6;
    }
  }

  /** A bar from the lowest to the highest score of the run, below S_ij. */
  private static void colourScale(Canvas canvas, double y, double[] range) {
    Graphics2D g = canvas.graphics();
    Font font = Canvas.font(Font.PLAIN, 12f);
    String lo = NumberText.format(range[0], 2);
    String hi = NumberText.format(range[1], 2);
    double x = ScheduleLayout.SRAM_X + canvas.width(lo, font) + 6;
    double w = 160;
    g.setColor(Palette.MUTED);
    canvas.text(lo, ScheduleLayout.SRAM_X, y + 10, font);
    int steps = 10; // flat steps: a GIF frame keeps each one's exact colour
    for (int k = 0; k < steps; k++) {
      g.setColor(Palette.heat(k / (steps - 1.0)));
      g.fill(new java.awt.geom.Rectangle2D.Double(x + k * w / steps, y, w / steps + 0.5, 12));
    }
    g.setColor(Palette.MUTED);
    canvas.text(hi + "  (scores of the whole run)", x + w + 6, y + 10, font);
  }

  /** The heat-map colour of score v in [lo, hi]; masked scores (−∞) are grey. */
  static Color heat(float v, double[] range) {
    if (v == Float.NEGATIVE_INFINITY) {
      return Palette.GRID;
    }
    double span = range[1] - range[0];
    return Palette.heat(span > 0 ? (v - range[0]) / span : 0.5);
  }

  /** The smallest and largest finite score of the whole run (one colour scale for all frames). */
  static double[] scoreRange(ScheduleTrace trace) {
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (ScheduleStep step : trace.steps()) {
      for (float v : step.scores().values()) {
        if (Float.isFinite(v)) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
    }
    return lo <= hi ? new double[] {lo, hi} : new double[] {0, 1};
  }
}
