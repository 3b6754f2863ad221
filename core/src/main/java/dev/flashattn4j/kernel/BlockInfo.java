package dev.flashattn4j.kernel;

import dev.flashattn4j.values.AttentionOptions;

/**
 * The key range of one block of query rows under causality and the sliding window (FlashAttention's
 * {@code block_info.h}), and the classification of each key tile against it: tiles no row can see
 * are skipped, tiles every row sees whole need no element-wise cut, the rest (the diagonal band)
 * are cut element by element.
 */
final class BlockInfo {

  /** What a key tile is for the current block of rows. */
  enum Tile {
    /** No row of the block sees any key of the tile. */
    SKIP,
    /** Every row sees every key of the tile. */
    FULL,
    /** Some rows see some keys: cut element-wise. */
    PARTIAL
  }

  /** First visible key of each row of the block (absolute), {@code keyStart(i)}. */
  final int[] start;

  /** One past the last visible key of each row, {@code keyEnd(i)}. */
  final int[] end;

  /** min over rows of start: no key before it is seen. */
  int lo;

  /** max over rows of end: no key from it on is seen. */
  int hi;

  /** max over rows of start: every row sees the keys in [maxStart, minEnd). */
  int maxStart;

  /** min over rows of end. */
  int minEnd;

  BlockInfo(int capacity) {
    start = new int[capacity];
    end = new int[capacity];
  }

  /**
   * Sets the ranges of the block's rows.
   *
   * @param pos the query index (in [0, N_q)) of each row; rows of the same index share a range
   * @param nq N_q
   * @param nk N_k
   */
  void set(AttentionOptions options, int[] pos, int rows, int nq, int nk) {
    boolean limited = options.hasRangeLimit();
    lo = nk;
    hi = 0;
    maxStart = 0;
    minEnd = nk;
    for (int r = 0; r < rows; r++) {
      int s = limited ? options.keyStart(pos[r], nq, nk) : 0;
      int e = limited ? options.keyEnd(pos[r], nq, nk) : nk;
      if (e < s) {
        e = s; // an empty range
      }
      start[r] = s;
      end[r] = e;
      if (e > s) {
        lo = Math.min(lo, s);
        hi = Math.max(hi, e);
      }
      maxStart = Math.max(maxStart, s);
      minEnd = Math.min(minEnd, e);
    }
    if (hi <= lo) {
      lo = 0;
      hi = 0;
    }
  }

  /** Classifies the key tile [j0, j0 + keys). */
  Tile classify(int j0, int keys) {
    int j1 = j0 + keys;
    if (j1 <= lo || j0 >= hi) {
      return Tile.SKIP;
    }
    if (j0 >= maxStart && j1 <= minEnd) {
      return Tile.FULL;
    }
    return Tile.PARTIAL;
  }
}
