package dev.flashattn4j.viz.chart;

import dev.flashattn4j.viz.AtomicFiles;
import dev.flashattn4j.viz.render.Canvas;
import dev.flashattn4j.viz.render.Palette;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.text.NumberFormat;
import java.util.List;
import javax.imageio.ImageIO;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleEdge;

/** The look every chart shares (fonts, colours, strokes) and writing charts to PNG. */
final class ChartStyle {

  /** Series colours, in order: the Okabe–Ito palette. */
  static final List<Color> SERIES =
      List.of(
          Palette.BLUE,
          Palette.VERMILLION,
          Palette.GREEN,
          Palette.ORANGE,
          Palette.PURPLE,
          Palette.SKY_BLUE,
          Palette.INK,
          Palette.YELLOW);

  private ChartStyle() {}

  static Color colour(int series) {
    return SERIES.get(series % SERIES.size());
  }

  /** Fonts, background, grid lines and legend of a chart. */
  static void apply(JFreeChart chart, String subtitle) {
    chart.setBackgroundPaint(Color.WHITE);
    chart.setAntiAlias(true);
    chart.setTextAntiAlias(true);
    chart.getTitle().setFont(Canvas.font(Font.BOLD, 20f));
    chart.getTitle().setPaint(Palette.INK);
    if (subtitle != null && !subtitle.isEmpty()) {
      TextTitle sub = new TextTitle(subtitle, Canvas.font(Font.PLAIN, 14f));
      sub.setPaint(Palette.MUTED);
      chart.addSubtitle(sub);
    }
    LegendTitle legend = chart.getLegend();
    if (legend != null) {
      legend.setItemFont(Canvas.font(Font.PLAIN, 14f));
      legend.setPosition(RectangleEdge.BOTTOM);
      legend.setFrame(new org.jfree.chart.block.BlockBorder(Color.WHITE));
    }
    if (chart.getPlot() instanceof org.jfree.chart.plot.CategoryPlot plot) {
      plot.setBackgroundPaint(Color.WHITE);
      plot.setRangeGridlinePaint(Palette.GRID);
      plot.setRangeGridlineStroke(new BasicStroke(1f));
      plot.setOutlinePaint(Palette.MUTED);
      axis(plot.getRangeAxis());
      return;
    }
    XYPlot plot = chart.getXYPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(Palette.GRID);
    plot.setRangeGridlinePaint(Palette.GRID);
    plot.setDomainGridlineStroke(new BasicStroke(1f));
    plot.setRangeGridlineStroke(new BasicStroke(1f));
    plot.setOutlinePaint(Palette.MUTED);
    axis(plot.getDomainAxis());
    axis(plot.getRangeAxis());
  }

  static void axis(org.jfree.chart.axis.Axis axis) {
    axis.setLabelFont(Canvas.font(Font.PLAIN, 15f));
    axis.setTickLabelFont(Canvas.font(Font.PLAIN, 13f));
    axis.setLabelPaint(Palette.INK);
    axis.setTickLabelPaint(Palette.INK);
  }

  /** A line-and-marker renderer with one colour per series. */
  static XYLineAndShapeRenderer lines(int seriesCount) {
    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
    for (int s = 0; s < seriesCount; s++) {
      r.setSeriesPaint(s, colour(s));
      r.setSeriesStroke(s, new BasicStroke(2.5f));
      r.setSeriesShape(
          s,
          s % 2 == 0 ? new Ellipse2D.Double(-4, -4, 8, 8) : new Rectangle2D.Double(-4, -4, 8, 8));
    }
    return r;
  }

  /** A logarithmic axis in powers of {@code base}, labelled 1,024 (base 2) or 10⁶ (base 10). */
  static LogAxis log(String label, int base) {
    LogAxis axis = new LogAxis(label);
    axis.setBase(base);
    axis.setTickUnit(new NumberTickUnit(1));
    axis.setMinorTickMarksVisible(true);
    NumberFormat format = base == 2 ? new DecimalFormat("#,##0") : new PowerFormat();
    axis.setNumberFormatOverride(format);
    axis(axis);
    return axis;
  }

  /** Draws the charts side by side into one image. */
  static BufferedImage draw(int width, int height, JFreeChart... charts) {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, width, height);
    double w = (double) width / charts.length;
    for (int k = 0; k < charts.length; k++) {
      charts[k].draw(g, new Rectangle2D.Double(k * w, 0, w, height));
    }
    g.dispose();
    return image;
  }

  /** Writes {@code image} as a PNG (whole or not at all). */
  static void writePng(BufferedImage image, Path png) {
    AtomicFiles.write(
        png,
        out -> {
          if (!ImageIO.write(image, "png", out)) {
            throw new java.io.IOException("no PNG writer");
          }
        });
  }
}
