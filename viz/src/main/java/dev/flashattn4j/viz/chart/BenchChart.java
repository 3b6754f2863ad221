package dev.flashattn4j.viz.chart;

import dev.flashattn4j.viz.render.Canvas;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Shape;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * GFLOP/s against N, one line per kernel and thread count (and head dimension, and causal, where
 * the points differ in them; causal ones dashed, with triangles for circles), with the machine's
 * measured FMA peak as horizontal lines. A run at one N is drawn as bars, one per kernel and thread
 * count, grouped by causal and not.
 */
public final class BenchChart {

  public static final int WIDTH = 1100;
  public static final int HEIGHT = 700;

  private BenchChart() {}

  /** The chart with one peak line. */
  public static void write(List<BenchPoint> points, double fmaPeakGflops, Path png) {
    write(points, List.of(new Peak("measured FMA peak", fmaPeakGflops)), "", png);
  }

  /**
   * Writes the chart as a PNG (whole or not at all).
   *
   * @param peaks horizontal lines (e.g. the FMA peak for 1 and for all threads); may be empty
   * @param subtitle the machine and the command, or ""
   */
  public static void write(List<BenchPoint> points, List<Peak> peaks, String subtitle, Path png) {
    ChartStyle.writePng(ChartStyle.draw(WIDTH, HEIGHT, chart(points, peaks, subtitle)), png);
  }

  static JFreeChart chart(List<BenchPoint> points, List<Peak> peaks, String subtitle) {
    if (points.isEmpty()) {
      throw new IllegalArgumentException("no benchmark points to plot");
    }
    boolean manyD = points.stream().mapToInt(BenchPoint::d).distinct().count() > 1;
    boolean mixedCausal = points.stream().map(BenchPoint::causal).distinct().count() > 1;
    boolean oneN = points.stream().mapToInt(BenchPoint::n).distinct().count() == 1;
    Map<String, XYSeries> series = new LinkedHashMap<>();
    Map<String, Boolean> causal = new LinkedHashMap<>();
    Map<String, String> group = new LinkedHashMap<>(); // series → kernel, threads (and d)
    for (BenchPoint p : points) {
      String base =
          p.kernel()
              + ", "
              + p.threads()
              + (p.threads() == 1 ? " thread" : " threads")
              + (manyD ? ", d = " + p.d() : "");
      String key = base + (mixedCausal ? (p.causal() ? ", causal" : ", not causal") : "");
      series.computeIfAbsent(key, k -> new XYSeries(k, true, true)).addOrUpdate(p.n(), p.gflops());
      causal.put(key, p.causal());
      group.put(key, base);
    }
    List<String> groups = group.values().stream().distinct().toList();
    double top = points.stream().mapToDouble(BenchPoint::gflops).max().orElse(1);
    for (Peak peak : peaks) {
      top = Math.max(top, peak.gflops());
    }
    double bottom =
        points.stream().mapToDouble(BenchPoint::gflops).filter(g -> g > 0).min().orElse(top);
    // Kernels that differ by orders of magnitude (the oracle at 2 GFLOP/s beside the fast kernel
    // at 150) would sit on 0 on a linear axis: a log axis shows every one of them.
    ValueAxis y;
    if (top > LOG_ABOVE * bottom) {
      LogAxis log = ChartStyle.log("GFLOP/s (log scale)", 10);
      log.setRange(bottom / 1.6, top * 1.6);
      y = log;
    } else {
      NumberAxis linear = new NumberAxis("GFLOP/s");
      linear.setAutoRangeIncludesZero(true);
      ChartStyle.axis(linear);
      linear.setRange(0, top * 1.12);
      y = linear;
    }
    String title =
        "Attention forward: GFLOP/s "
            + (oneN
                ? "at N = " + String.format(Locale.ROOT, "%,d", points.getFirst().n())
                : "against N")
            + (manyD ? "" : " (d = " + points.getFirst().d() + ")")
            + (mixedCausal ? "" : points.getFirst().causal() ? ", causal" : "");
    JFreeChart chart;
    if (oneN) {
      // one N: a bar per kernel and thread count (a line chart would stack every point on one x)
      DefaultCategoryDataset bars = new DefaultCategoryDataset();
      for (Map.Entry<String, XYSeries> e : series.entrySet()) {
        String column = mixedCausal ? (causal.get(e.getKey()) ? "causal" : "not causal") : "";
        bars.addValue(e.getValue().getY(0), group.get(e.getKey()), column);
      }
      BarRenderer renderer = new BarRenderer();
      renderer.setBarPainter(new StandardBarPainter());
      renderer.setShadowVisible(false);
      renderer.setItemMargin(0.06);
      for (int g = 0; g < groups.size(); g++) {
        renderer.setSeriesPaint(g, ChartStyle.colour(g));
      }
      renderer.setDefaultItemLabelGenerator(
          new StandardCategoryItemLabelGenerator("{2}", new java.text.DecimalFormat("#,##0.0")));
      renderer.setDefaultItemLabelsVisible(true);
      renderer.setDefaultItemLabelFont(Canvas.font(Font.PLAIN, 13f));
      CategoryAxis x = new CategoryAxis(mixedCausal ? "" : "kernel, threads");
      ChartStyle.axis(x);
      CategoryPlot plot = new CategoryPlot(bars, x, y, renderer);
      peaks.forEach(peak -> plot.addRangeMarker(peakLine(peak)));
      chart = new JFreeChart(title, plot);
    } else {
      XYSeriesCollection data = new XYSeriesCollection();
      series.values().forEach(data::addSeries);
      // one colour per kernel and thread count; causal cases dashed, with triangles for circles
      XYLineAndShapeRenderer lines = ChartStyle.lines(series.size());
      int s = 0;
      for (String key : series.keySet()) {
        lines.setSeriesPaint(s, ChartStyle.colour(groups.indexOf(group.get(key))));
        boolean isCausal = causal.get(key);
        lines.setSeriesShape(s, isCausal ? CAUSAL_MARKER : MARKER);
        if (isCausal && mixedCausal) {
          lines.setSeriesStroke(
              s,
              new BasicStroke(
                  2.5f,
                  BasicStroke.CAP_BUTT,
                  BasicStroke.JOIN_MITER,
                  10f,
                  new float[] {9f, 5f},
                  0f));
        }
        s++;
      }
      XYPlot plot = new XYPlot(data, ChartStyle.log("N (sequence length)", 2), y, lines);
      peaks.forEach(peak -> plot.addRangeMarker(peakLine(peak)));
      chart = new JFreeChart(title, plot);
    }
    ChartStyle.apply(chart, subtitle);
    return chart;
  }

  /** The axis turns logarithmic when the largest value is more than this times the smallest. */
  static final double LOG_ABOVE = 20;

  /** The marker of a case that is not causal: a circle. */
  static final Shape MARKER = new Ellipse2D.Double(-4.5, -4.5, 9, 9);

  /** The marker of a causal case: a triangle, so that the two differ without colour. */
  static final Shape CAUSAL_MARKER = triangle();

  private static Shape triangle() {
    Path2D.Double t = new Path2D.Double();
    t.moveTo(0, -6);
    t.lineTo(5.5, 4.5);
    t.lineTo(-5.5, 4.5);
    t.closePath();
    return t;
  }

  private static ValueMarker peakLine(Peak peak) {
    ValueMarker line = new ValueMarker(peak.gflops());
    line.setPaint(Color.DARK_GRAY);
    line.setStroke(
        new BasicStroke(
            2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {8f, 6f}, 0f));
    line.setLabel(peak.label() + String.format(Locale.ROOT, " (%.1f GFLOP/s)", peak.gflops()));
    line.setLabelFont(Canvas.font(Font.PLAIN, 13f));
    line.setLabelBackgroundColor(new Color(255, 255, 255, 0));
    line.setLabelAnchor(RectangleAnchor.TOP_LEFT);
    line.setLabelTextAnchor(TextAnchor.BOTTOM_LEFT);
    return line;
  }
}
