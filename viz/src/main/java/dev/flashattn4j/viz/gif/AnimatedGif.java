package dev.flashattn4j.viz.gif;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;

/**
 * An animated GIF that loops forever: frames with their own delays, written with ImageIO's GIF
 * writer. Each frame carries a graphic control extension with its delay (GIF counts in hundredths
 * of a second); the first frame also carries the NETSCAPE2.0 application extension with loop count
 * 0 (forever), which is what browsers and image viewers look for.
 */
public final class AnimatedGif {

  /** One frame and how long it stays on screen. */
  public record Frame(BufferedImage image, int delayMs) {
    public Frame {
      if (delayMs < 10 || delayMs % 10 != 0) {
        throw new IllegalArgumentException(
            "a GIF frame delay is a positive multiple of 10 ms, not " + delayMs);
      }
    }
  }

  private static final String FORMAT = "javax_imageio_gif_image_1.0";

  private final List<Frame> frames = new ArrayList<>();

  /** Adds a frame shown for {@code delayMs} milliseconds (a multiple of 10). */
  public AnimatedGif add(BufferedImage image, int delayMs) {
    frames.add(new Frame(image, delayMs));
    return this;
  }

  public int size() {
    return frames.size();
  }

  /** Writes the animation; the stream is not closed. */
  public void write(OutputStream out) throws IOException {
    if (frames.isEmpty()) {
      throw new IllegalStateException("an animation needs at least one frame");
    }
    ImageWriter writer = ImageIO.getImageWritersByFormatName("gif").next();
    try (ImageOutputStream ios = ImageIO.createImageOutputStream(out)) {
      writer.setOutput(ios);
      writer.prepareWriteSequence(null);
      for (int f = 0; f < frames.size(); f++) {
        Frame frame = frames.get(f);
        BufferedImage indexed = Quantizer.toIndexed(frame.image());
        IIOMetadata meta =
            writer.getDefaultImageMetadata(
                new ImageTypeSpecifier(indexed), writer.getDefaultWriteParam());
        addExtensions(meta, frame.delayMs(), f == 0);
        writer.writeToSequence(new IIOImage(indexed, null, meta), null);
      }
      writer.endWriteSequence();
    } finally {
      writer.dispose();
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
