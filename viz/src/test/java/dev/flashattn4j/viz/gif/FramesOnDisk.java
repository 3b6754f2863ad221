package dev.flashattn4j.viz.gif;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/** Saves decoded frames as PNG under target/frames/, so that a person can look at them. */
public final class FramesOnDisk {

  private FramesOnDisk() {}

  public static void save(String name, List<BufferedImage> frames) {
    try {
      Path dir = Path.of("target", "frames", name);
      Files.createDirectories(dir);
      for (int f = 0; f < frames.size(); f++) {
        ImageIO.write(frames.get(f), "png", dir.resolve(String.format("%04d.png", f)).toFile());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
