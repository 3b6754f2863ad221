package dev.flashattn4j.viz.schedule;

import dev.flashattn4j.viz.render.Canvas;
import dev.flashattn4j.viz.render.NumberText;
import dev.flashattn4j.viz.render.Palette;
import dev.flashattn4j.viz.render.RichText;
import java.awt.Font;
import java.awt.Graphics2D;

/**
 * The SRAM area of the first and last frames: the block sizes before the loops; O next to the
 * vanilla result and their largest difference after them.
 */
final class ResultPanel {

  private ResultPanel() {}

  /** Before the loops: how M gives the block sizes, and what SRAM will hold. */
  static void opening(Canvas canvas, ScheduleLayout layout, ScheduleTrace trace) {
    SramPanel.title(
        canvas, "SRAM", "fast, small on-chip memory: M = " + trace.sram() + " elements");
    Graphics2D g = canvas.graphics();
    int n = trace.n();
    int d = trace.d();
    String[] lines = {
      "B_c = ⌈M / 4d⌉ = ⌈"
          + trace.sram()
          + " / "
          + 4 * d
          + "⌉ = "
          + trace.bc()
          + " rows of K, V per block",
      "B_r = min(B_c, d) = " + trace.br() + " rows of Q, O per block",
      "T_r = ⌈N / B_r⌉ = ⌈" + n + " / " + trace.br() + "⌉ = " + trace.tr() + " query blocks",
      "T_c = ⌈N / B_c⌉ = ⌈" + n + " / " + trace.bc() + "⌉ = " + trace.tc() + " key blocks",
      trace.tr() * trace.tc() + " steps, one per (key block j, query block i)",
      "",
      "On chip at once: K_j, V_j (B_c × d), Q_i, O_i (B_r × d),",
      "the scores S_ij (B_r × B_c) and the row statistics m, ℓ.",
    };
    double y = ScheduleLayout.GRID_Y + 10;
    // as many lines as fit above the map of S's tiles
    double room = layout.mapY() - 76 - y;
    double step = Math.min(30, room / lines.length);
    Font font = Canvas.font(Font.PLAIN, (float) Math.min(18, step * 0.62));
    for (String line : lines) {
      g.setColor(Palette.INK);
      RichText.draw(g, line, ScheduleLayout.SRAM_X, y, font);
      y += step;
    }
  }

  /** After the loops: O, the vanilla O and the largest difference. */
  static void closing(Canvas canvas, ScheduleLayout layout, ScheduleTrace trace) {
    SramPanel.title(canvas, "Result", "O from HBM next to standard attention's");
    Graphics2D g = canvas.graphics();
    double top = ScheduleLayout.GRID_Y;
    double cw = Math.min(56, (ScheduleLayout.SRAM_W - 40) / (2.0 * trace.d()));
    double ch = Math.min(36, (layout.mapY() - 76 - 60 - top) / trace.n());
    double x = ScheduleLayout.SRAM_X;
    GridPainter.title(
        canvas, "O (this run)", x + trace.d() * cw / 2, ScheduleLayout.GRID_TITLE_Y, 15f);
    GridPainter.paint(canvas, trace.output(), x, top, cw, ch, (r, c) -> Palette.QUERY_TINT, 4);
    double x2 = x + trace.d() * cw + 40;
    GridPainter.title(
        canvas, "O (vanilla, float64)", x2 + trace.d() * cw / 2, ScheduleLayout.GRID_TITLE_Y, 15f);
    GridPainter.paint(canvas, trace.reference(), x2, top, cw, ch, (r, c) -> Palette.CELL, 4);
    double y = top + trace.n() * ch + 44;
    g.setColor(Palette.INK);
    canvas.text(
        "max |O − vanilla O| = " + NumberText.scientific(trace.maxDifference()),
        x,
        y,
        Canvas.font(Font.BOLD, 22f));
  }
}
