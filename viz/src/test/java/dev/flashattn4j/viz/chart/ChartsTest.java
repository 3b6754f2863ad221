package dev.flashattn4j.viz.chart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.paper.BlockSizes;
import dev.flashattn4j.paper.IoModel;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChartsTest {

  @TempDir Path dir;

  @Test
  void benchChartDrawsEverySeriesAndThePeak() throws Exception {
    List<BenchPoint> points = new ArrayList<>();
    for (int n : new int[] {512, 1024, 2048, 4096}) {
      points.add(new BenchPoint("fast", 1, 64, false, n, 40 + n / 200.0));
      points.add(new BenchPoint("fast", 2, 64, false, n, 80 + n / 100.0));
      points.add(new BenchPoint("paper", 1, 64, false, n, 2.5));
    }
    Path png = dir.resolve("bench.png");
    BenchChart.write(
        points,
        List.of(new Peak("FMA peak, 1 thread", 99), new Peak("FMA peak, 2 threads", 198)),
        "test machine",
        png);
    BufferedImage img = ImageIO.read(png.toFile());
    keep(png, "bench.png");
    assertEquals(BenchChart.WIDTH, img.getWidth());
    assertEquals(BenchChart.HEIGHT, img.getHeight());
    // one colour per series: blue, vermillion, green lines are all there
    assertTrue(pixels(img, ChartStyle.colour(0)) > 200, "series 1 drawn");
    assertTrue(pixels(img, ChartStyle.colour(1)) > 200, "series 2 drawn");
    assertTrue(pixels(img, ChartStyle.colour(2)) > 200, "series 3 drawn");
    assertTrue(pixels(img, Color.DARK_GRAY) > 200, "peak lines drawn");
  }

  /** One N once drew one column of overlapping points: it is a bar per kernel and threads. */
  @Test
  void aBenchAtOneNIsBarsOnePerKernelAndThreadsGroupedByCausal() throws Exception {
    List<BenchPoint> points =
        List.of(
            new BenchPoint("fast", 1, 64, false, 4096, 60),
            new BenchPoint("fast", 2, 64, false, 4096, 118),
            new BenchPoint("fast", 1, 64, true, 4096, 55),
            new BenchPoint("fast", 2, 64, true, 4096, 104));
    var chart = BenchChart.chart(points, List.of(new Peak("FMA peak, 2 threads", 200)), "");
    var plot = assertInstanceOf(org.jfree.chart.plot.CategoryPlot.class, chart.getPlot());
    var data = plot.getDataset();
    assertEquals(List.of("fast, 1 thread", "fast, 2 threads"), data.getRowKeys());
    assertEquals(List.of("not causal", "causal"), data.getColumnKeys());
    assertEquals(104.0, data.getValue("fast, 2 threads", "causal").doubleValue());
    Path png = dir.resolve("bench-one-n.png");
    BenchChart.write(points, List.of(new Peak("FMA peak, 2 threads", 200)), "test", png);
    keep(png, "bench-one-n.png");
    BufferedImage img = ImageIO.read(png.toFile());
    // bars, not dots: thousands of pixels of each colour
    assertTrue(pixels(img, ChartStyle.colour(0)) > 5000, "the 1-thread bars");
    assertTrue(pixels(img, ChartStyle.colour(1)) > 5000, "the 2-thread bars");
  }

  /** Causal and not causal once shared a marker: triangles and circles, whatever the colour. */
  @Test
  void causalAndNotCausalHaveTheirOwnMarkers() {
    List<BenchPoint> points = new ArrayList<>();
    for (int n : new int[] {1024, 4096}) {
      for (int threads : new int[] {1, 2}) {
        points.add(new BenchPoint("fast", threads, 64, false, n, 50 * threads));
        points.add(new BenchPoint("fast", threads, 64, true, n, 45 * threads));
      }
    }
    var plot = BenchChart.chart(points, List.of(), "").getXYPlot();
    var renderer = plot.getRenderer();
    for (int s = 0; s < plot.getDataset().getSeriesCount(); s++) {
      String key = plot.getDataset().getSeriesKey(s).toString();
      boolean causal = key.endsWith(", causal");
      assertTrue(causal || key.endsWith(", not causal"), key);
      assertEquals(
          causal ? BenchChart.CAUSAL_MARKER : BenchChart.MARKER, renderer.getSeriesShape(s), key);
    }
    assertTrue(BenchChart.CAUSAL_MARKER != BenchChart.MARKER);
  }

  @Test
  void ioChartDrawsBothAlgorithmsAgainstNAndBlockSize() throws Exception {
    int d = 64;
    int m = 100_000;
    List<IoPoint> byN = new ArrayList<>();
    for (int n = 128; n <= 16384; n *= 2) {
      byN.add(
          new IoPoint(
              n,
              IoModel.algorithm1(1, BlockSizes.of(m, d, n, n), d, d).accesses(),
              IoModel.standard(1, n, n, d, d).accesses()));
    }
    List<IoPoint> byBlock = new ArrayList<>();
    for (IoModel.SweepRow r : IoModel.sweep(1, 1024, 1024, d, d)) {
      byBlock.add(new IoPoint(r.blocks().bc(), r.algorithm1().accesses(), r.standard().accesses()));
    }
    Path png = dir.resolve("io.png");
    IoChart.write(byN, "d = 64, M = 100,000", byBlock, "N = 1024, d = 64", png);
    keep(png, "io.png");
    BufferedImage img = ImageIO.read(png.toFile());
    assertEquals(IoChart.WIDTH, img.getWidth());
    assertTrue(pixels(img, ChartStyle.colour(0)) > 300);
    assertTrue(pixels(img, ChartStyle.colour(1)) > 300);
    // both halves have both series
    BufferedImage left = img.getSubimage(0, 0, IoChart.WIDTH / 2, IoChart.HEIGHT);
    BufferedImage right = img.getSubimage(IoChart.WIDTH / 2, 0, IoChart.WIDTH / 2, IoChart.HEIGHT);
    assertTrue(
        pixels(left, ChartStyle.colour(0)) > 100 && pixels(left, ChartStyle.colour(1)) > 100);
    assertTrue(
        pixels(right, ChartStyle.colour(0)) > 100 && pixels(right, ChartStyle.colour(1)) > 100);
  }

  @Test
  void noPointsIsAnErrorAndWritesNothing() {
    Path png = dir.resolve("none.png");
    assertThrows(IllegalArgumentException.class, () -> BenchChart.write(List.of(), 100, png));
    assertFalse(Files.exists(png));
  }

  /**
   * Issue 23: kernels 100x apart sat on 0 on a linear axis; over LOG_ABOVE apart the axis is
   * logarithmic, and close values keep the linear axis from 0.
   */
  @Test
  void valuesOrdersOfMagnitudeApartGetALogAxis() {
    List<BenchPoint> wide =
        List.of(
            new BenchPoint("fast", 1, 64, false, 256, 150),
            new BenchPoint("fast", 1, 64, false, 1024, 170),
            new BenchPoint("naive", 1, 64, false, 256, 1.5),
            new BenchPoint("naive", 1, 64, false, 1024, 1.6));
    var plot = (org.jfree.chart.plot.XYPlot) BenchChart.chart(wide, List.of(), "").getPlot();
    var axis = assertInstanceOf(org.jfree.chart.axis.LogAxis.class, plot.getRangeAxis());
    assertTrue(axis.getRange().getLowerBound() < 1.5, "the slowest kernel is inside the axis");
    List<BenchPoint> close =
        List.of(
            new BenchPoint("fast", 1, 64, false, 256, 150),
            new BenchPoint("fast", 2, 64, false, 1024, 290));
    var linear = (org.jfree.chart.plot.XYPlot) BenchChart.chart(close, List.of(), "").getPlot();
    assertInstanceOf(org.jfree.chart.axis.NumberAxis.class, linear.getRangeAxis());
    assertEquals(0, linear.getRangeAxis().getRange().getLowerBound());
  }

  /**
   * Issue 23: two loss curves that agree draw as one line; a second panel shows how far apart they
   * are, and a marker every 25 steps instead of 300 leaves the lines visible.
   */
  @Test
  void theLossChartShowsTheGapBetweenTwoCurvesThatAgree() throws Exception {
    List<Double> ours = new ArrayList<>();
    List<Double> torch = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      double loss = 2.5 * Math.exp(-i / 40.0) + 1e-3;
      ours.add(loss);
      torch.add(i % 2 == 0 ? loss : loss * (1 + 1e-6));
    }
    Path png = dir.resolve("loss.png");
    LossChart.write(ours, "ours", torch, "PyTorch", "test", png);
    BufferedImage img = ImageIO.read(png.toFile());
    keep(png, "loss.png");
    assertEquals(2 * LossChart.WIDTH, img.getWidth(), "two panels");
    BufferedImage right = img.getSubimage(LossChart.WIDTH, 0, LossChart.WIDTH, LossChart.HEIGHT);
    assertTrue(pixels(right, ChartStyle.colour(2)) > 300, "the differences are drawn");
    Path single = dir.resolve("alone.png");
    LossChart.write(ours, "ours", List.of(), "", "test", single);
    assertEquals(
        LossChart.WIDTH, ImageIO.read(single.toFile()).getWidth(), "no reference: one panel");
  }

  /** Pixels within a small distance of colour c. */
  private static int pixels(BufferedImage img, Color c) {
    int count = 0;
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        Color p = new Color(img.getRGB(x, y));
        if (Math.abs(p.getRed() - c.getRed())
                + Math.abs(p.getGreen() - c.getGreen())
                + Math.abs(p.getBlue() - c.getBlue())
            <= 24) {
          count++;
        }
      }
    }
    return count;
  }

  private static void keep(Path png, String name) throws Exception {
    Path dir = Path.of("target", "charts");
    Files.createDirectories(dir);
    Files.copy(png, dir.resolve(name), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }
}
