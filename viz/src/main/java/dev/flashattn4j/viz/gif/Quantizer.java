package dev.flashattn4j.viz.gif;

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

  /** Palette entries for colours; index 255 stays free to mean "transparent". */
  static final int COLOURS = 255;

  /** The index of the transparent "unchanged" pixel. */
  static final int TRANSPARENT = 255;

  /**
   * A frame reduced to a palette.
   *
   * @param palette the colours (0xRRGGBB), at most {@link #COLOURS}
   * @param index pixel k has colour {@code palette[index[k] & 0xFF]}
   */
  record Quantized(int[] palette, byte[] index) {
    int colour(int k) {
      return palette[index[k] & 0xFF];
    }

    /** A 256-entry colour model of the palette, index 255 transparent. */
    IndexColorModel model() {
      byte[] r = new byte[256];
      byte[] g = new byte[256];
      byte[] b = new byte[256];
      for (int p = 0; p < palette.length; p++) {
        r[p] = (byte) (palette[p] >> 16);
        g[p] = (byte) (palette[p] >> 8);
        b[p] = (byte) palette[p];
      }
      return new IndexColorModel(8, 256, r, g, b, TRANSPARENT);
    }
  }

  private Quantizer() {}

  /**
   * Reduces pixels to a palette.
   *
   * @param rgb the pixels, 0xRRGGBB, row-major, {@code width} per row
   */
  static Quantized quantize(int[] rgb, int width) {
    int[] palette = palette(rgb, width);
    Map<Integer, Integer> lookup = new HashMap<>();
    for (int p = 0; p < palette.length; p++) {
      lookup.put(palette[p], p);
    }
    byte[] index = new byte[rgb.length];
    for (int k = 0; k < rgb.length; k++) {
      Integer p = lookup.get(rgb[k]);
      if (p == null) {
        p = nearest(palette, rgb[k]);
        lookup.put(rgb[k], p);
      }
      index[k] = (byte) (int) p;
    }
    return new Quantized(palette, index);
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
