package dev.flashattn4j.viz.matvec;

/**
 * The square window of the plane a vector plot shows: it holds the origin and every given point
 * with a margin, has the same scale on both axes (so that arrows keep their angles), and its tick
 * step is a "nice" number (1, 2 or 5 times a power of ten).
 *
 * @param xmin left edge
 * @param ymin bottom edge
 * @param span width and height
 * @param step distance between ticks
 */
public record PlotRange(double xmin, double ymin, double span, double step) {

  /** The smallest nice window around the origin and {@code points} (each {x, y}). */
  public static PlotRange fit(double[]... points) {
    double x0 = 0;
    double x1 = 0;
    double y0 = 0;
    double y1 = 0;
    for (double[] p : points) {
      x0 = Math.min(x0, p[0]);
      x1 = Math.max(x1, p[0]);
      y0 = Math.min(y0, p[1]);
      y1 = Math.max(y1, p[1]);
    }
    double raw = Math.max(Math.max(x1 - x0, y1 - y0), 1e-9);
    double span0 = raw * 1.2;
    double step = niceStep(span0 / 8);
    // snap the edges outwards to ticks, the same span on both axes
    double lo = Math.floor((x0 - raw * 0.1) / step) * step;
    double bo = Math.floor((y0 - raw * 0.1) / step) * step;
    double hi = Math.ceil((x1 + raw * 0.1) / step) * step;
    double to = Math.ceil((y1 + raw * 0.1) / step) * step;
    double span = Math.max(hi - lo, to - bo);
    if (raw <= 1e-9) {
      return new PlotRange(-1, -1, 2, 0.5);
    }
    // centre the shorter axis on its content
    double xmin = lo - Math.floor((span - (hi - lo)) / 2 / step) * step;
    double ymin = bo - Math.floor((span - (to - bo)) / 2 / step) * step;
    return new PlotRange(xmin, ymin, span, step);
  }

  public double xmax() {
    return xmin + span;
  }

  public double ymax() {
    return ymin + span;
  }

  /** 1, 2 or 5 times a power of ten, the nearest at or above {@code x}. */
  static double niceStep(double x) {
    double p = Math.pow(10, Math.floor(Math.log10(x)));
    double m = x / p;
    double nice = m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10;
    return nice * p;
  }
}
