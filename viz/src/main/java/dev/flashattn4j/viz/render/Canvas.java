package dev.flashattn4j.viz.render;

import java.awt.BasicStroke;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;

/** A white image to draw on with anti-aliased shapes and text, and small text helpers. */
public final class Canvas {

  /** The font family of every picture (DejaVu Sans on Debian, which has ℓ, ∞, ᵀ, subscripts). */
  public static final String FONT = Font.SANS_SERIF;

  private final BufferedImage image;
  private final Graphics2D g;

  public Canvas(int width, int height) {
    image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    g = image.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(
        RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setRenderingHint(
        RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
    g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
    g.setColor(Palette.BACKGROUND);
    g.fillRect(0, 0, width, height);
    g.setColor(Palette.INK);
    g.setStroke(new BasicStroke(1f));
  }

  public Graphics2D graphics() {
    return g;
  }

  /** Ends drawing and gives the image. */
  public BufferedImage finish() {
    g.dispose();
    return image;
  }

  public static Font font(int style, float size) {
    return new Font(FONT, style, 1).deriveFont(size);
  }

  /** Draws {@code text} with its left end at x and its baseline at y. */
  public void text(String text, double x, double y, Font font) {
    g.setFont(font);
    g.drawString(text, (float) x, (float) y);
  }

  /** Draws {@code text} centred on (cx, cy) (vertically on the middle of the capitals). */
  public void centred(String text, double cx, double cy, Font font) {
    g.setFont(font);
    FontMetrics fm = g.getFontMetrics();
    float w = (float) fm.getStringBounds(text, g).getWidth();
    float ascent = font.getLineMetrics("0", g.getFontRenderContext()).getAscent();
    g.drawString(text, (float) (cx - w / 2), (float) (cy + ascent * 0.36f));
  }

  /** The width of {@code text} in {@code font}. */
  public double width(String text, Font font) {
    return g.getFontMetrics(font).getStringBounds(text, g).getWidth();
  }
}
