package dev.flashattn4j.testing;

import dev.flashattn4j.tensor.Tensor;
import java.util.SplittableRandom;

/** Seeded random tensors and masks for tests. */
public final class TestTensors {

  private TestTensors() {}

  /** A tensor of the given shape with entries uniform in [-1, 1), from {@code seed}. */
  public static Tensor uniform(long seed, int... shape) {
    return uniform(new SplittableRandom(seed), shape);
  }

  /** A tensor of the given shape with entries uniform in [-1, 1). */
  public static Tensor uniform(SplittableRandom random, int... shape) {
    return Tensor.uniform(random, -1, 1, shape);
  }

  /** A tensor with standard normal entries, from {@code seed}. */
  public static Tensor normal(long seed, int... shape) {
    SplittableRandom random = new SplittableRandom(seed);
    Tensor t = Tensor.zeros(shape);
    float[] a = t.data();
    for (int i = 0; i < a.length; i += 2) {
      double u1 = 1 - random.nextDouble();
      double u2 = random.nextDouble();
      double r = Math.sqrt(-2 * Math.log(u1));
      a[i] = (float) (r * Math.cos(2 * Math.PI * u2));
      if (i + 1 < a.length) {
        a[i + 1] = (float) (r * Math.sin(2 * Math.PI * u2));
      }
    }
    return t;
  }

  /** A keep-mask of {@code size} flags, each kept with probability {@code keep}. */
  public static boolean[] keepFlags(SplittableRandom random, int size, double keep) {
    boolean[] m = new boolean[size];
    for (int i = 0; i < size; i++) {
      m[i] = random.nextDouble() < keep;
    }
    return m;
  }
}
