package dev.flashattn4j.viz.chart;

import java.nio.file.Path;
import java.util.List;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The loss curve of a training run against step (log scale), next to a reference run's. */
public final class LossChart {

  public static final int WIDTH = 1000;
  public static final int HEIGHT = 600;

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
    XYSeries a = new XYSeries(oursName);
    for (int i = 0; i < ours.size(); i++) {
      a.add(i + 1, ours.get(i));
    }
    XYSeriesCollection data = new XYSeriesCollection();
    data.addSeries(a);
    if (!reference.isEmpty()) {
      XYSeries b = new XYSeries(referenceName);
      for (int i = 0; i < reference.size(); i++) {
        b.add(i + 1, reference.get(i));
      }
      data.addSeries(b);
    }
    NumberAxis steps = new NumberAxis("step");
    XYPlot plot =
        new XYPlot(
            data, steps, ChartStyle.log("loss", 10), ChartStyle.lines(data.getSeriesCount()));
    JFreeChart chart = new JFreeChart("Training loss", plot);
    ChartStyle.apply(chart, subtitle);
    ChartStyle.writePng(ChartStyle.draw(WIDTH, HEIGHT, chart), png);
  }
}
