package dev.flashattn4j.viz.chart;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * GFLOP/s against N, one line per kernel and thread count (and head dimension, and causal, where
 * the points differ in them), with the machine's measured FMA peak as horizontal lines.
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
    XYSeriesCollection data = new XYSeriesCollection();
    series.values().forEach(data::addSeries);
    NumberAxis y = new NumberAxis("GFLOP/s");
    y.setAutoRangeIncludesZero(true);
    ChartStyle.axis(y);
    // one colour per kernel and thread count; its causal cases dashed
    XYLineAndShapeRenderer lines = ChartStyle.lines(series.size());
    List<String> groups = group.values().stream().distinct().toList();
    int s = 0;
    for (String key : series.keySet()) {
      lines.setSeriesPaint(s, ChartStyle.colour(groups.indexOf(group.get(key))));
      if (causal.get(key) && mixedCausal) {
        lines.setSeriesStroke(
            s,
            new BasicStroke(
                2.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {9f, 5f}, 0f));
      }
      s++;
    }
    XYPlot plot = new XYPlot(data, ChartStyle.log("N (sequence length)", 2), y, lines);
    double top = points.stream().mapToDouble(BenchPoint::gflops).max().orElse(1);
    for (Peak peak : peaks) {
      ValueMarker line = new ValueMarker(peak.gflops());
      line.setPaint(Color.DARK_GRAY);
      line.setStroke(
          new BasicStroke(
              2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {8f, 6f}, 0f));
      line.setLabel(
          peak.label() + String.format(java.util.Locale.ROOT, " (%.1f GFLOP/s)", peak.gflops()));
      line.setLabelFont(dev.flashattn4j.viz.render.Canvas.font(Font.PLAIN, 13f));
      line.setLabelBackgroundColor(new Color(255, 255, 255, 0));
      line.setLabelAnchor(RectangleAnchor.TOP_LEFT);
      line.setLabelTextAnchor(TextAnchor.BOTTOM_LEFT);
      plot.addRangeMarker(line);
      top = Math.max(top, peak.gflops());
    }
    y.setRange(0, top * 1.12);
    String title =
        "Attention forward: GFLOP/s against N"
            + (manyD ? "" : " (d = " + points.getFirst().d() + ")")
            + (mixedCausal ? "" : points.getFirst().causal() ? ", causal" : "");
    JFreeChart chart = new JFreeChart(title, plot);
    ChartStyle.apply(chart, subtitle);
    return chart;
  }
}
