package dev.flashattn4j.model;

import java.util.SplittableRandom;

/**
 * Picks the next token from a row of logits: greedy (the largest logit, the lowest id on a tie, as
 * {@code torch.argmax}), or sampled at a temperature from the smallest set of tokens whose
 * probabilities add up to top-p (nucleus sampling), with a seeded generator.
 *
 * <p>A sampler holds its generator and the buffers of a sampling step, reused from token to token:
 * use it from one thread at a time ({@link #forSequence} gives each sequence its own).
 */
public final class Sampler {

  private final float temperature;
  private final float topP;
  private final long seed;
  private final SplittableRandom random;
  // the sampling step's buffers, kept for the next token (vocab entries)
  private double[] p = new double[0];
  private int[] order = new int[0];
  private int[] spare = new int[0];

  private Sampler(float temperature, float topP, long seed) {
    this.temperature = temperature;
    this.topP = topP;
    this.seed = seed;
    this.random = new SplittableRandom(seed);
  }

  /** Greedy decoding. */
  public static Sampler greedy() {
    return new Sampler(0, 1, 0);
  }

  /**
   * Sampling; a temperature of 0 is greedy.
   *
   * @param temperature ≥ 0
   * @param topP in (0, 1]
   * @param seed the generator's seed
   */
  public static Sampler of(float temperature, float topP, long seed) {
    if (!(temperature >= 0) || Float.isInfinite(temperature)) {
      throw new IllegalArgumentException("temperature must be ≥ 0 and finite, not " + temperature);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new IllegalArgumentException("top-p must be in (0, 1], not " + topP);
    }
    return new Sampler(temperature, topP, seed);
  }

  /** True when this picks the largest logit. */
  public boolean isGreedy() {
    return temperature == 0;
  }

  /**
   * A sampler of the same settings for sequence {@code index} of a batch, with its own generator
   * (seeded from this one's seed and the index), so that a sequence samples the same tokens in a
   * batch as alone with {@code forSequence} of the same index.
   */
  public Sampler forSequence(int index) {
    return new Sampler(temperature, topP, seed * 0x9E3779B97F4A7C15L + index);
  }

  /** The next token from logits[offset, offset + vocab). */
  public int next(float[] logits, int offset, int vocab) {
    if (temperature == 0) {
      int best = offset;
      for (int i = offset + 1; i < offset + vocab; i++) {
        if (logits[i] > logits[best]) {
          best = i;
        }
      }
      return best - offset;
    }
    if (p.length != vocab) {
      p = new double[vocab];
      order = new int[vocab];
      spare = new int[vocab];
    }
    // softmax(logits / T) in double
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < vocab; i++) {
      max = Math.max(max, logits[offset + i] / (double) temperature);
    }
    double sum = 0;
    for (int i = 0; i < vocab; i++) {
      p[i] = Math.exp(logits[offset + i] / (double) temperature - max);
      sum += p[i];
    }
    for (int i = 0; i < vocab; i++) {
      order[i] = i;
      p[i] /= sum;
    }
    sortByProbability(vocab);
    // the nucleus: the most probable tokens until their mass reaches top-p
    double mass = 0;
    int keep = 0;
    while (keep < vocab && (keep == 0 || mass < topP)) {
      mass += p[order[keep++]];
    }
    double u = random.nextDouble() * mass;
    double acc = 0;
    for (int i = 0; i < keep; i++) {
      acc += p[order[i]];
      if (u < acc) {
        return order[i];
      }
    }
    return order[keep - 1];
  }

  /**
   * Sorts order[0, n) by probability, the largest first, the lower id first on a tie: a stable
   * bottom-up merge sort through the spare array (no allocation), giving the one order that this
   * comparison defines, whatever the sort.
   */
  private void sortByProbability(int n) {
    int[] from = order;
    int[] to = spare;
    for (int width = 1; width < n; width *= 2) {
      for (int lo = 0; lo < n; lo += 2 * width) {
        int mid = Math.min(lo + width, n);
        int hi = Math.min(lo + 2 * width, n);
        int a = lo;
        int b = mid;
        for (int k = lo; k < hi; k++) {
          to[k] = a < mid && (b >= hi || compare(from[a], from[b]) <= 0) ? from[a++] : from[b++];
        }
      }
      int[] t = from;
      from = to;
      to = t;
    }
    if (from != order) {
      System.arraycopy(from, 0, order, 0, n);
    }
  }

  /** The larger probability first; on a tie the lower id. */
  private int compare(int a, int b) {
    return p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b);
  }
}
