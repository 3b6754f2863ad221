package dev.flashattn4j.viz.gif;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;

/**
 * Writes an animated GIF that loops forever, frame by frame (frames are encoded as they come, so a
 * long animation never holds all its frames in memory). Each frame carries a graphic control
 * extension with its own delay (GIF counts in hundredths of a second); the first frame also carries
 * the NETSCAPE2.0 application extension with loop count 0 (forever), which browsers and image
 * viewers look for.
 *
 * <pre>
 *   try (AnimatedGif gif = new AnimatedGif(out)) {
 *     gif.frame(image1, 1000);
 *     gif.frame(image2, 1000);
 *   }
 * </pre>
 */
public final class AnimatedGif implements AutoCloseable {

  private static final String FORMAT = "javax_imageio_gif_image_1.0";

  private final ImageWriter writer;
  private final ImageOutputStream ios;
  private int frames;

  /** Starts an animation on {@code out}; {@link #close} ends it (and leaves {@code out} open). */
  public AnimatedGif(OutputStream out) throws IOException {
    writer = ImageIO.getImageWritersByFormatName("gif").next();
    ios = ImageIO.createImageOutputStream(out);
    writer.setOutput(ios);
    writer.prepareWriteSequence(null);
  }

  /** Checks a frame delay: a GIF holds a positive multiple of 10 ms. */
  public static int checkDelay(int delayMs) {
    if (delayMs < 10 || delayMs % 10 != 0 || delayMs > 655_350) {
      throw new IllegalArgumentException(
          "a GIF frame delay is a positive multiple of 10 ms (at most 655350), not " + delayMs);
    }
    return delayMs;
  }

  /** Adds a frame shown for {@code delayMs} milliseconds (a multiple of 10). */
  public void frame(BufferedImage image, int delayMs) throws IOException {
    checkDelay(delayMs);
    BufferedImage indexed = Quantizer.toIndexed(image);
    IIOMetadata meta =
        writer.getDefaultImageMetadata(
            new ImageTypeSpecifier(indexed), writer.getDefaultWriteParam());
    addExtensions(meta, delayMs, frames == 0);
    writer.writeToSequence(new IIOImage(indexed, null, meta), null);
    frames++;
  }

  /** Frames written so far. */
  public int frames() {
    return frames;
  }

  /**
   * Ends the animation.
   *
   * @throws IllegalStateException when no frame was written (a GIF needs one)
   */
  @Override
  public void close() throws IOException {
    try {
      if (frames == 0) {
        throw new IllegalStateException("an animation needs at least one frame");
      }
      writer.endWriteSequence();
      ios.flush();
    } finally {
      writer.dispose();
      ios.close();
    }
  }

  private static void addExtensions(IIOMetadata meta, int delayMs, boolean first)
      throws IOException {
    IIOMetadataNode root = (IIOMetadataNode) meta.getAsTree(FORMAT);
    IIOMetadataNode gce = child(root, "GraphicControlExtension");
    gce.setAttribute("disposalMethod", "none");
    gce.setAttribute("userInputFlag", "FALSE");
    gce.setAttribute("transparentColorFlag", "FALSE");
    gce.setAttribute("delayTime", Integer.toString(delayMs / 10));
    gce.setAttribute("transparentColorIndex", "0");
    if (first) {
      IIOMetadataNode apps = child(root, "ApplicationExtensions");
      IIOMetadataNode app = new IIOMetadataNode("ApplicationExtension");
      app.setAttribute("applicationID", "NETSCAPE");
      app.setAttribute("authenticationCode", "2.0");
      app.setUserObject(new byte[] {1, 0, 0}); // sub-block 1: loop count 0 = forever
      apps.appendChild(app);
    }
    meta.setFromTree(FORMAT, root);
  }

  private static IIOMetadataNode child(IIOMetadataNode root, String name) {
    for (int k = 0; k < root.getLength(); k++) {
      if (root.item(k).getNodeName().equalsIgnoreCase(name)) {
        return (IIOMetadataNode) root.item(k);
      }
    }
    IIOMetadataNode node = new IIOMetadataNode(name);
    root.appendChild(node);
    return node;
  }
}
