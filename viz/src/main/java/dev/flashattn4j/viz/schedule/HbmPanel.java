package dev.flashattn4j.viz.schedule;

import dev.flashattn4j.viz.render.Canvas;
import dev.flashattn4j.viz.render.Palette;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.geom.Line2D;
import java.awt.geom.Rectangle2D;
import java.util.List;

/**
 * The HBM half of a frame: Q, K, V, O and the row statistics as grids, the block boundaries drawn
 * in, the blocks that are in SRAM tinted (query block orange, key block blue) and the blocks the
 * step writes back outlined.
 */
final class HbmPanel {

  private HbmPanel() {}

  static void paint(
      Canvas canvas,
      ScheduleLayout layout,
      ScheduleTrace trace,
      HbmState state,
      List<Highlight> highlights) {
    Graphics2D g = canvas.graphics();
    g.setColor(Palette.INK);
    canvas.text(
        "HBM", ScheduleLayout.HBM_X, ScheduleLayout.PANEL_TITLE_Y, Canvas.font(Font.BOLD, 18f));
    g.setColor(Palette.MUTED);
    canvas.text(
        "slow, large memory: the N × d inputs and outputs, the row statistics",
        ScheduleLayout.HBM_X + canvas.width("HBM", Canvas.font(Font.BOLD, 18f)) + 10,
        ScheduleLayout.PANEL_TITLE_Y,
        Canvas.font(Font.PLAIN, 14f));
    double cw = layout.hbmCellWidth();
    double ch = layout.hbmCellHeight();
    for (Grid grid : state.arrays()) {
      double[] o = layout.hbmOrigin(grid.name());
      GridPainter.title(
          canvas, grid.name(), o[0] + grid.cols() * cw / 2, ScheduleLayout.GRID_TITLE_Y, 15f);
      GridPainter.paint(
          canvas, grid, o[0], o[1], cw, ch, (r, c) -> fill(grid.name(), r, highlights), 2);
      blockLines(canvas, grid, o, cw, ch, isKeyArray(grid.name()) ? trace.bc() : trace.br());
    }
    blockNumbers(canvas, layout, trace);
    for (Highlight h : highlights) {
      if (h.written()) {
        double[] o = layout.hbmOrigin(h.array());
        Grid grid = state.get(h.array());
        g.setColor(Palette.WRITE_OUTLINE);
        g.setStroke(new BasicStroke(3f));
        g.draw(
            new Rectangle2D.Double(
                o[0] - 1,
                o[1] + h.start() * ch - 1,
                grid.cols() * cw + 2,
                (h.end() - h.start()) * ch + 2));
      }
    }
  }

  static boolean isKeyArray(String name) {
    return name.equals("K") || name.equals("V");
  }

  /** The tint of a cell in row r of array {@code name}. */
  static Color fill(String name, int r, List<Highlight> highlights) {
    for (Highlight h : highlights) {
      if (h.array().equals(name) && r >= h.start() && r < h.end()) {
        return h.block() == Highlight.Block.QUERY ? Palette.QUERY_TINT : Palette.KEY_TINT;
      }
    }
    return Palette.CELL;
  }

  /** A line between blocks of {@code block} rows. */
  private static void blockLines(
      Canvas canvas, Grid grid, double[] o, double cw, double ch, int block) {
    Graphics2D g = canvas.graphics();
    g.setColor(Palette.MUTED);
    g.setStroke(new BasicStroke(ch >= 6 ? 2f : 1f));
    for (int r = 0; r <= grid.rows(); r += block) {
      g.draw(new Line2D.Double(o[0], o[1] + r * ch, o[0] + grid.cols() * cw, o[1] + r * ch));
    }
    g.draw(
        new Line2D.Double(
            o[0], o[1] + grid.rows() * ch, o[0] + grid.cols() * cw, o[1] + grid.rows() * ch));
    g.draw(new Line2D.Double(o[0], o[1], o[0], o[1] + grid.rows() * ch));
    g.draw(
        new Line2D.Double(
            o[0] + grid.cols() * cw, o[1], o[0] + grid.cols() * cw, o[1] + grid.rows() * ch));
  }

  /** The number i of each Q block, left of Q, where there is room. */
  private static void blockNumbers(Canvas canvas, ScheduleLayout layout, ScheduleTrace trace) {
    double[] o = layout.hbmOrigin("Q");
    double blockH = trace.br() * layout.hbmCellHeight();
    Font font = Canvas.font(Font.PLAIN, 12f);
    canvas.graphics().setColor(Palette.MUTED);
    int every = (int) Math.ceil(16 / blockH);
    for (int i = 0; i < trace.tr(); i += every) {
      int rows = Math.min(trace.br(), trace.n() - i * trace.br());
      double cy = o[1] + i * blockH + rows * layout.hbmCellHeight() / 2;
      canvas.centred(
          "i=" + (i + 1),
          ScheduleLayout.HBM_X + 12,
          cy,
          blockH >= 16 ? font : Canvas.font(Font.PLAIN, 10f));
    }
  }
}
