package dev.flashattn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.viz.chart.BenchChart;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchPlotTest {

  @TempDir Path dir;

  @Test
  void benchWithPlotWritesTheChart() throws IOException {
    Path png = dir.resolve("bench.png");
    Cli r =
        Cli.run(
            "bench",
            "--n",
            "8,16",
            "--d",
            "4",
            "--heads",
            "1",
            "--threads",
            "1",
            "--kernel",
            "fast,paper",
            "--causal",
            "none",
            "--warmup",
            "0",
            "--iters",
            "1",
            "--no-progress",
            "--plot",
            png.toString());
    assertEquals(0, r.exit(), r.toString());
    assertTrue(r.out().contains("wrote " + png), r.out());
    BufferedImage img = ImageIO.read(png.toFile());
    assertNotNull(img);
    assertEquals(BenchChart.WIDTH, img.getWidth());
    assertEquals(BenchChart.HEIGHT, img.getHeight());
  }

  @Test
  void plotIntoAMissingDirectoryIsBadInputBeforeTiming() {
    Path png = dir.resolve("missing/bench.png");
    Cli r = Cli.run("bench", "--n", "8", "--d", "4", "--no-progress", "--plot", png.toString());
    assertEquals(2, r.exit(), r.toString());
    assertTrue(r.err().startsWith("error: --plot"), r.err());
    assertTrue(Files.notExists(png));
  }
}
