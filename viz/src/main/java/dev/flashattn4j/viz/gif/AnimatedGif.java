package dev.flashattn4j.viz.gif;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
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
  private int width;
  private int height;
  // what a viewer shows after the frames so far (0xRRGGBB per pixel)
  private int[] shown;

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

  /**
   * Adds a frame shown for {@code delayMs} milliseconds (a multiple of 10). After the first frame
   * only the rectangle that changed is stored, its unchanged pixels transparent, so that a long
   * animation of mostly still pictures stays small.
   */
  public void frame(BufferedImage image, int delayMs) throws IOException {
    checkDelay(delayMs);
    int w = image.getWidth();
    int h = image.getHeight();
    boolean first = frames == 0;
    if (first) {
      width = w;
      height = h;
      shown = new int[w * h];
    } else if (w != width || h != height) {
      throw new IllegalArgumentException(
          "every frame must be " + width + "×" + height + ", not " + w + "×" + h);
    }
    int[] rgb = image.getRGB(0, 0, w, h, null, 0, w);
    for (int k = 0; k < rgb.length; k++) {
      rgb[k] &= 0xFFFFFF;
    }
    Quantizer.Quantized q = Quantizer.quantize(rgb, w);
    int x0 = first ? 0 : w;
    int y0 = first ? 0 : h;
    int x1 = first ? w - 1 : -1;
    int y1 = first ? h - 1 : -1;
    if (!first) {
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          if (q.colour(y * w + x) != shown[y * w + x]) {
            x0 = Math.min(x0, x);
            x1 = Math.max(x1, x);
            y0 = Math.min(y0, y);
            y1 = Math.max(y1, y);
          }
        }
      }
      if (x1 < 0) { // nothing changed: one transparent pixel
        x0 = 0;
        y0 = 0;
        x1 = 0;
        y1 = 0;
      }
    }
    int bw = x1 - x0 + 1;
    int bh = y1 - y0 + 1;
    BufferedImage part = new BufferedImage(bw, bh, BufferedImage.TYPE_BYTE_INDEXED, q.model());
    byte[] pixels = ((DataBufferByte) part.getRaster().getDataBuffer()).getData();
    for (int y = 0; y < bh; y++) {
      for (int x = 0; x < bw; x++) {
        int k = (y0 + y) * w + x0 + x;
        int colour = q.colour(k);
        boolean changed = first || colour != shown[k];
        pixels[y * bw + x] = changed ? q.index()[k] : (byte) Quantizer.TRANSPARENT;
        shown[k] = colour;
      }
    }
    IIOMetadata meta =
        writer.getDefaultImageMetadata(new ImageTypeSpecifier(part), writer.getDefaultWriteParam());
    addExtensions(meta, delayMs, first, x0, y0);
    writer.writeToSequence(new IIOImage(part, null, meta), null);
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

  private static void addExtensions(IIOMetadata meta, int delayMs, boolean first, int x, int y)
      throws IOException {
    IIOMetadataNode root = (IIOMetadataNode) meta.getAsTree(FORMAT);
    IIOMetadataNode descriptor = child(root, "ImageDescriptor");
    descriptor.setAttribute("imageLeftPosition", Integer.toString(x));
    descriptor.setAttribute("imageTopPosition", Integer.toString(y));
    descriptor.setAttribute("interlaceFlag", "FALSE");
    IIOMetadataNode gce = child(root, "GraphicControlExtension");
    gce.setAttribute("disposalMethod", "doNotDispose"); // each frame draws over the last
    gce.setAttribute("userInputFlag", "FALSE");
    gce.setAttribute("transparentColorFlag", first ? "FALSE" : "TRUE");
    gce.setAttribute("delayTime", Integer.toString(delayMs / 10));
    gce.setAttribute("transparentColorIndex", Integer.toString(Quantizer.TRANSPARENT));
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
