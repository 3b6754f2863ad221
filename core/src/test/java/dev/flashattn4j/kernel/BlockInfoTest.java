package dev.flashattn4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flashattn4j.kernel.BlockInfo.Tile;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.Causal;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Tile classification: skipped outside the causal/window band, cut only on its edges. */
class BlockInfoTest {

  static Tile[] tiles(AttentionOptions o, int i0, int rows, int nq, int nk, int bc) {
    BlockInfo info = new BlockInfo(rows);
    info.set(o, positions(i0, rows, 1), rows, nq, nk);
    Tile[] t = new Tile[(nk + bc - 1) / bc];
    for (int j = 0; j < t.length; j++) {
      t[j] = info.classify(j * bc, Math.min(bc, nk - j * bc));
    }
    return t;
  }

  /** Query indices of packed rows: {@code group} heads per index, from index i0. */
  static int[] positions(int i0, int rows, int group) {
    int[] p = new int[rows];
    for (int r = 0; r < rows; r++) {
      p[r] = i0 + r / group;
    }
    return p;
  }

  @Test
  void packedHeadsOfAGroupShareTheirQueryIndexRange() {
    // 4 heads per K/V head: 64 packed rows are the query indices 16..31, 4 rows each
    AttentionOptions o = AttentionOptions.builder().causal(Causal.TOP_LEFT).build();
    BlockInfo info = new BlockInfo(64);
    info.set(o, positions(16, 64, 4), 64, 256, 256);
    assertEquals(0, info.lo);
    assertEquals(32, info.hi);
    assertEquals(Tile.FULL, info.classify(0, 16));
    assertEquals(Tile.PARTIAL, info.classify(16, 16));
    assertEquals(Tile.SKIP, info.classify(32, 16));
  }

  @Test
  void causalTopLeftSkipsTilesAboveTheDiagonalAndCutsOnlyTheDiagonalTile() {
    AttentionOptions o = AttentionOptions.builder().causal(Causal.TOP_LEFT).build();
    assertEquals(
        List.of(Tile.FULL, Tile.PARTIAL, Tile.SKIP, Tile.SKIP),
        List.of(tiles(o, 64, 64, 256, 256, 64)));
    // B_r ≠ B_c: rows [64, 128) against tiles of 32 keys
    assertEquals(
        List.of(
            Tile.FULL,
            Tile.FULL,
            Tile.PARTIAL,
            Tile.PARTIAL,
            Tile.SKIP,
            Tile.SKIP,
            Tile.SKIP,
            Tile.SKIP),
        List.of(tiles(o, 64, 64, 256, 256, 32)));
  }

  @Test
  void bottomRightShiftsTheDiagonalByNkMinusNq() {
    AttentionOptions o = AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).build();
    // one decode row at the end of 200 keys sees them all
    assertEquals(
        List.of(Tile.FULL, Tile.FULL, Tile.FULL, Tile.FULL), List.of(tiles(o, 0, 1, 1, 200, 64)));
    // 10 rows over 4 keys: rows 0..5 see nothing, rows 6..9 see keys 0..i-6
    BlockInfo info = new BlockInfo(10);
    info.set(o, positions(0, 10, 1), 10, 10, 4);
    assertEquals(Tile.PARTIAL, info.classify(0, 4));
    assertEquals(0, info.end[5] - info.start[5]);
  }

  @Test
  void slidingWindowSkipsTilesLeftOfTheWindow() {
    AttentionOptions o = AttentionOptions.builder().causal(Causal.TOP_LEFT).window(64, 0).build();
    // rows [192, 256) see keys [128, 256): tiles 0 and 1 are skipped
    assertEquals(
        List.of(Tile.SKIP, Tile.SKIP, Tile.PARTIAL, Tile.PARTIAL),
        List.of(tiles(o, 192, 64, 256, 256, 64)));
  }

  @Test
  void noRangeLimitMeansEveryTileIsFull() {
    assertEquals(
        List.of(Tile.FULL, Tile.FULL), List.of(tiles(AttentionOptions.DEFAULTS, 0, 7, 7, 100, 64)));
  }
}
