package dev.flashattn4j.viz.gif;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;

/**
 * Reduces a drawing to the 256 colours a GIF frame holds. Drawings are mostly flat fills, so the
 * palette is the colours of flat areas, kept exactly (a fill keeps its exact colour, which the
 * pixel tests rely on), then the most frequent other colours; the rest (the anti-aliased edges of
 * text and lines) go to the nearest palette colour.
 */
final class Quantizer {

  private static final int COLOURS = 256;

  private Quantizer() {}

  /** The image as TYPE_BYTE_INDEXED with at most 256 colours. */
  static BufferedImage toIndexed(BufferedImage image) {
    int w = image.getWidth();
    int h = image.getHeight();
    int[] rgb = image.getRGB(0, 0, w, h, null, 0, w);
    for (int k = 0; k < rgb.length; k++) {
      rgb[k] &= 0xFFFFFF;
    }
    int[] palette = palette(rgb, w);
    Map<Integer, Integer> index = new HashMap<>();
    for (int p = 0; p < palette.length; p++) {
      index.put(palette[p], p);
    }
    byte[] r = new byte[COLOURS];
    byte[] g = new byte[COLOURS];
    byte[] b = new byte[COLOURS];
    for (int p = 0; p < palette.length; p++) {
      r[p] = (byte) (palette[p] >> 16);
      g[p] = (byte) (palette[p] >> 8);
      b[p] = (byte) palette[p];
    }
    IndexColorModel model = new IndexColorModel(8, COLOURS, r, g, b);
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_INDEXED, model);
    byte[] pixels = ((DataBufferByte) out.getRaster().getDataBuffer()).getData();
    for (int k = 0; k < rgb.length; k++) {
      Integer p = index.get(rgb[k]);
      if (p == null) {
        p = nearest(palette, rgb[k]);
        index.put(rgb[k], p);
      }
      pixels[k] = (byte) (int) p;
    }
    return out;
  }

  /**
   * The (at most 256) palette colours: colours of flat areas first (pixels whose right and lower
   * neighbours have the same colour: fills, however small), then the most frequent of the rest.
   */
  private static int[] palette(int[] rgb, int width) {
    Map<Integer, long[]> counts = new HashMap<>(); // colour → {flat pixels, all pixels}
    for (int k = 0; k < rgb.length; k++) {
      long[] c = counts.computeIfAbsent(rgb[k], x -> new long[2]);
      c[1]++;
      int right = k + 1;
      int down = k + width;
      if (right % width != 0 && down < rgb.length && rgb[right] == rgb[k] && rgb[down] == rgb[k]) {
        c[0]++;
      }
    }
    return counts.entrySet().stream()
        .sorted(
            Comparator.comparingLong((Map.Entry<Integer, long[]> e) -> -e.getValue()[0])
                .thenComparingLong(e -> -e.getValue()[1])
                .thenComparingInt(Map.Entry::getKey))
        .limit(COLOURS)
        .mapToInt(Map.Entry::getKey)
        .toArray();
  }

  private static int nearest(int[] palette, int colour) {
    int best = 0;
    long bestDist = Long.MAX_VALUE;
    for (int p = 0; p < palette.length; p++) {
      long dist = distance(palette[p], colour);
      if (dist < bestDist) {
        bestDist = dist;
        best = p;
      }
    }
    return best;
  }

  private static long distance(int a, int b) {
    int dr = ((a >> 16) & 0xFF) - ((b >> 16) & 0xFF);
    int dg = ((a >> 8) & 0xFF) - ((b >> 8) & 0xFF);
    int db = (a & 0xFF) - (b & 0xFF);
    return 3L * dr * dr + 4L * dg * dg + 2L * db * db;
  }
}
