package dev.flashattn4j.viz.gif;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import org.w3c.dom.Node;

/**
 * What an animated GIF holds, as ImageIO decodes it: the frames, each frame's delay and the loop
 * count of the NETSCAPE2.0 extension. For tests and for looking at an animation frame by frame.
 *
 * @param frames the decoded frames (each drawn over the previous ones, as a viewer shows them)
 * @param delaysMs the delay of each frame in milliseconds
 * @param loopCount the NETSCAPE2.0 loop count (0 = forever), or -1 when the GIF has none
 */
public record GifInfo(List<BufferedImage> frames, List<Integer> delaysMs, int loopCount) {

  private static final String FORMAT = "javax_imageio_gif_image_1.0";

  /** Decodes a GIF file. */
  public static GifInfo read(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file);
        ImageInputStream iis = ImageIO.createImageInputStream(in)) {
      ImageReader reader = ImageIO.getImageReadersByFormatName("gif").next();
      try {
        reader.setInput(iis, false);
        int count = reader.getNumImages(true);
        List<BufferedImage> frames = new ArrayList<>();
        List<Integer> delays = new ArrayList<>();
        int loop = -1;
        BufferedImage canvas = null;
        for (int f = 0; f < count; f++) {
          BufferedImage raw = reader.read(f);
          IIOMetadataNode root = (IIOMetadataNode) reader.getImageMetadata(f).getAsTree(FORMAT);
          int x = 0;
          int y = 0;
          for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
            IIOMetadataNode node = (IIOMetadataNode) n;
            switch (node.getNodeName()) {
              case "ImageDescriptor" -> {
                x = Integer.parseInt(node.getAttribute("imageLeftPosition"));
                y = Integer.parseInt(node.getAttribute("imageTopPosition"));
              }
              case "GraphicControlExtension" ->
                  delays.add(10 * Integer.parseInt(node.getAttribute("delayTime")));
              case "ApplicationExtensions" -> loop = Math.max(loop, loopCount(node));
              default -> {}
            }
          }
          if (canvas == null) {
            canvas =
                new BufferedImage(
                    raw.getWidth() + x, raw.getHeight() + y, BufferedImage.TYPE_INT_RGB);
          }
          canvas.getGraphics().drawImage(raw, x, y, null);
          BufferedImage frame =
              new BufferedImage(canvas.getWidth(), canvas.getHeight(), BufferedImage.TYPE_INT_RGB);
          frame.getGraphics().drawImage(canvas, 0, 0, null);
          frames.add(frame);
        }
        return new GifInfo(List.copyOf(frames), List.copyOf(delays), loop);
      } finally {
        reader.dispose();
      }
    }
  }

  private static int loopCount(IIOMetadataNode apps) {
    for (Node n = apps.getFirstChild(); n != null; n = n.getNextSibling()) {
      IIOMetadataNode app = (IIOMetadataNode) n;
      if ("NETSCAPE".equals(app.getAttribute("applicationID"))
          && app.getUserObject() instanceof byte[] data
          && data.length >= 3
          && data[0] == 1) {
        return (data[1] & 0xFF) | ((data[2] & 0xFF) << 8);
      }
    }
    return -1;
  }
}
