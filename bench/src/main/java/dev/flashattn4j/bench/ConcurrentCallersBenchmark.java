package dev.flashattn4j.bench;

import dev.flashattn4j.api.Attention;
import dev.flashattn4j.api.AttentionEngine;
import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Throughput under load: many request threads calling attention at once (a server handling
 * requests), B = 1, H = 8, causal, d = 64.
 *
 * <ul>
 *   <li>{@code defaultEngine16}: 16 threads call the static {@link Attention#forward} (the shared
 *       default engine, all cores);
 *   <li>{@code privateKernels16}: 16 threads, each with a private one-thread kernel: no sharing at
 *       all, the bound the shared engine should reach;
 *   <li>{@code defaultEngineAlone}: one thread calls the default engine, which then has every core
 *       for itself.
 * </ul>
 *
 * <p>Run: {@code make bench ARGS='ConcurrentCallersBenchmark'}; compare the ops/s of the three in
 * one run. Each thread checks its result against the float64 oracle before it measures.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class ConcurrentCallersBenchmark {

  static final int HEADS = 8;
  static final int D = 64;
  static final AttentionOptions CAUSAL = AttentionOptions.builder().causal(Causal.TOP_LEFT).build();

  /** The sequence length of a request. */
  @State(Scope.Benchmark)
  public static class Shape {
    @Param({"256", "1024"})
    public int n;
  }

  /** One request thread's inputs, outputs and (for the private case) kernel. */
  @State(Scope.Thread)
  public static class Request {
    Tensor q;
    Tensor k;
    Tensor v;
    Tensor out;
    float[] lse;
    AttentionEngine privateKernel;

    @Setup(Level.Trial)
    public void setup(Shape shape) {
      SplittableRandom r = new SplittableRandom(Thread.currentThread().threadId());
      int n = shape.n;
      q = Tensor.uniform(r, -1, 1, 1, HEADS, n, D);
      k = Tensor.uniform(r, -1, 1, 1, HEADS, n, D);
      v = Tensor.uniform(r, -1, 1, 1, HEADS, n, D);
      out = Tensor.zeros(1, HEADS, n, D);
      lse = new float[HEADS * n];
      privateKernel = AttentionEngine.create(KernelConfig.defaults().withThreads(1));
      int small = Math.min(n, 256);
      Tensor sq = Tensor.uniform(r, -1, 1, 1, HEADS, small, D);
      Tensor sk = Tensor.uniform(r, -1, 1, 1, HEADS, small, D);
      Tensor sv = Tensor.uniform(r, -1, 1, 1, HEADS, small, D);
      for (AttentionResult res :
          new AttentionResult[] {
            Attention.forward(sq, sk, sv, CAUSAL), privateKernel.forward(sq, sk, sv, CAUSAL)
          }) {
        ErrorBudget.Check check = ErrorBudget.check(sq, sk, sv, CAUSAL, res);
        if (!check.passed()) {
          throw new IllegalStateException("over the error budget: " + check);
        }
      }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      privateKernel.close();
    }
  }

  @Benchmark
  @Threads(16)
  public float defaultEngine16(Request r) {
    Attention.forward(r.q, r.k, r.v, CAUSAL, r.out, r.lse);
    return r.lse[0];
  }

  @Benchmark
  @Threads(16)
  public float privateKernels16(Request r) {
    r.privateKernel.forward(r.q, r.k, r.v, CAUSAL, r.out, r.lse);
    return r.lse[0];
  }

  @Benchmark
  @Threads(1)
  public float defaultEngineAlone(Request r) {
    Attention.forward(r.q, r.k, r.v, CAUSAL, r.out, r.lse);
    return r.lse[0];
  }
}
