package dev.flashattn4j.kernel;

import dev.flashattn4j.api.AttentionOptions;
import dev.flashattn4j.api.Causal;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;

/** A manual timing probe for tuning (not a test): java ... PerfProbe N d threads br bc. */
public final class PerfProbe {
  public static void main(String[] args) {
    int n = Integer.parseInt(args[0]);
    int d = Integer.parseInt(args[1]);
    int threads = Integer.parseInt(args[2]);
    int br = Integer.parseInt(args[3]);
    int bc = Integer.parseInt(args[4]);
    int h = 8;
    System.out.printf(
        "FMA peak 1 thread: %.1f GFLOP/s (%s)%n", FmaPeak.measure(300), Simd.describe());
    Tensor q = TestTensors.normal(1, 1, h, n, d);
    Tensor k = TestTensors.normal(2, 1, h, n, d);
    Tensor v = TestTensors.normal(3, 1, h, n, d);
    try (FlashForward f =
        new FlashForward(KernelConfig.defaults().withThreads(threads).withTiles(br, bc))) {
      for (Causal c : new Causal[] {Causal.NONE, Causal.TOP_LEFT}) {
        AttentionOptions o = AttentionOptions.builder().causal(c).build();
        int[] t = f.tiles(n, d, d);
        for (int rep = 0; rep < 3; rep++) f.forward(q, k, v, o);
        double best = Double.MAX_VALUE;
        for (int rep = 0; rep < 5; rep++) {
          long t0 = System.nanoTime();
          f.forward(q, k, v, o);
          best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        double flops = 4.0 * h * n * n * d / (c == Causal.NONE ? 1 : 2);
        System.out.printf(
            "%s N=%d d=%d thr=%d Br=%d Bc=%d: %.2f ms %.1f GFLOP/s%n",
            c, n, d, threads, t[0], t[1], best * 1e3, flops / best / 1e9);
      }
    }
  }
}
