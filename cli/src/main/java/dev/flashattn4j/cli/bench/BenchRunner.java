package dev.flashattn4j.cli.bench;

import dev.flashattn4j.api.AttentionEngine;
import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.paper.Algorithm1;
import dev.flashattn4j.paper.Algorithm4;
import dev.flashattn4j.reference.NaiveAttention;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/** Times one {@link BenchCase}: warm-up calls, then timed calls, median of the times. */
public final class BenchRunner {

  /** M of the paper's kernel in the benchmark: 64 Ki floats (256 KiB), an L2 cache. */
  public static final int PAPER_SRAM = 1 << 16;

  private final int warmup;
  private final int iters;

  /**
   * @param warmup untimed calls before timing
   * @param iters timed calls (at least 1)
   */
  public BenchRunner(int warmup, int iters) {
    this.warmup = warmup;
    this.iters = iters;
  }

  /** Least time spent in warm-up calls of each case, so that the JIT has compiled the kernel. */
  static final long MIN_WARMUP_NANOS = 200_000_000L;

  /** Most time spent warming up one case. */
  static final long MAX_WARMUP_NANOS = 10_000_000_000L;

  /**
   * Runs the fast kernel on small shapes until its timings settle (about a second), so that the
   * first timed case does not measure the interpreter: the Vector API is only fast once C2 has
   * compiled the loops.
   *
   * @param ds the head dimensions that will be timed
   */
  public static void warmUpJit(List<Integer> ds) {
    try (AttentionEngine f = AttentionEngine.create(KernelConfig.defaults().withThreads(1))) {
      for (int d : ds) {
        for (Causal c : new Causal[] {Causal.NONE, Causal.TOP_LEFT}) {
          Tensor[] in = inputs(new BenchCase("fast", 1, 1, 2, 256, d, c));
          AttentionOptions o = AttentionOptions.builder().causal(c).build();
          Warmup w = new Warmup(0, 1_000_000_000L / ds.size() / 2);
          while (!w.done()) {
            long t0 = System.nanoTime();
            f.forward(in[0], in[1], in[2], o);
            w.record(System.nanoTime() - t0);
          }
        }
      }
    }
  }

  /**
   * When to stop warming up: after {@code calls} calls and {@code minNanos}, once the fastest call
   * has not improved by 10% for half the time spent so far (the JIT compiles the kernel in the
   * background, later on a busy machine; until then the Vector API runs boxed and slow), and after
   * at most 10 s.
   */
  static final class Warmup {
    private final int calls;
    private final long minNanos;
    private final long start = System.nanoTime();
    private long best = Long.MAX_VALUE;
    private long improvedAt = start;
    private int done;

    Warmup(int calls, long minNanos) {
      this.calls = calls;
      this.minNanos = minNanos;
    }

    void record(long nanos) {
      done++;
      if (nanos < best * 0.9) {
        improvedAt = System.nanoTime();
      }
      best = Math.min(best, nanos);
    }

    boolean done() {
      long now = System.nanoTime();
      long elapsed = now - start;
      if (elapsed > MAX_WARMUP_NANOS) {
        return true;
      }
      return done >= Math.max(1, calls)
          && elapsed >= minNanos
          && now - improvedAt >= Math.max(100_000_000L, elapsed / 2);
    }
  }

  /** Random Q, K, V of the case's shape, from a fixed seed. */
  static Tensor[] inputs(BenchCase c) {
    SplittableRandom rnd = new SplittableRandom(42);
    Tensor[] t = new Tensor[3];
    for (int i = 0; i < 3; i++) {
      t[i] = Tensor.uniform(rnd, -1, 1, c.batch(), c.heads(), c.n(), c.d());
    }
    return t;
  }

  /**
   * Times the case.
   *
   * @param peakGflops the FMA peak of the case's thread count, measured in the same run
   */
  public BenchRow run(BenchCase c, double peakGflops) {
    Tensor[] in = inputs(c);
    AttentionOptions options = AttentionOptions.builder().causal(c.causal()).build();
    double[] ms = new double[iters];
    long extra;
    if (c.kernel().equals("fast-bwd")) {
      extra = fastBackward(c, in, options, ms);
    } else if (c.kernel().equals("fast")) {
      try (AttentionEngine f =
          AttentionEngine.create(KernelConfig.defaults().withThreads(c.threads()))) {
        Tensor out = Tensor.zeros(c.batch(), c.heads(), c.n(), c.d());
        float[] lse = new float[c.batch() * c.heads() * c.n()];
        Warmup w = new Warmup(warmup, MIN_WARMUP_NANOS);
        while (!w.done()) {
          long t0 = System.nanoTime();
          f.forward(in[0], in[1], in[2], options, out, lse);
          w.record(System.nanoTime() - t0);
        }
        for (int i = 0; i < iters; i++) {
          long t0 = System.nanoTime();
          f.forward(in[0], in[1], in[2], options, out, lse);
          ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        extra = f.workspaceBytes();
      }
    } else {
      // the backward kernels start from the forward's O and LSE, made before the timing
      AttentionResult f =
          c.backward() ? NaiveAttention.compute(in[0], in[1], in[2], options) : null;
      Tensor dOut = c.backward() ? gradientOfOutput(c) : null;
      Runnable call = () -> slow(c, in, options, f, dOut);
      for (int i = 0; i < warmup; i++) {
        call.run();
      }
      com.sun.management.ThreadMXBean mx =
          (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
      long id = Thread.currentThread().threadId();
      long allocated = Long.MAX_VALUE;
      for (int i = 0; i < iters; i++) {
        long a0 = mx.getThreadAllocatedBytes(id);
        long t0 = System.nanoTime();
        call.run();
        ms[i] = (System.nanoTime() - t0) / 1e6;
        allocated = Math.min(allocated, mx.getThreadAllocatedBytes(id) - a0);
      }
      long rowsOut = (long) c.batch() * c.heads() * c.n();
      long outputs = Float.BYTES * (c.backward() ? rowsOut * 3 * c.d() : rowsOut * (c.d() + 1));
      extra = Math.max(0, allocated - outputs);
    }
    double[] sorted = ms.clone();
    Arrays.sort(sorted);
    double median =
        sorted.length % 2 == 1
            ? sorted[sorted.length / 2]
            : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    return new BenchRow(
        c,
        median,
        sorted[0],
        sorted[sorted.length - 1],
        c.flops() / (median / 1e3) / 1e9,
        peakGflops,
        extra,
        roundSpread(ms));
  }

  /**
   * The calls in three consecutive rounds: (max − min) / min of the rounds' medians (0 with fewer
   * than three calls). A machine that changed speed during the case (another process, a clock
   * change) shows here, where the overall median would hide it.
   */
  public static double roundSpread(double[] ms) {
    if (ms.length < 3) {
      return 0;
    }
    double lo = Double.MAX_VALUE;
    double hi = 0;
    for (int r = 0; r < 3; r++) {
      double[] part = Arrays.copyOfRange(ms, r * ms.length / 3, (r + 1) * ms.length / 3);
      Arrays.sort(part);
      double m = part[part.length / 2];
      lo = Math.min(lo, m);
      hi = Math.max(hi, m);
    }
    return (hi - lo) / lo;
  }

  /** Times the fast backward into preallocated gradients; returns the workspace bytes. */
  private long fastBackward(BenchCase c, Tensor[] in, AttentionOptions options, double[] ms) {
    try (AttentionEngine e =
        AttentionEngine.create(KernelConfig.defaults().withThreads(c.threads()))) {
      AttentionResult f = e.forward(in[0], in[1], in[2], options);
      Tensor dOut = gradientOfOutput(c);
      Tensor dq = Tensor.zeros(in[0].shape());
      Tensor dk = Tensor.zeros(in[1].shape());
      Tensor dv = Tensor.zeros(in[2].shape());
      Warmup w = new Warmup(warmup, MIN_WARMUP_NANOS);
      while (!w.done()) {
        long t0 = System.nanoTime();
        e.backward(in[0], in[1], in[2], f.output(), f.lse(), dOut, options, dq, dk, dv);
        w.record(System.nanoTime() - t0);
      }
      for (int i = 0; i < iters; i++) {
        long t0 = System.nanoTime();
        e.backward(in[0], in[1], in[2], f.output(), f.lse(), dOut, options, dq, dk, dv);
        ms[i] = (System.nanoTime() - t0) / 1e6;
      }
      return e.workspaceBytes();
    }
  }

  /** A random dL/dO of the case's output shape. */
  private static Tensor gradientOfOutput(BenchCase c) {
    return Tensor.uniform(new SplittableRandom(7), -1, 1, c.batch(), c.heads(), c.n(), c.d());
  }

  private static Object slow(
      BenchCase c, Tensor[] in, AttentionOptions options, AttentionResult f, Tensor dOut) {
    if (c.backward()) {
      return switch (c.kernel()) {
        case "paper-bwd" ->
            Algorithm4.compute(
                in[0], in[1], in[2], f.output(), f.lse(), dOut, options, PAPER_SRAM, null);
        case "naive-bwd" -> NaiveAttention.backward(in[0], in[1], in[2], dOut, options);
        default -> throw new IllegalArgumentException("unknown kernel " + c.kernel());
      };
    }
    return switch (c.kernel()) {
      case "paper" -> Algorithm1.compute(in[0], in[1], in[2], options, PAPER_SRAM);
      case "naive" -> NaiveAttention.compute(in[0], in[1], in[2], options);
      default -> throw new IllegalArgumentException("unknown kernel " + c.kernel());
    };
  }
}
