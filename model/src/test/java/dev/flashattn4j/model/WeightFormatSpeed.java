package dev.flashattn4j.model;

import dev.flashattn4j.cache.PagedKvCache;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Decode and prefill speed of one model with float32, bfloat16 and Q8_0 weights in one JVM: not a
 * test (no timed assertion anywhere), a main for docs/MODEL.md's table. Every format is checked
 * first (its greedy token after the prompt is printed), then the rounds interleave the formats so
 * that a disturbance (another process on the cores) falls on all of them.
 *
 * <p>Run: {@code java --add-modules=jdk.incubator.vector -cp …
 * dev.flashattn4j.model.WeightFormatSpeed DIR [context=2048] [threads=cores] [rounds=7] [steps=16]
 * [prefill=512]}
 */
public final class WeightFormatSpeed {

  private record Run(String name, Model model, PagedKvCache cache, int seq, float[] logits) {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int context = args.length > 1 ? Integer.parseInt(args[1]) : 2048;
    int threads =
        args.length > 2 ? Integer.parseInt(args[2]) : Runtime.getRuntime().availableProcessors();
    int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 7;
    int steps = args.length > 4 ? Integer.parseInt(args[4]) : 16;
    int prefill = args.length > 5 ? Integer.parseInt(args[5]) : 512;
    System.out.printf(
        Locale.ROOT,
        "%s, %s, %s, %d threads; context %d, %d rounds of %d decoding steps%n",
        System.getProperty("java.vm.name"),
        System.getProperty("java.runtime.version"),
        Simd.describe(),
        threads,
        context,
        rounds,
        steps);
    List<Run> runs = new ArrayList<>();
    int vocab = 0;
    for (WeightFormat w :
        new WeightFormat[] {WeightFormat.FLOAT32, WeightFormat.BFLOAT16, WeightFormat.Q8_0}) {
      Model model = Model.load(dir, ModelOptions.defaults().withThreads(threads).withWeights(w));
      vocab = model.config().vocabSize();
      PagedKvCache cache = model.newCache(context + rounds * steps + 64);
      int seq = cache.newSequence();
      int[] prompt = tokens(context, vocab, 1);
      long t0 = System.nanoTime();
      float[] last = model.forward(cache, new int[] {seq}, new int[][] {prompt}, false);
      double s = (System.nanoTime() - t0) / 1e9;
      System.out.printf(
          Locale.ROOT,
          "%-8s %6.1f MB of weights; prefill of the %d-token context %.2f s (cold); greedy next"
              + " token %d%n",
          w,
          model.weightBytes() / 1e6,
          context,
          s,
          argmax(last));
      runs.add(new Run(w.name(), model, cache, seq, new float[vocab]));
    }
    ForwardWorkspace[] ws = new ForwardWorkspace[runs.size()];
    for (int i = 0; i < ws.length; i++) {
      ws[i] = runs.get(i).model().newWorkspace();
    }
    double[][] tps = new double[runs.size()][rounds];
    SplittableRandom r = new SplittableRandom(2);
    for (int round = -1; round < rounds; round++) { // round −1: warm-up
      for (int i = 0; i < runs.size(); i++) {
        Run run = runs.get(i);
        long t0 = System.nanoTime();
        for (int s = 0; s < steps; s++) {
          int[][] tok = {{r.nextInt(vocab)}};
          run.model().forward(run.cache(), new int[] {run.seq()}, tok, false, run.logits(), ws[i]);
        }
        if (round >= 0) {
          tps[i][round] = steps / ((System.nanoTime() - t0) / 1e9);
        }
      }
    }
    double base = median(tps[0]);
    for (int i = 0; i < runs.size(); i++) {
      double[] sorted = tps[i].clone();
      Arrays.sort(sorted);
      System.out.printf(
          Locale.ROOT,
          "decode %-8s median %7.1f tokens/s (min %.1f, max %.1f) = %.2fx float32%n",
          runs.get(i).name(),
          median(tps[i]),
          sorted[0],
          sorted[sorted.length - 1],
          median(tps[i]) / base);
    }
    if (prefill > 0) {
      for (Run run : runs) {
        double[] t = new double[3];
        for (int i = -1; i < 3; i++) {
          PagedKvCache c = run.model().newCache(prefill);
          int seq = c.newSequence();
          long t0 = System.nanoTime();
          run.model()
              .forward(c, new int[] {seq}, new int[][] {tokens(prefill, vocab, 5 + i)}, false);
          if (i >= 0) {
            t[i] = prefill / ((System.nanoTime() - t0) / 1e9);
          }
        }
        System.out.printf(
            Locale.ROOT,
            "prefill %-8s %d tokens: median %7.1f tokens/s%n",
            run.name(),
            prefill,
            median(t));
      }
    }
    for (Run run : runs) {
      run.model().close();
    }
  }

  private static double median(double[] a) {
    double[] s = a.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  private static int[] tokens(int n, int vocab, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int[] t = new int[n];
    for (int i = 0; i < n; i++) {
      t[i] = r.nextInt(vocab);
    }
    return t;
  }

  private static int argmax(float[] a) {
    int best = 0;
    for (int i = 1; i < a.length; i++) {
      if (a[i] > a[best]) {
        best = i;
      }
    }
    return best;
  }

  private WeightFormatSpeed() {}
}
