package dev.flashattn4j.viz.chart;

import java.awt.BasicStroke;
import java.nio.file.Path;
import java.util.List;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The loss curve of a training run against step (log scale), next to a reference run's, and, when
 * there is a reference, a second panel with |ours − reference| / reference per step: two curves
 * that agree to 1e-7 draw as one line, and only the second panel shows that they do.
 */
public final class LossChart {

  public static final int WIDTH = 1000;
  public static final int HEIGHT = 600;

  /** A marker every this many steps: a marker on each of 300 steps hides the line under it. */
  static final int MARK_EVERY = 25;

  private LossChart() {}

  /**
   * Writes the chart as a PNG (whole or not at all).
   *
   * @param ours the loss of each step, from step 1
   * @param oursName the legend of {@code ours}
   * @param reference the reference run's losses (may be shorter or empty)
   * @param referenceName its legend
   * @param subtitle what was trained
   */
  public static void write(
      List<Double> ours,
      String oursName,
      List<Double> reference,
      String referenceName,
      String subtitle,
      Path png) {
    if (ours.isEmpty()) {
      throw new IllegalArgumentException("no losses to draw");
    }
    XYSeriesCollection data = new XYSeriesCollection();
    data.addSeries(series(oursName, ours));
    if (!reference.isEmpty()) {
      data.addSeries(series(referenceName, reference));
    }
    XYLineAndShapeRenderer lines = sparseMarkers(data.getSeriesCount());
    if (data.getSeriesCount() > 1) {
      // the reference dashed and drawn on top: where the two agree, both stay visible
      lines.setSeriesStroke(
          1,
          new BasicStroke(
              2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {7f, 5f}, 0f));
      lines.setSeriesShape(1, new java.awt.geom.Rectangle2D.Double(-3.5, -3.5, 7, 7));
    }
    XYPlot plot = new XYPlot(data, new NumberAxis("step"), ChartStyle.log("loss", 10), lines);
    plot.setSeriesRenderingOrder(org.jfree.chart.plot.SeriesRenderingOrder.FORWARD);
    ChartStyle.axis((NumberAxis) plot.getDomainAxis());
    JFreeChart chart = new JFreeChart("Training loss", plot);
    ChartStyle.apply(chart, subtitle);
    if (reference.isEmpty()) {
      ChartStyle.writePng(ChartStyle.draw(WIDTH, HEIGHT, chart), png);
      return;
    }
    XYSeries diff = new XYSeries("|" + oursName + " − reference| / reference");
    double worst = 0;
    int equal = 0;
    int n = Math.min(ours.size(), reference.size());
    for (int i = 0; i < n; i++) {
      double r = Math.abs(ours.get(i) - reference.get(i)) / Math.abs(reference.get(i));
      worst = Math.max(worst, r);
      if (r == 0) {
        equal++; // no place on a log axis: counted in the subtitle instead
      } else {
        diff.add(i + 1, r);
      }
    }
    XYSeriesCollection d = new XYSeriesCollection(diff);
    // one dot a step, no lines: a line would join the steps across the equal ones
    XYLineAndShapeRenderer one = new XYLineAndShapeRenderer(false, true);
    one.setSeriesPaint(0, ChartStyle.colour(2));
    one.setSeriesShape(0, new java.awt.geom.Ellipse2D.Double(-2.5, -2.5, 5, 5));
    NumberAxis steps = new NumberAxis("step");
    ChartStyle.axis(steps);
    XYPlot gap = new XYPlot(d, steps, ChartStyle.log("relative difference", 10), one);
    JFreeChart right = new JFreeChart("How far apart the two curves are", gap);
    ChartStyle.apply(
        right,
        String.format(
            java.util.Locale.ROOT,
            "per step: at most %.2g over %d steps; %d step(s) equal to the last bit (not drawn)",
            worst,
            n,
            equal));
    right.removeLegend();
    ChartStyle.writePng(ChartStyle.draw(2 * WIDTH, HEIGHT, chart, right), png);
  }

  private static XYSeries series(String name, List<Double> values) {
    XYSeries s = new XYSeries(name);
    for (int i = 0; i < values.size(); i++) {
      s.add(i + 1, values.get(i));
    }
    return s;
  }

  /** Lines with a marker on step 1 and every {@link #MARK_EVERY} steps. */
  private static XYLineAndShapeRenderer sparseMarkers(int seriesCount) {
    XYLineAndShapeRenderer r =
        new XYLineAndShapeRenderer(true, true) {
          @Override
          public boolean getItemShapeVisible(int series, int item) {
            return item % MARK_EVERY == 0;
          }
        };
    XYLineAndShapeRenderer style = ChartStyle.lines(seriesCount);
    for (int s = 0; s < seriesCount; s++) {
      r.setSeriesPaint(s, style.getSeriesPaint(s));
      r.setSeriesStroke(s, style.getSeriesStroke(s));
      r.setSeriesShape(s, style.getSeriesShape(s));
    }
    return r;
  }
}
