package dev.flashattn4j.viz.schedule;

import dev.flashattn4j.viz.render.Canvas;
import dev.flashattn4j.viz.render.NumberText;
import dev.flashattn4j.viz.render.Palette;
import dev.flashattn4j.viz.render.RichText;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * Draws the frames of a schedule: an opening frame (block sizes, HBM before the loops), one frame
 * per step, a closing frame (O against the vanilla result). Frames are drawn in order so that the
 * HBM state is replayed once.
 */
public final class ScheduleFrames {

  private final ScheduleTrace trace;
  private final ScheduleLayout layout;
  private final double[] scoreRange;

  public ScheduleFrames(ScheduleTrace trace) {
    this.trace = trace;
    this.layout = new ScheduleLayout(trace);
    this.scoreRange = SramPanel.scoreRange(trace);
  }

  public ScheduleLayout layout() {
    return layout;
  }

  /** Frames in order: opening, the steps, closing; {@code sink} gets each as it is drawn. */
  public void draw(java.util.function.Consumer<BufferedImage> sink) {
    HbmState state = new HbmState(trace.initial());
    sink.accept(opening(state));
    for (int k = 0; k < trace.steps().size(); k++) {
      ScheduleStep step = trace.steps().get(k);
      state.apply(step);
      sink.accept(step(k, step, state));
    }
    sink.accept(closing(state));
  }

  private BufferedImage opening(HbmState state) {
    Canvas canvas = new Canvas(ScheduleLayout.WIDTH, layout.height());
    PseudoCode code = trace.code();
    header(
        canvas,
        "Before the loops (lines "
            + range(code.opening())
            + "): block sizes from M; O = 0, ℓ = 0, m = −∞ in HBM");
    HbmPanel.paint(canvas, layout, trace, state, List.of());
    ResultPanel.opening(canvas, layout, trace);
    TileMapPanel.paint(canvas, layout, trace, 0, -1);
    CounterPanel.paint(canvas, layout, trace, 0, 0, 0);
    CodePanel.paint(canvas, layout, code, code.opening());
    return canvas.finish();
  }

  private BufferedImage step(int k, ScheduleStep step, HbmState state) {
    Canvas canvas = new Canvas(ScheduleLayout.WIDTH, layout.height());
    header(canvas, "Step " + (k + 1) + " of " + trace.steps().size() + " · " + step.caption());
    HbmPanel.paint(canvas, layout, trace, state, step.highlights());
    SramPanel.paint(canvas, layout, trace, step, scoreRange);
    TileMapPanel.paint(canvas, layout, trace, k + 1, k);
    CounterPanel.paint(canvas, layout, trace, step.reads(), step.written(), step.savedReads());
    CodePanel.paint(canvas, layout, trace.code(), step.lines());
    return canvas.finish();
  }

  private BufferedImage closing(HbmState state) {
    Canvas canvas = new Canvas(ScheduleLayout.WIDTH, layout.height());
    PseudoCode code = trace.code();
    header(
        canvas,
        "Done (line "
            + range(code.closing())
            + "): return O; max |O − vanilla O| = "
            + NumberText.scientific(trace.maxDifference()));
    HbmPanel.paint(canvas, layout, trace, state, List.of());
    ResultPanel.closing(canvas, layout, trace);
    TileMapPanel.paint(canvas, layout, trace, trace.steps().size(), -1);
    CounterPanel.paint(
        canvas, layout, trace, trace.totalReads(), trace.totalWrites(), trace.savedReads());
    CodePanel.paint(canvas, layout, code, code.closing());
    return canvas.finish();
  }

  private void header(Canvas canvas, String caption) {
    Graphics2D g = canvas.graphics();
    g.setColor(Palette.INK);
    canvas.text(trace.title(), 20, 36, Canvas.font(Font.BOLD, 22f));
    g.setColor(Palette.MUTED);
    RichText.draw(
        g,
        "N = "
            + trace.n()
            + ", d = "
            + trace.d()
            + ", M = "
            + trace.sram()
            + "  →  B_c = "
            + trace.bc()
            + ", B_r = "
            + trace.br()
            + ", T_r = "
            + trace.tr()
            + ", T_c = "
            + trace.tc()
            + ";  scale = "
            + NumberText.format(trace.scale(), 4).replaceAll("0+$", "").replaceAll("\\.$", "")
            + (trace.mask().isEmpty() ? "" : ";  " + trace.mask()),
        20,
        64,
        Canvas.font(Font.PLAIN, 16f));
    if (!trace.note().isEmpty()) {
      // on every frame: what the schedule is (and, for the fast order, is not)
      Font noteFont = Canvas.font(Font.ITALIC, 14f);
      double nw = RichText.width(g, trace.note(), noteFont);
      double room = ScheduleLayout.WIDTH / 2.0 - 20;
      Font f = nw > room ? noteFont.deriveFont((float) (14 * room / nw)) : noteFont;
      RichText.draw(g, trace.note(), ScheduleLayout.WIDTH - 20 - Math.min(nw, room), 64, f);
    }
    g.setColor(Palette.INK);
    Font font = Canvas.font(Font.BOLD, 16f);
    double w = RichText.width(g, caption, font);
    double avail = ScheduleLayout.WIDTH - 40;
    RichText.draw(
        g, caption, 20, 100, w > avail ? font.deriveFont((float) (16 * avail / w)) : font);
  }

  /** "1–4" or "16". */
  static String range(List<Integer> lines) {
    return lines.size() == 1
        ? lines.getFirst().toString()
        : lines.getFirst() + "–" + lines.getLast();
  }
}
