package dev.flashattn4j.viz.chart;

import java.nio.file.Path;
import java.util.List;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * HBM accesses of Algorithm 1 and of standard attention, side by side: against N (log–log, at a
 * fixed M) and against the block size B_c (at a fixed N), like the paper's Figure 2 (middle).
 */
public final class IoChart {

  public static final int WIDTH = 1500;
  public static final int HEIGHT = 650;

  private IoChart() {}

  /**
   * Writes the two charts as one PNG (whole or not at all).
   *
   * @param byN accesses against N; x = N
   * @param nWhat the fixed sizes of the left chart ("d = 64, M = 100,000")
   * @param byBlock accesses against B_c; x = B_c
   * @param blockWhat the fixed sizes of the right chart ("N = 1024, d = 64")
   */
  public static void write(
      List<IoPoint> byN, String nWhat, List<IoPoint> byBlock, String blockWhat, Path png) {
    JFreeChart left = chart("HBM accesses against N", nWhat, "N (sequence length)", byN);
    JFreeChart right =
        chart("HBM accesses against block size", blockWhat, "B_c (rows of a K/V block)", byBlock);
    ChartStyle.writePng(ChartStyle.draw(WIDTH, HEIGHT, left, right), png);
  }

  static JFreeChart chart(String title, String subtitle, String xLabel, List<IoPoint> points) {
    if (points.isEmpty()) {
      throw new IllegalArgumentException("no points for '" + title + "'");
    }
    XYSeries flash = new XYSeries("Algorithm 1 (FlashAttention)");
    XYSeries standard = new XYSeries("standard attention (Algorithm 0)");
    for (IoPoint p : points) {
      flash.add(p.x(), p.algorithm1());
      standard.add(p.x(), p.standard());
    }
    XYSeriesCollection data = new XYSeriesCollection();
    data.addSeries(flash);
    data.addSeries(standard);
    XYPlot plot =
        new XYPlot(
            data,
            ChartStyle.log(xLabel, 2),
            ChartStyle.log("HBM accesses (elements)", 10),
            ChartStyle.lines(2));
    JFreeChart chart = new JFreeChart(title, plot);
    ChartStyle.apply(chart, subtitle);
    return chart;
  }
}
