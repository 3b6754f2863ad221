package dev.flashattn4j.viz.gif;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Reduces a drawing to the 256 colours a GIF frame holds. Drawings are mostly flat fills, so the
 * palette is the most frequent colours, kept exactly (a fill keeps its exact colour, which the
 * pixel tests rely on); rarer colours (the anti-aliased edges of text and lines) go to the nearest
 * palette colour.
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
    int[] palette = palette(rgb);
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

  /** The (at most 256) most frequent colours, most frequent first. */
  private static int[] palette(int[] rgb) {
    int[] sorted = rgb.clone();
    Arrays.sort(sorted);
    int distinct = 0;
    long[] counted = new long[sorted.length];
    for (int k = 0; k < sorted.length; ) {
      int run = k;
      while (run < sorted.length && sorted[run] == sorted[k]) {
        run++;
      }
      // count in the high bits, colour in the low bits: sorting sorts by count
      counted[distinct++] = ((long) (run - k) << 24) | sorted[k];
      k = run;
    }
    long[] byCount = Arrays.copyOf(counted, distinct);
    Arrays.sort(byCount);
    int n = Math.min(COLOURS, distinct);
    int[] palette = new int[n];
    for (int p = 0; p < n; p++) {
      palette[p] = (int) (byCount[distinct - 1 - p] & 0xFFFFFF);
    }
    return palette;
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
