package dev.flashattn4j.viz.render;

import java.awt.Color;

/**
 * The colours of every picture: the Okabe–Ito palette, which people with any common form of colour
 * blindness tell apart, plus the greys of the page.
 */
public final class Palette {

  public static final Color BACKGROUND = Color.WHITE;
  public static final Color INK = new Color(0x1F, 0x1F, 0x1F);
  public static final Color MUTED = new Color(0x6B, 0x6B, 0x6B);
  public static final Color GRID = new Color(0xDD, 0xDD, 0xDD);
  public static final Color CELL = new Color(0xF6, 0xF6, 0xF6);
  public static final Color CELL_BORDER = new Color(0xC8, 0xC8, 0xC8);

  public static final Color ORANGE = new Color(0xE6, 0x9F, 0x00);
  public static final Color SKY_BLUE = new Color(0x56, 0xB4, 0xE9);
  public static final Color GREEN = new Color(0x00, 0x9E, 0x73);
  public static final Color YELLOW = new Color(0xF0, 0xE4, 0x42);
  public static final Color BLUE = new Color(0x00, 0x72, 0xB2);
  public static final Color VERMILLION = new Color(0xD5, 0x5E, 0x00);
  public static final Color PURPLE = new Color(0xCC, 0x79, 0xA7);

  /** The tint of a block of Q, O, ℓ, m rows (the query block i) while it is in SRAM. */
  public static final Color QUERY_TINT = new Color(0xFB, 0xD9, 0x8A);

  /** The tint of a block of K, V rows (the key block j) while it is in SRAM. */
  public static final Color KEY_TINT = new Color(0xA9, 0xD6, 0xF5);

  /** The outline of a block that this step writes to HBM. */
  public static final Color WRITE_OUTLINE = VERMILLION;

  private Palette() {}

  /** The colour of {@code t} in [0, 1] on a white → blue heat map scale. */
  public static Color heat(double t) {
    double c = Double.isNaN(t) ? 0 : Math.max(0, Math.min(1, t));
    int r = (int) Math.round(0xF7 + (0x08 - 0xF7) * c);
    int g = (int) Math.round(0xFB + (0x30 - 0xFB) * c);
    int b = (int) Math.round(0xFF + (0x6B - 0xFF) * c);
    return new Color(r, g, b);
  }

  /** Black or white, whichever reads better on {@code fill}. */
  public static Color textOn(Color fill) {
    double lum = 0.299 * fill.getRed() + 0.587 * fill.getGreen() + 0.114 * fill.getBlue();
    return lum < 140 ? Color.WHITE : INK;
  }
}
