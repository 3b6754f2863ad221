package dev.flashattn4j.viz.schedule;

import java.awt.geom.Rectangle2D;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where everything goes on a frame of a schedule animation. The cell sizes follow from N, d and the
 * block sizes, the same for every frame of a run, so that cells shrink as N grows and blocks stay
 * put from frame to frame. Tests use it to find the pixels of a cell.
 */
public final class ScheduleLayout {

  public static final int WIDTH = 1440;
  public static final int HEIGHT = 940;

  static final double HBM_X = 20;
  static final double HBM_W = 700;
  static final double PANEL_TITLE_Y = 148;
  static final double GRID_TITLE_Y = 172;
  static final double GRID_Y = 184;
  static final double GRID_BOTTOM = 640;
  static final double ROW_LABELS = 28;
  static final double GAP = 18;

  static final double SRAM_X = 760;
  static final double SRAM_W = 660;
  static final double SRAM_ROW1_H = 178;
  static final double SRAM_ROW2_TITLE_Y = 396;
  static final double SRAM_ROW2_Y = 408;
  static final double SCORES_W = 330;

  static final double BOTTOM_Y = 668;
  static final double CODE_X = 560;

  private final Map<String, double[]> hbmOrigins = new LinkedHashMap<>();
  private final double hbmCw;
  private final double hbmCh;
  private final double sramCw;
  private final double sramCh;
  private final double scoreCw;
  private final double rowCh;
  private final double statCw;

  /** The layout of the frames of {@code trace}. */
  public ScheduleLayout(ScheduleTrace trace) {
    List<Grid> arrays = trace.initial();
    int totalCols = arrays.stream().mapToInt(Grid::cols).sum();
    double avail = HBM_W - ROW_LABELS - GAP * (arrays.size() - 1);
    // whole pixels, so that fills, borders and outlines fall on pixel edges
    hbmCw = Math.max(1, Math.floor(Math.min(60, avail / totalCols)));
    hbmCh = Math.max(1, Math.floor(Math.min(40, (GRID_BOTTOM - GRID_Y) / trace.n())));
    double x = HBM_X + ROW_LABELS;
    for (Grid g : arrays) {
      hbmOrigins.put(g.name(), new double[] {x, GRID_Y});
      x = Math.round(x + g.cols() * hbmCw + GAP);
    }
    int bc = Math.min(trace.bc(), trace.n());
    int br = Math.min(trace.br(), trace.n());
    // row 1 of SRAM: K_j, V_j, Q_i, O_i side by side, each d wide
    sramCw = Math.min(56, (SRAM_W - 3 * GAP) / (4.0 * trace.d()));
    sramCh = Math.min(36, SRAM_ROW1_H / Math.max(bc, br));
    // row 2: S_ij (B_r × B_c) and the row statistics, row for row
    int stats = trace.kernel().equals("fast") ? 4 : 6;
    scoreCw = Math.min(56, SCORES_W / bc);
    rowCh = Math.min(36, (GRID_BOTTOM - 22 - SRAM_ROW2_Y) / br);
    statCw = Math.min(84, (SRAM_W - SCORES_W - 24 - 6 * (stats - 1)) / stats);
  }

  /** Cell width and height of the HBM arrays. */
  public double hbmCellWidth() {
    return hbmCw;
  }

  public double hbmCellHeight() {
    return hbmCh;
  }

  /** The top-left corner of HBM array {@code name}. */
  double[] hbmOrigin(String name) {
    double[] o = hbmOrigins.get(name);
    if (o == null) {
      throw new IllegalArgumentException("no HBM array " + name);
    }
    return o;
  }

  /** The pixels of cell (row, col) of HBM array {@code name}. */
  public Rectangle2D hbmCell(String name, int row, int col) {
    double[] o = hbmOrigin(name);
    return new Rectangle2D.Double(o[0] + col * hbmCw, o[1] + row * hbmCh, hbmCw, hbmCh);
  }

  double sramCellWidth() {
    return sramCw;
  }

  double sramCellHeight() {
    return sramCh;
  }

  double scoreCellWidth() {
    return scoreCw;
  }

  /** Row height of S_ij and the statistics (they share rows). */
  double rowHeight() {
    return rowCh;
  }

  double statWidth() {
    return statCw;
  }
}
