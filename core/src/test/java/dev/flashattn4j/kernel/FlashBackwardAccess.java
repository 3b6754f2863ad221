package dev.flashattn4j.kernel;

/** The backward's package-private plan, for tests in other packages. */
public final class FlashBackwardAccess {

  private FlashBackwardAccess() {}

  /** The key chunks of each of {@code pairs} (sequence, K/V head) pairs with {@code nk} keys. */
  public static int chunks(int pairs, int nk) {
    return FlashBackward.chunkCount(pairs, nk);
  }
}
