package dev.flashattn4j.viz.schedule;

import dev.flashattn4j.values.AttentionOptions;

/**
 * What a tile (query block i × key block j) of the score matrix S is under causality and the
 * sliding window, as the fast kernel classifies it: every row sees every key, some rows see some
 * keys (the diagonal band, cut element by element), or no row sees any key (the fast kernel skips
 * it; Algorithm 1 computes it anyway).
 */
public enum TileKind {
  /** Every query row of the block sees every key of the tile. */
  FULL,
  /** Some rows see some keys: masked element by element (−∞ scores in S_ij). */
  DIAGONAL,
  /** No row of the block sees any key of the tile. */
  MASKED;

  /**
   * The kind of the tile of query rows [r0, r1) and keys [c0, c1), from the options' causal and
   * window ranges ({@link AttentionOptions#keyStart}, {@link AttentionOptions#keyEnd}).
   *
   * @param n N_q = N_k
   */
  public static TileKind of(AttentionOptions options, int n, int r0, int r1, int c0, int c1) {
    boolean all = true;
    boolean any = false;
    for (int r = r0; r < r1; r++) {
      int lo = Math.max(c0, options.keyStart(r, n, n));
      int hi = Math.min(c1, options.keyEnd(r, n, n));
      int seen = Math.max(0, hi - lo);
      any |= seen > 0;
      all &= seen == c1 - c0;
    }
    return all ? FULL : any ? DIAGONAL : MASKED;
  }
}
