package dev.flashattn4j.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * This machine's memory read bandwidth, measured the way a decode step reads: T threads each stream
 * their slice of one large float array (much larger than the caches) and sum it with SIMD adds. The
 * yardstick for a decode step's bytes of K and V read per second.
 */
public final class ReadBandwidth {

  private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

  private ReadBandwidth() {}

  /**
   * The best bandwidth of {@code repetitions} passes over an array of {@code bytes} bytes, as
   * STREAM reports it, after the sum loop has been compiled (passes over a 4 MiB slice until C2 has
   * it: a first pass over the whole array would otherwise run partly in the interpreter, boxed). On
   * a 2-core Zen 3 this gives 40–44 GB/s, as {@code scripts/c/read_bw.c} does in C.
   *
   * @return GB/s (10⁹ bytes a second)
   */
  public static double measure(long bytes, int threads, int repetitions) {
    if (bytes < 1024 || bytes / 4 > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("bytes must be in [1 KiB, 8 GiB), not " + bytes);
    }
    if (threads < 1 || repetitions < 1) {
      throw new IllegalArgumentException(
          "threads and repetitions must be positive, not " + threads + ", " + repetitions);
    }
    float[] data = new float[(int) (bytes / 4)];
    Arrays.fill(data, 1f);
    List<Callable<Float>> slices = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int from = (int) ((long) data.length * t / threads);
      int to = (int) ((long) data.length * (t + 1) / threads);
      slices.add(() -> sum(data, from, to));
    }
    double[] gbps = new double[repetitions];
    double sink = 0;
    int warm = Math.min(data.length, 1 << 20);
    for (int i = 0; i < 200; i++) {
      sink += sum(data, 0, warm);
    }
    try (ForkJoinPool pool = new ForkJoinPool(threads)) {
      for (int r = -1; r < repetitions; r++) { // r = -1: a warm-up pass
        long start = System.nanoTime();
        for (Future<Float> f : pool.invokeAll(slices)) {
          sink += f.get();
        }
        long ns = System.nanoTime() - start;
        if (r >= 0) {
          gbps[r] = (double) data.length * 4 / ns;
        }
      }
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
    double expected = (double) data.length * (repetitions + 1) + 200.0 * warm;
    if (Math.abs(sink - expected) > 1e-3 * expected) { // keeps the sums from being optimised away
      throw new IllegalStateException("the streaming sum is wrong: " + sink);
    }
    Arrays.sort(gbps);
    return gbps[repetitions - 1];
  }

  /** Σ a[from, to) with four independent vector accumulators. */
  static float sum(float[] a, int from, int to) {
    int lanes = SPECIES.length();
    FloatVector s0 = FloatVector.zero(SPECIES);
    FloatVector s1 = s0;
    FloatVector s2 = s0;
    FloatVector s3 = s0;
    int i = from;
    for (; i + 4 * lanes <= to; i += 4 * lanes) {
      s0 = s0.add(FloatVector.fromArray(SPECIES, a, i));
      s1 = s1.add(FloatVector.fromArray(SPECIES, a, i + lanes));
      s2 = s2.add(FloatVector.fromArray(SPECIES, a, i + 2 * lanes));
      s3 = s3.add(FloatVector.fromArray(SPECIES, a, i + 3 * lanes));
    }
    double total = s0.add(s1).add(s2).add(s3).reduceLanes(VectorOperators.ADD);
    for (; i < to; i++) {
      total += a[i];
    }
    return (float) total;
  }
}
