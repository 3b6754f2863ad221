package dev.flashattn4j.viz.gif;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.flashattn4j.viz.AtomicFiles;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AnimatedGifTest {

  @TempDir Path dir;

  private static BufferedImage solid(Color c, boolean text) {
    BufferedImage img = new BufferedImage(64, 48, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(c);
    g.fillRect(0, 0, 64, 48);
    if (text) {
      // anti-aliased text: far more than 256 colours
      g.setRenderingHint(
          RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      for (int k = 0; k < 40; k++) {
        g.setColor(new Color(k * 6, 255 - k * 6, (k * 37) % 256));
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 9 + k % 5));
        g.drawString("ab", (k * 13) % 60, 10 + (k * 7) % 38);
      }
      g.setColor(c);
      g.fillRect(0, 0, 8, 8);
    }
    g.dispose();
    return img;
  }

  @Test
  void writesFramesDelaysAndTheLoopExtension() throws Exception {
    Path file = dir.resolve("a.gif");
    AtomicFiles.write(
        file,
        out -> {
          try (AnimatedGif gif = new AnimatedGif(out)) {
            gif.frame(solid(Color.RED, false), 1000);
            gif.frame(solid(new Color(0x0072B2), true), 250);
            gif.frame(solid(Color.GREEN, false), 30);
          }
        });

    GifInfo info = GifInfo.read(file);
    assertEquals(3, info.frames().size());
    assertEquals(List.of(1000, 250, 30), info.delaysMs());
    assertEquals(0, info.loopCount(), "NETSCAPE2.0 loop count 0 = forever");
    assertEquals(Color.RED.getRGB(), info.frames().get(0).getRGB(30, 30));
    // a flat fill keeps its exact colour even in a frame with more than 256 colours
    assertEquals(0xFF0072B2, info.frames().get(1).getRGB(2, 2));
    assertEquals(Color.GREEN.getRGB(), info.frames().get(2).getRGB(30, 30));
  }

  @Test
  void laterFramesStoreOnlyWhatChangedAndDecodeToTheWholePicture() throws Exception {
    BufferedImage a = solid(Color.WHITE, false);
    BufferedImage b = solid(Color.WHITE, false);
    Graphics2D g = b.createGraphics();
    g.setColor(Color.BLUE);
    g.fillRect(10, 20, 5, 4);
    g.dispose();
    Path file = dir.resolve("diff.gif");
    AtomicFiles.write(
        file,
        out -> {
          try (AnimatedGif gif = new AnimatedGif(out)) {
            gif.frame(a, 100);
            gif.frame(b, 100);
            gif.frame(b, 100); // nothing changed
            gif.frame(a, 100); // back
          }
        });
    GifInfo info = GifInfo.read(file);
    assertEquals(4, info.frames().size());
    for (int f = 0; f < 4; f++) {
      BufferedImage expected = f == 1 || f == 2 ? b : a;
      for (int y = 0; y < 48; y++) {
        for (int x = 0; x < 64; x++) {
          assertEquals(
              expected.getRGB(x, y),
              info.frames().get(f).getRGB(x, y),
              "frame " + f + " at " + x + "," + y);
        }
      }
    }
    // the second frame is stored as the 5 × 4 rectangle that changed
    javax.imageio.ImageReader reader =
        javax.imageio.ImageIO.getImageReadersByFormatName("gif").next();
    try (var in = javax.imageio.ImageIO.createImageInputStream(file.toFile())) {
      reader.setInput(in);
      assertEquals(
          List.of(64, 5, 1, 5),
          List.of(reader.getWidth(0), reader.getWidth(1), reader.getWidth(2), reader.getWidth(3)));
    } finally {
      reader.dispose();
    }
  }

  @Test
  void framesOfAnotherSizeAreRejected() {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            AtomicFiles.write(
                dir.resolve("sizes.gif"),
                out -> {
                  try (AnimatedGif gif = new AnimatedGif(out)) {
                    gif.frame(solid(Color.RED, false), 100);
                    gif.frame(new BufferedImage(10, 10, BufferedImage.TYPE_INT_RGB), 100);
                  }
                }));
  }

  @Test
  void rejectsDelaysAGifCannotHold() {
    assertThrows(IllegalArgumentException.class, () -> AnimatedGif.checkDelay(0));
    assertThrows(IllegalArgumentException.class, () -> AnimatedGif.checkDelay(15));
    assertEquals(20, AnimatedGif.checkDelay(20));
  }

  @Test
  void anEmptyAnimationIsAnErrorAndLeavesNoFile() {
    Path file = dir.resolve("empty.gif");
    assertThrows(
        IllegalStateException.class,
        () ->
            AtomicFiles.write(
                file,
                out -> {
                  try (AnimatedGif gif = new AnimatedGif(out)) {
                    assertEquals(0, gif.frames());
                  }
                }));
    assertEquals(false, file.toFile().exists());
    assertEquals(0, dir.toFile().list().length, "no temporary file left behind");
  }
}
