package dev.flashattn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.viz.chart.IoChart;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IoPlotTest {

  @TempDir Path dir;

  @Test
  void sweepWithPlotWritesTheChart() throws IOException {
    Path png = dir.resolve("io.png");
    Cli r = Cli.run("io", "--n", "1024", "--d", "64", "--sweep", "--plot", png.toString());
    assertEquals(0, r.exit(), r.toString());
    assertTrue(r.out().contains("wrote " + png), r.out());
    BufferedImage img = ImageIO.read(png.toFile());
    assertNotNull(img);
    assertEquals(IoChart.WIDTH, img.getWidth());
    assertEquals(IoChart.HEIGHT, img.getHeight());
  }

  @Test
  void plotIntoAMissingDirectoryIsBadInputBeforeAnyWork() {
    Path png = dir.resolve("missing/io.png");
    Cli r = Cli.run("io", "--n", "64", "--d", "8", "--sweep", "--plot", png.toString());
    assertEquals(2, r.exit(), r.toString());
    assertTrue(r.err().startsWith("error: --plot"), r.err());
    assertEquals("", r.out(), "nothing printed before the error");
    assertTrue(Files.notExists(png));
  }
}
