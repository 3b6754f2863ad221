package dev.flashattn4j.viz.schedule;

import java.awt.geom.Rectangle2D;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where everything goes on a frame of a schedule animation. Two columns, each packed from the top:
 * HBM (the arrays, then the traffic counters) on the left, SRAM (the blocks, the score tile and the
 * statistics, then the map of S's tiles) on the right; the pseudo-code across the bottom, just
 * below the taller column, so that no band of the frame is left empty. Sizes follow from N, d and
 * the block sizes, the same for every frame of a run, so that blocks stay put from frame to frame.
 * Tests use it to find the pixels of a cell or a tile.
 */
public final class ScheduleLayout {

  public static final int WIDTH = 1440;

  static final double HBM_X = 20;
  static final double HBM_W = 700;
  static final double PANEL_TITLE_Y = 148;
  static final double GRID_TITLE_Y = 172;
  static final double GRID_Y = 184;

  /** The lowest the HBM arrays and SRAM blocks may reach (large N: small cells). */
  static final double GRID_BOTTOM = 640;

  static final double ROW_LABELS = 28;
  static final double GAP = 18;

  static final double SRAM_X = 760;
  static final double SRAM_W = 660;
  static final double SRAM_ROW1_H = 178;
  static final double SCORES_W = 330;

  /** The largest side of a tile on the map of S (small runs), and the map's largest side. */
  static final double TILE_MAX = 48;

  static final double MAP_MAX = 220;

  private final Map<String, double[]> hbmOrigins = new LinkedHashMap<>();
  private final double hbmCw;
  private final double hbmCh;
  private final double sramCw;
  private final double sramCh;
  private final double scoreCw;
  private final double rowCh;
  private final double statCw;
  private final double row2TitleY;
  private final double row2Y;
  private final double countersY;
  private final double mapX;
  private final double mapY;
  private final double elementW;
  private final double elementH;
  private final int n;
  private final int br;
  private final int bc;
  private final int tr;
  private final int tc;
  private final double codeY;
  private final int height;
  private final int codeLines;

  /** The layout of the frames of {@code trace}. */
  public ScheduleLayout(ScheduleTrace trace) {
    n = trace.n();
    br = trace.br();
    bc = trace.bc();
    tr = trace.tr();
    tc = trace.tc();
    codeLines = trace.code().lines().size();
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
    int bcRows = Math.min(bc, n);
    int brRows = Math.min(br, n);
    // row 1 of SRAM: K_j, V_j, Q_i, O_i side by side, each d wide
    sramCw = Math.min(56, (SRAM_W - 3 * GAP) / (4.0 * trace.d()));
    sramCh = Math.floor(Math.min(36, SRAM_ROW1_H / Math.max(bcRows, brRows)));
    // row 2: S_ij (B_r × B_c) and the row statistics, row for row, right below row 1
    row2TitleY = Math.round(GRID_Y + Math.max(bcRows, brRows) * sramCh + 44);
    row2Y = row2TitleY + 12;
    int stats = trace.kernel().equals("fast") ? 4 : 6;
    scoreCw = Math.min(56, SCORES_W / bcRows);
    rowCh = Math.floor(Math.min(36, 210.0 / brRows));
    statCw = Math.min(84, (SRAM_W - SCORES_W - 24 - 6 * (stats - 1)) / stats);
    double sramBottom = row2Y + brRows * rowCh + 34; // the colour scale below S_ij
    // the map of S's T_r × T_c tiles, one small square per element, below the SRAM blocks
    double tile = Math.min(TILE_MAX, MAP_MAX / Math.max(tr, tc));
    elementW = tile / bc;
    elementH = tile / br;
    mapX = SRAM_X + 52;
    mapY = Math.round(sramBottom + 64);
    double mapBottom = mapY + Math.max(n * elementH, 5 * 24 + 4) + 12; // the map or its legend
    countersY = Math.round(GRID_Y + n * hbmCh + 46);
    double left = countersY + CounterPanel.height(trace);
    codeY = Math.round(Math.max(left, mapBottom) + 28);
    height = (int) Math.ceil(codeY + 30 + codeLines * 16.0 + 14);
  }

  /** The frame height (the width is {@link #WIDTH}). */
  public int height() {
    return height;
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

  /**
   * The pixels of element (row, key) on the map of S's tiles: rows are queries, columns keys, one
   * tile per (query block i, key block j).
   */
  public Rectangle2D mapElement(int row, int key) {
    return new Rectangle2D.Double(mapX + key * elementW, mapY + row * elementH, elementW, elementH);
  }

  /** The pixels of tile (i, j) on the map of S. */
  public Rectangle2D mapTile(int i, int j) {
    int r0 = i * br;
    int r1 = Math.min(n, r0 + br);
    int c0 = j * bc;
    int c1 = Math.min(n, c0 + bc);
    return new Rectangle2D.Double(
        mapX + c0 * elementW, mapY + r0 * elementH, (c1 - c0) * elementW, (r1 - r0) * elementH);
  }

  double mapX() {
    return mapX;
  }

  double mapY() {
    return mapY;
  }

  /** The map's width and height in pixels. */
  double mapWidth() {
    return n * elementW;
  }

  double mapHeight() {
    return n * elementH;
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

  /** The baseline of the titles of S_ij and the statistics. */
  double row2TitleY() {
    return row2TitleY;
  }

  /** The top of S_ij and the statistics. */
  double row2Y() {
    return row2Y;
  }

  /** The top of the traffic counters, below the HBM arrays. */
  double countersY() {
    return countersY;
  }

  /** The top of the pseudo-code. */
  double codeY() {
    return codeY;
  }

  /** The line height of the pseudo-code. */
  double codeLineHeight() {
    return 16;
  }
}
