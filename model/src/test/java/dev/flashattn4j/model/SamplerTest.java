package dev.flashattn4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The sampler's buffers and its merge sort pick the tokens that the first version picked (a fresh
 * {@code Integer[]} sorted by {@code Arrays.sort} each call, kept here as the reference), call
 * after call, ties and vocabulary changes included.
 */
class SamplerTest {

  /** The first version's sampling step, with its own generator of the same seed. */
  private static int reference(
      float[] logits,
      int offset,
      int vocab,
      float temperature,
      float topP,
      SplittableRandom random) {
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < vocab; i++) {
      max = Math.max(max, logits[offset + i] / (double) temperature);
    }
    double[] p = new double[vocab];
    double sum = 0;
    for (int i = 0; i < vocab; i++) {
      p[i] = Math.exp(logits[offset + i] / (double) temperature - max);
      sum += p[i];
    }
    Integer[] order = new Integer[vocab];
    for (int i = 0; i < vocab; i++) {
      order[i] = i;
      p[i] /= sum;
    }
    Arrays.sort(order, (a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
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

  @Test
  void samplingPicksTheTokensOfTheFirstVersion() {
    SplittableRandom r = new SplittableRandom(3);
    float[][] settings = {{1f, 1f}, {0.7f, 0.9f}, {1.3f, 0.5f}, {0.2f, 1e-6f}, {2f, 0.99f}};
    int checked = 0;
    for (float[] setting : settings) {
      long seed = r.nextLong();
      Sampler sampler = Sampler.of(setting[0], setting[1], seed);
      SplittableRandom mine = new SplittableRandom(seed);
      for (int call = 0; call < 60; call++) {
        int vocab = call < 40 ? 320 : 1 + r.nextInt(700); // the buffers resize
        int offset = r.nextInt(5);
        float[] logits = new float[offset + vocab];
        for (int i = 0; i < vocab; i++) {
          // few distinct values: many ties in probability
          logits[offset + i] = call % 2 == 0 ? r.nextInt(6) * 0.5f : (float) r.nextGaussian() * 3;
        }
        int want = reference(logits, offset, vocab, setting[0], setting[1], mine);
        assertEquals(want, sampler.next(logits, offset, vocab), "call " + call);
        checked++;
      }
    }
    assertEquals(300, checked);
  }
}
