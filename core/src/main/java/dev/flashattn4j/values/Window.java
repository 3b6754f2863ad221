package dev.flashattn4j.values;

/**
 * A sliding window around the diagonal, as FlashAttention's {@code window_size = (left, right)}:
 * query i sees keys j with diag(i) − left ≤ j ≤ diag(i) + right, where diag(i) is the causal
 * diagonal ({@link Causal#diagonal}) of the options' alignment, BOTTOM_RIGHT when the options are
 * not causal (FlashAttention's windows are always bottom-right aligned). A negative bound is
 * unbounded on that side.
 *
 * @param left keys before the diagonal a query may see, or −1 for all
 * @param right keys after the diagonal a query may see, or −1 for all
 */
public record Window(int left, int right) {

  /** No window: every key is in range. */
  public static final Window NONE = new Window(-1, -1);

  /** Any negative side means unbounded on that side (stored as −1). */
  public Window {
    left = Math.max(-1, left);
    right = Math.max(-1, right);
  }

  /** True when neither side is bounded. */
  public boolean isNone() {
    return left < 0 && right < 0;
  }
}
