package dev.flashattn4j.viz.matvec;

import dev.flashattn4j.viz.AtomicFiles;
import dev.flashattn4j.viz.gif.AnimatedGif;
import dev.flashattn4j.viz.render.Canvas;
import dev.flashattn4j.viz.render.Palette;
import dev.flashattn4j.viz.render.Subscripts;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The seed notebook's animation, done well: one frame per column of A, each drawing that column
 * scaled by its entry of v as an arrow from the origin, then a frame that lays the scaled columns
 * tip to tail and draws their sum A·v. One frame per second, looping forever.
 */
public final class MatVecAnimation {

  /** How long each frame stays on screen. */
  public static final int FRAME_MS = 1000;

  public static final int WIDTH = 760;
  public static final int HEIGHT = 840;

  private static final Color[] COLUMN_COLOURS = {
    Palette.ORANGE,
    Palette.BLUE,
    Palette.PURPLE,
    Palette.SKY_BLUE,
    Palette.YELLOW,
    Palette.VERMILLION
  };
  private static final Color SUM_COLOUR = Palette.GREEN;
  private static final Rectangle PLOT = new Rectangle(110, 100, 560, 560);

  private final MatVec mv;
  private final PlotRange range;

  public MatVecAnimation(MatVec mv) {
    this.mv = mv;
    List<double[]> points = new ArrayList<>();
    for (int c = 0; c < mv.columns(); c++) {
      points.add(mv.scaledColumn(c));
      points.add(mv.partialSum(c));
    }
    this.range = PlotRange.fit(points.toArray(double[][]::new));
  }

  /** The colour of column c's arrow. */
  public static Color columnColour(int c) {
    return COLUMN_COLOURS[c % COLUMN_COLOURS.length];
  }

  public static Color sumColour() {
    return SUM_COLOUR;
  }

  public PlotRange range() {
    return range;
  }

  /** Pixel position of the plane point (x, y) in a frame. */
  public double[] pixel(double x, double y) {
    ArrowPlot plot = new ArrowPlot(null, PLOT, range);
    return new double[] {plot.px(x), plot.py(y)};
  }

  /** The frames: one per column, then the sum. */
  public List<BufferedImage> frames() {
    List<BufferedImage> frames = new ArrayList<>();
    for (int c = 0; c < mv.columns(); c++) {
      frames.add(columnFrame(c));
    }
    frames.add(sumFrame());
    return frames;
  }

  /** Writes the animation to {@code out} (whole or not at all). */
  public void write(Path out) {
    List<BufferedImage> frames = frames();
    AtomicFiles.write(
        out,
        stream -> {
          try (AnimatedGif gif = new AnimatedGif(stream)) {
            for (BufferedImage frame : frames) {
              gif.frame(frame, FRAME_MS);
            }
          }
        });
  }

  private BufferedImage columnFrame(int c) {
    Canvas canvas = new Canvas(WIDTH, HEIGHT);
    ArrowPlot plot = frame(canvas);
    double[] origin = {0, 0};
    for (int k = 0; k < c; k++) {
      plot.arrow(origin, mv.scaledColumn(k), faded(columnColour(k)), 2.5f, true, null);
    }
    plot.arrow(origin, mv.scaledColumn(c), columnColour(c), 4f, false, arrowLabel(c));
    caption(
        canvas,
        "Step "
            + (c + 1)
            + " of "
            + (mv.columns() + 1)
            + ": column "
            + (c + 1)
            + " of A times v"
            + Subscripts.of(c + 1)
            + " = "
            + MatVec.format(mv.v()[c]));
    return canvas.finish();
  }

  /** The label boxes of the last frame drawn (for tests). */
  private List<java.awt.geom.Rectangle2D> lastLabels = List.of();

  /** The boxes of the labels on the last frame {@link #frames} drew: the sum frame. */
  List<java.awt.geom.Rectangle2D> sumFrameLabels() {
    return lastLabels;
  }

  private BufferedImage sumFrame() {
    Canvas canvas = new Canvas(WIDTH, HEIGHT);
    ArrowPlot plot = frame(canvas);
    double[] tail = {0, 0};
    double[] sumMiddle = {mv.product()[0] / 2, mv.product()[1] / 2};
    for (int c = 0; c < mv.columns(); c++) {
      double[] tip = mv.partialSum(c);
      plot.arrow(tail, tip, columnColour(c), 3f, false, null);
      plot.midLabel(tail, tip, sumMiddle, arrowLabel(c), columnColour(c));
      tail = tip;
    }
    plot.arrow(
        new double[] {0, 0},
        mv.product(),
        SUM_COLOUR,
        5f,
        false,
        "A·v = " + MatVec.format(mv.product()));
    caption(
        canvas,
        "Step "
            + (mv.columns() + 1)
            + " of "
            + (mv.columns() + 1)
            + ": tip to tail, the scaled columns add up to A·v");
    lastLabels = plot.labels();
    return canvas.finish();
  }

  /** Title, axes and legend: everything but the arrows and the caption. */
  private ArrowPlot frame(Canvas canvas) {
    Graphics2D g = canvas.graphics();
    g.setColor(Palette.INK);
    canvas.text("A·v is a sum of the columns of A", 30, 42, Canvas.font(Font.BOLD, 24f));
    g.setColor(Palette.MUTED);
    canvas.text(
        "A = " + matrixText() + ",   v = " + MatVec.format(mv.v()),
        30,
        72,
        Canvas.font(Font.PLAIN, 17f));
    ArrowPlot plot = new ArrowPlot(canvas, PLOT, range);
    plot.drawAxes();
    legend(canvas);
    return plot;
  }

  private void legend(Canvas canvas) {
    Graphics2D g = canvas.graphics();
    Font font = Canvas.font(Font.PLAIN, 15f);
    double y = PLOT.y + PLOT.height + 76;
    for (int c = 0; c <= mv.columns(); c++) {
      boolean sum = c == mv.columns();
      g.setColor(sum ? SUM_COLOUR : columnColour(c));
      g.setStroke(new BasicStroke(sum ? 5f : 4f));
      g.drawLine(PLOT.x, (int) y - 5, PLOT.x + 34, (int) y - 5);
      g.setColor(Palette.INK);
      String text =
          sum
              ? "A·v = " + MatVec.format(mv.product()) + "  (the sum)"
              : "v"
                  + Subscripts.of(c + 1)
                  + " · column "
                  + (c + 1)
                  + " = "
                  + MatVec.format(mv.v()[c])
                  + " · "
                  + MatVec.format(mv.column(c))
                  + " = "
                  + MatVec.format(mv.scaledColumn(c));
      canvas.text(text, PLOT.x + 46, y, font);
      y += 24;
    }
  }

  private void caption(Canvas canvas, String text) {
    canvas.graphics().setColor(Palette.INK);
    canvas.text(text, 30, HEIGHT - 22, Canvas.font(Font.BOLD, 17f));
  }

  private String arrowLabel(int c) {
    return MatVec.format(mv.v()[c])
        + "·a"
        + Subscripts.of(c + 1)
        + " = "
        + MatVec.format(mv.scaledColumn(c));
  }

  private String matrixText() {
    int n = mv.columns();
    double[] a = mv.a();
    StringBuilder sb = new StringBuilder("[");
    for (int r = 0; r < 2; r++) {
      sb.append(r == 0 ? "[" : ", [");
      for (int c = 0; c < n; c++) {
        sb.append(c == 0 ? "" : ", ").append(MatVec.format(a[r * n + c]));
      }
      sb.append(']');
    }
    return sb.append(']').toString();
  }

  private static Color faded(Color c) {
    return new Color((c.getRed() + 255) / 2, (c.getGreen() + 255) / 2, (c.getBlue() + 255) / 2);
  }
}
