package dev.flashattn4j.viz.schedule;

import dev.flashattn4j.viz.render.Canvas;
import dev.flashattn4j.viz.render.Palette;
import dev.flashattn4j.viz.render.RichText;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.geom.Line2D;
import java.awt.geom.Rectangle2D;

/**
 * The map of the score matrix S by tiles (query block i × key block j), element by element: a key a
 * query sees is coloured by its tile's kind (blue in a tile every row sees whole, orange in a
 * diagonal tile cut element by element), a hidden key grey; a tile no row sees is crossed out when
 * the schedule skips it. Tiles not reached yet are pale, the current one outlined.
 */
final class TileMapPanel {

  /** Keys seen in a tile every row sees whole. */
  static final Color FULL = new Color(0x9E, 0xCA, 0xE1);

  /** Keys seen in a diagonal tile (cut element by element). */
  static final Color DIAGONAL = new Color(0xFD, 0xAE, 0x6B);

  /** Keys no query of the element's row sees. */
  static final Color HIDDEN = Palette.GRID;

  private TileMapPanel() {}

  /**
   * Paints the map.
   *
   * @param done steps finished before this frame (the current one counts as done)
   * @param current the index of the current step, or −1 for none
   */
  static void paint(
      Canvas canvas, ScheduleLayout layout, ScheduleTrace trace, int done, int current) {
    Graphics2D g = canvas.graphics();
    double x0 = layout.mapX();
    double y0 = layout.mapY();
    g.setColor(Palette.INK);
    RichText.draw(
        g,
        "S = QK^T by tiles: T_r × T_c = " + trace.tr() + " × " + trace.tc(),
        ScheduleLayout.SRAM_X,
        y0 - 50,
        Canvas.font(Font.BOLD, 15f));
    int[] counts = trace.tileCounts();
    g.setColor(Palette.MUTED);
    String summary =
        counts[TileKind.FULL.ordinal()] == trace.steps().size()
            ? "no causal mask or window: every row sees every key of every tile"
            : counts[TileKind.FULL.ordinal()]
                + " whole, "
                + counts[TileKind.DIAGONAL.ordinal()]
                + " diagonal, "
                + counts[TileKind.MASKED.ordinal()]
                + (trace.kernel().equals("fast")
                    ? " seen by no row (skipped)"
                    : " seen by no row (computed anyway)");
    canvas.text(summary, ScheduleLayout.SRAM_X, y0 - 30, Canvas.font(Font.PLAIN, 13f));
    boolean[] reached = new boolean[trace.tr() * trace.tc()];
    int[] stepOf = new int[trace.tr() * trace.tc()];
    for (int k = 0; k < trace.steps().size(); k++) {
      ScheduleStep s = trace.steps().get(k);
      int t = s.i() * trace.tc() + s.j();
      stepOf[t] = k;
      reached[t] = k < done;
    }
    int n = trace.n();
    for (int r = 0; r < n; r++) {
      int i = r / trace.br();
      for (int c = 0; c < n; c++) {
        int t = i * trace.tc() + c / trace.bc();
        TileKind kind = trace.steps().get(stepOf[t]).tile();
        Color fill = trace.sees(r, c) ? (kind == TileKind.FULL ? FULL : DIAGONAL) : HIDDEN;
        g.setColor(reached[t] ? fill : pale(fill));
        Rectangle2D e = layout.mapElement(r, c);
        g.fill(new Rectangle2D.Double(e.getX(), e.getY(), e.getWidth() + 0.5, e.getHeight() + 0.5));
      }
    }
    // tile borders, crosses on skipped tiles, the current tile outlined
    g.setStroke(new BasicStroke(1f));
    for (ScheduleStep s : trace.steps()) {
      Rectangle2D t = layout.mapTile(s.i(), s.j());
      g.setColor(Palette.CELL_BORDER);
      g.draw(t);
      if (s.skipped()) {
        g.setColor(Palette.MUTED);
        double m = Math.min(t.getWidth(), t.getHeight()) * 0.2;
        g.draw(new Line2D.Double(t.getX() + m, t.getY() + m, t.getMaxX() - m, t.getMaxY() - m));
        g.draw(new Line2D.Double(t.getX() + m, t.getMaxY() - m, t.getMaxX() - m, t.getY() + m));
      }
    }
    if (current >= 0) {
      ScheduleStep s = trace.steps().get(current);
      g.setColor(Palette.INK);
      g.setStroke(new BasicStroke(3f));
      Rectangle2D t = layout.mapTile(s.i(), s.j());
      g.draw(
          new Rectangle2D.Double(
              t.getX() - 1.5, t.getY() - 1.5, t.getWidth() + 3, t.getHeight() + 3));
    }
    labels(canvas, layout, trace);
    legend(canvas, layout, trace);
  }

  /** i = 1.. left of the map, j = 1.. above it, where there is room. */
  private static void labels(Canvas canvas, ScheduleLayout layout, ScheduleTrace trace) {
    Font font = Canvas.font(Font.PLAIN, 11f);
    canvas.graphics().setColor(Palette.MUTED);
    Rectangle2D first = layout.mapTile(0, 0);
    if (first.getHeight() >= 12) {
      for (int i = 0; i < trace.tr(); i++) {
        Rectangle2D t = layout.mapTile(i, 0);
        canvas.centred("i=" + (i + 1), layout.mapX() - 22, t.getCenterY(), font);
      }
    }
    if (first.getWidth() >= 24) {
      for (int j = 0; j < trace.tc(); j++) {
        Rectangle2D t = layout.mapTile(0, j);
        canvas.centred("j=" + (j + 1), t.getCenterX(), layout.mapY() - 9, font);
      }
    }
  }

  private static void legend(Canvas canvas, ScheduleLayout layout, ScheduleTrace trace) {
    double x = layout.mapX() + layout.mapWidth() + 28;
    double y = layout.mapY() + 12;
    Font font = Canvas.font(Font.PLAIN, 13f);
    String skipped =
        trace.kernel().equals("fast")
            ? "a tile no row sees: skipped, K_j, V_j not loaded"
            : "a tile no row sees: Algorithm 1 computes it anyway";
    Object[][] rows = {
      {FULL, "a key seen, in a tile every row sees whole"},
      {DIAGONAL, "a key seen, in a diagonal tile (cut element by element)"},
      {HIDDEN, "a key hidden by the causal mask or the window"},
      {null, skipped},
      {Palette.INK, "the current tile; pale tiles are still to come"},
    };
    Graphics2D g = canvas.graphics();
    for (Object[] row : rows) {
      Rectangle2D box = new Rectangle2D.Double(x, y - 11, 18, 14);
      if (row[0] == null) {
        g.setColor(HIDDEN);
        g.fill(box);
        g.setColor(Palette.MUTED);
        g.setStroke(new BasicStroke(1f));
        if (trace.kernel().equals("fast")) {
          g.draw(new Line2D.Double(box.getX(), box.getY(), box.getMaxX(), box.getMaxY()));
          g.draw(new Line2D.Double(box.getX(), box.getMaxY(), box.getMaxX(), box.getY()));
        }
      } else if (row[0] == Palette.INK) {
        g.setColor(Palette.INK);
        g.setStroke(new BasicStroke(2.5f));
        g.draw(box);
      } else {
        g.setColor((Color) row[0]);
        g.fill(box);
      }
      g.setColor(Palette.INK);
      double avail = ScheduleLayout.WIDTH - 20 - (x + 28);
      String text = (String) row[1];
      double w = RichText.width(g, text, font);
      RichText.draw(
          g, text, x + 28, y, w > avail ? font.deriveFont((float) (13 * avail / w)) : font);
      y += 24;
    }
  }

  /** A colour washed towards white: a tile not reached yet. */
  static Color pale(Color c) {
    return new Color(
        (c.getRed() + 2 * 255) / 3, (c.getGreen() + 2 * 255) / 3, (c.getBlue() + 2 * 255) / 3);
  }
}
