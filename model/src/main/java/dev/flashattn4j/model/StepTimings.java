package dev.flashattn4j.model;

/** Time spent in model steps and in their attention (the library's kernels and cache writes). */
public final class StepTimings {
  private long totalNanos;
  private long attentionNanos;

  void add(long total, long attention) {
    totalNanos += total;
    attentionNanos += attention;
  }

  public long totalNanos() {
    return totalNanos;
  }

  public long attentionNanos() {
    return attentionNanos;
  }

  /** attention / total, 0 when nothing ran. */
  public double attentionShare() {
    return totalNanos == 0 ? 0 : attentionNanos / (double) totalNanos;
  }

  public void reset() {
    totalNanos = 0;
    attentionNanos = 0;
  }
}
