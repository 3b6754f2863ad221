package dev.flashattn4j.bench;

import dev.flashattn4j.api.AttentionEngine;
import dev.flashattn4j.config.Vectors;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.Causal;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * What a JVM's first attention call costs, with and without {@link AttentionEngine#warmUp}: in a
 * fresh JVM, times the first call (after warmUp, or cold), the second, and the median of 20 more,
 * and prints one line. Run it in several fresh JVMs ({@code scripts/warmup-cost.sh} does).
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar \
 *       dev.flashattn4j.bench.WarmUpCost cold|warm [N] [d] [threads]
 * </pre>
 *
 * (defaults N = 1024, d = 64, all cores; B = 1, H = 8, causal top-left).
 */
public final class WarmUpCost {

  private WarmUpCost() {}

  public static void main(String[] args) {
    boolean warm = args.length > 0 && args[0].equals("warm");
    int n = args.length > 1 ? Integer.parseInt(args[1]) : 1024;
    int d = args.length > 2 ? Integer.parseInt(args[2]) : 64;
    int threads =
        args.length > 3 ? Integer.parseInt(args[3]) : Runtime.getRuntime().availableProcessors();
    int[] shape = {1, 8, n, d};
    AttentionOptions options = AttentionOptions.builder().causal(Causal.TOP_LEFT).build();
    SplittableRandom r = new SplittableRandom(7);
    Tensor q = Tensor.uniform(r, -1, 1, shape);
    Tensor k = Tensor.uniform(r, -1, 1, shape);
    Tensor v = Tensor.uniform(r, -1, 1, shape);
    Tensor out = Tensor.zeros(shape);
    float[] lse = new float[8 * n];
    try (AttentionEngine engine = AttentionEngine.create(threads)) {
      long w0 = System.nanoTime();
      int calls = warm ? engine.warmUp(shape, shape, options, false, Duration.ofSeconds(20)) : 0;
      double warmMs = (System.nanoTime() - w0) / 1e6;
      double first = time(engine, q, k, v, options, out, lse);
      double second = time(engine, q, k, v, options, out, lse);
      double[] rest = new double[20];
      for (int i = 0; i < rest.length; i++) {
        rest[i] = time(engine, q, k, v, options, out, lse);
      }
      Arrays.sort(rest);
      double median = rest[rest.length / 2];
      System.out.printf(
          Locale.ROOT,
          "%s: warmUp %.0f ms (%d calls); first call %.1f ms, second %.1f ms, warm median %.2f"
              + " ms; first/warm %.2fx (H=8 N=%d d=%d causal, %d threads, %s, JDK %s)%n",
          warm ? "warm" : "cold",
          warmMs,
          calls,
          first,
          second,
          median,
          first / median,
          n,
          d,
          engine.threads(),
          Vectors.describe(),
          Runtime.version());
    }
  }

  private static double time(
      AttentionEngine e,
      Tensor q,
      Tensor k,
      Tensor v,
      AttentionOptions o,
      Tensor out,
      float[] lse) {
    long t0 = System.nanoTime();
    e.forward(q, k, v, o, out, lse);
    return (System.nanoTime() - t0) / 1e6;
  }
}
