package dev.flashattn4j.bench;

import dev.flashattn4j.internal.Simd;
import dev.flashattn4j.internal.VectorModule;
import jdk.incubator.vector.FloatVector;

/**
 * This machine's single-precision FMA peak as the Vector API reaches it: a loop of independent
 * vector FMAs on registers (12 accumulators, enough to cover the FMA latency on current cores),
 * timed on one thread and on several. Benchmarks report a kernel's GFLOP/s as a fraction of it.
 *
 * <p>Each chain is {@code c = a·b + c}, the accumulator as the addend: x86's FMA overwrites its
 * addend ({@code vfmadd231ps c, a, b}), so the JIT needs no register copy. Written the other way
 * ({@code c = c·a + b}) every FMA costs a copy of b too, and a Zen 3 core then reaches 85% of its
 * FMA rate (87.7 against the 103.7 GFLOP/s of the same loop in C); with the addend form the loop
 * reaches the C figure (cores × clock × 2 FMA pipes × lanes × 2).
 */
public final class FmaPeak {

  private static final int CHAINS = 12;

  private FmaPeak() {}

  /**
   * GFLOP/s of one thread running FMAs, counting an FMA on L lanes as 2·L FLOPs (with vectors off,
   * scalar {@link Math#fma}): the best of many short runs (about 5 ms each) over about {@code
   * millis} ms, so that a moment when another process has the core does not lower the peak.
   */
  public static double measure(int millis) {
    run(200_000); // warm up and compile
    long iters = 10_000;
    double best = 0;
    long end = System.nanoTime() + millis * 1_000_000L;
    float sink = 0;
    do {
      long t0 = System.nanoTime();
      sink += run(iters);
      double secs = (System.nanoTime() - t0) / 1e9;
      best = Math.max(best, flops(iters) / secs / 1e9);
      if (secs < 0.005) {
        iters *= 2;
      }
    } while (System.nanoTime() < end);
    if (sink == 42f) {
      System.out.print(""); // keeps the results alive
    }
    return best;
  }

  /**
   * GFLOP/s of {@code threads} threads running the loop at once (the machine's peak when every core
   * works): the sum of their rates.
   */
  public static double measure(int millis, int threads) {
    if (threads <= 1) {
      return measure(millis);
    }
    double[] rates = new double[threads];
    Thread[] team = new Thread[threads];
    for (int t = 0; t < threads; t++) {
      int index = t;
      team[t] = Thread.ofPlatform().unstarted(() -> rates[index] = measure(millis));
      team[t].start();
    }
    double total = 0;
    for (int t = 0; t < threads; t++) {
      try {
        team[t].join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      total += rates[t];
    }
    return total;
  }

  /**
   * GFLOP/s that {@code threads} threads running the loop together get over the same {@code millis}
   * ms of wall time: what the machine gives now. Below {@code threads} times the one-thread peak
   * when other processes hold some of the cores (a shared machine), which caps what any
   * multi-threaded kernel can reach at that moment.
   */
  public static double sustained(int millis, int threads) {
    run(200_000);
    long[] iters = new long[threads];
    Thread[] team = new Thread[threads];
    long end = System.nanoTime() + millis * 1_000_000L;
    long t0 = System.nanoTime();
    for (int t = 0; t < threads; t++) {
      int index = t;
      team[t] =
          Thread.ofPlatform()
              .unstarted(
                  () -> {
                    float sink = 0;
                    long n = 0;
                    while (System.nanoTime() < end) {
                      sink += run(10_000);
                      n += 10_000;
                    }
                    iters[index] = sink == 42f ? n + 1 : n;
                  });
      team[t].start();
    }
    long total = 0;
    for (int t = 0; t < threads; t++) {
      try {
        team[t].join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      total += iters[t];
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    return flops(total) / secs / 1e9;
  }

  private static double flops(long iters) {
    return 2.0 * CHAINS * (VectorModule.PRESENT ? Simd.LANES : 1) * iters;
  }

  private static float run(long iters) {
    // without the module (java started without --add-modules) no Vector API class may load
    if (!VectorModule.PRESENT || !Simd.ENABLED) {
      return runScalar(iters);
    }
    return VectorLoop.run(iters);
  }

  /** The vector loop, in its own class: loaded only when the Vector API is there. */
  private static final class VectorLoop {
    static float run(long iters) {
      var s = Simd.SPECIES;
      FloatVector a = FloatVector.broadcast(s, 0.999999f);
      FloatVector b = FloatVector.broadcast(s, 1e-7f);
      FloatVector c0 = FloatVector.broadcast(s, 1f);
      FloatVector c1 = c0.add(1f);
      FloatVector c2 = c0.add(2f);
      FloatVector c3 = c0.add(3f);
      FloatVector c4 = c0.add(4f);
      FloatVector c5 = c0.add(5f);
      FloatVector c6 = c0.add(6f);
      FloatVector c7 = c0.add(7f);
      FloatVector c8 = c0.add(8f);
      FloatVector c9 = c0.add(9f);
      FloatVector c10 = c0.add(10f);
      FloatVector c11 = c0.add(11f);
      for (long i = 0; i < iters; i++) {
        c0 = a.fma(b, c0);
        c1 = a.fma(b, c1);
        c2 = a.fma(b, c2);
        c3 = a.fma(b, c3);
        c4 = a.fma(b, c4);
        c5 = a.fma(b, c5);
        c6 = a.fma(b, c6);
        c7 = a.fma(b, c7);
        c8 = a.fma(b, c8);
        c9 = a.fma(b, c9);
        c10 = a.fma(b, c10);
        c11 = a.fma(b, c11);
      }
      FloatVector sum =
          c0.add(c1)
              .add(c2)
              .add(c3)
              .add(c4)
              .add(c5)
              .add(c6)
              .add(c7)
              .add(c8)
              .add(c9)
              .add(c10)
              .add(c11);
      return sum.lane(0);
    }
  }

  private static float runScalar(long iters) {
    float a = 0.999999f;
    float b = 1e-7f;
    float c0 = 1, c1 = 2, c2 = 3, c3 = 4, c4 = 5, c5 = 6, c6 = 7, c7 = 8, c8 = 9, c9 = 10;
    float c10 = 11, c11 = 12;
    for (long i = 0; i < iters; i++) {
      c0 = Math.fma(a, b, c0);
      c1 = Math.fma(a, b, c1);
      c2 = Math.fma(a, b, c2);
      c3 = Math.fma(a, b, c3);
      c4 = Math.fma(a, b, c4);
      c5 = Math.fma(a, b, c5);
      c6 = Math.fma(a, b, c6);
      c7 = Math.fma(a, b, c7);
      c8 = Math.fma(a, b, c8);
      c9 = Math.fma(a, b, c9);
      c10 = Math.fma(a, b, c10);
      c11 = Math.fma(a, b, c11);
    }
    return c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
  }
}
