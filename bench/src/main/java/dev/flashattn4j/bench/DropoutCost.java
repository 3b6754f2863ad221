package dev.flashattn4j.bench;

import dev.flashattn4j.api.AttentionEngine;
import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.config.MicroKernel;
import dev.flashattn4j.config.Vectors;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * What dropout costs, measured A/B interleaved: each repeat runs the forward without and with
 * dropout, then the backward without and with, so both sides of a ratio see the same noise of a
 * shared machine; prints the medians of the times and of the per-repeat ratios.
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar \
 *       dev.flashattn4j.bench.DropoutCost [N] [d] [p] [repeats] [threads]
 * </pre>
 *
 * (defaults 1024 64 0.1 25 1; B = 1, H = 8).
 */
public final class DropoutCost {

  private DropoutCost() {}

  public static void main(String[] args) throws IOException {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 1024;
    int d = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    float p = args.length > 2 ? Float.parseFloat(args[2]) : 0.1f;
    int repeats = args.length > 3 ? Integer.parseInt(args[3]) : 25;
    int threads = args.length > 4 ? Integer.parseInt(args[4]) : 1;
    int h = 8;
    SplittableRandom r = new SplittableRandom(1);
    Tensor q = Tensor.uniform(r, -1, 1, 1, h, n, d);
    Tensor k = Tensor.uniform(r, -1, 1, 1, h, n, d);
    Tensor v = Tensor.uniform(r, -1, 1, 1, h, n, d);
    Tensor g = Tensor.uniform(r, -1, 1, 1, h, n, d);
    AttentionOptions plain = AttentionOptions.DEFAULTS;
    AttentionOptions drop = AttentionOptions.builder().dropout(p, 1234, 0).build();
    try (AttentionEngine e = AttentionEngine.create(KernelConfig.defaults().withThreads(threads))) {
      AttentionResult f0 = e.forward(q, k, v, plain);
      AttentionResult f1 = e.forward(q, k, v, drop);
      Tensor dq = Tensor.zeros(1, h, n, d);
      Tensor dk = Tensor.zeros(1, h, n, d);
      Tensor dv = Tensor.zeros(1, h, n, d);
      double[][] ms = new double[4][repeats];
      double[][] ratio = new double[2][repeats];
      for (int i = -3; i < repeats; i++) { // three repeats of warm-up
        long t0 = System.nanoTime();
        e.forward(q, k, v, plain);
        long t1 = System.nanoTime();
        e.forward(q, k, v, drop);
        long t2 = System.nanoTime();
        e.backward(q, k, v, f0.output(), f0.lse(), g, plain, dq, dk, dv);
        long t3 = System.nanoTime();
        e.backward(q, k, v, f1.output(), f1.lse(), g, drop, dq, dk, dv);
        long t4 = System.nanoTime();
        if (i >= 0) {
          ms[0][i] = (t1 - t0) / 1e6;
          ms[1][i] = (t2 - t1) / 1e6;
          ms[2][i] = (t3 - t2) / 1e6;
          ms[3][i] = (t4 - t3) / 1e6;
          ratio[0][i] = ms[1][i] / ms[0][i];
          ratio[1][i] = ms[3][i] / ms[2][i];
        }
      }
      System.out.printf(
          "%s; JDK %s; %d thread(s); %s; %s%n",
          cpu(), Runtime.version(), e.threads(), Vectors.describe(), MicroKernel.describe());
      System.out.printf(
          "N=%d d=%d B=1 H=8 dropout p=%s, %d interleaved repeats (medians)%n", n, d, p, repeats);
      System.out.printf(
          "forward:  %.1f ms without, %.1f ms with: ×%.3f%n",
          median(ms[0]), median(ms[1]), median(ratio[0]));
      System.out.printf(
          "backward: %.1f ms without, %.1f ms with: ×%.3f%n",
          median(ms[2]), median(ms[3]), median(ratio[1]));
    }
  }

  private static double median(double[] x) {
    double[] s = x.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static String cpu() throws IOException {
    Path info = Path.of("/proc/cpuinfo");
    if (Files.isReadable(info)) {
      for (String line : Files.readAllLines(info)) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    }
    return System.getProperty("os.arch");
  }
}
