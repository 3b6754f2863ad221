package dev.flashattn4j.kernel;

import dev.flashattn4j.config.KernelConfig;

/** The backward's package-private plan, for tests in other packages. */
public final class FlashBackwardAccess {

  private FlashBackwardAccess() {}

  /** The key chunks of each of {@code pairs} (sequence, K/V head) pairs with {@code nk} keys. */
  public static int chunks(int pairs, int nk) {
    return BackwardWork.chunkCount(pairs, nk);
  }

  /** The query blocks a backward item groups under {@code config}. */
  public static int groupBlocks(
      KernelConfig config, int br, int dPad, int dvPad, int blocks, int keys) {
    return Tiles.backwardGroupBlocks(config, br, dPad, dvPad, blocks, keys);
  }

  /** The keys of a backward sub-chunk under {@code config}. */
  public static int subKeys(KernelConfig config, int bc, int dPad, int dvPad, int keys) {
    return Tiles.backwardSubKeys(config, bc, dPad, dvPad, keys);
  }
}
