package dev.flashattn4j.bench;

import dev.flashattn4j.api.AttentionEngine;
import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.reference.NaiveAttention;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionGradients;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The fast backward pass on B = 1, H = 8 random inputs, into preallocated gradients. Before
 * measuring, {@link #setup} checks dQ, dK and dV against the float64 oracle's backward at N =
 * min(N, 256) and fails the run if any is over {@link ErrorBudget#gradientTolerance}.
 *
 * <p>Run: {@code make bench ARGS='BackwardBenchmark -p n=4096 -p threads=1'}. FLOPs per call: 2.5 ×
 * the forward's 4·H·N²·d, halved when causal.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class BackwardBenchmark {

  /** Heads (B = 1); {@code -p heads=1} measures a call with a single (batch, head) pair. */
  @Param({"8"})
  public int heads;

  @Param({"1024", "4096"})
  public int n;

  @Param({"64", "128"})
  public int d;

  @Param({"NONE", "TOP_LEFT"})
  public Causal causal;

  @Param({"1", "2"})
  public int threads;

  /** Dropout probability (0: none); {@code -p dropout=0,0.1} measures what dropout costs. */
  @Param({"0"})
  public float dropout;

  private AttentionEngine engine;
  private AttentionOptions options;
  private Tensor q;
  private Tensor k;
  private Tensor v;
  private Tensor o;
  private float[] lse;
  private Tensor dOut;
  private Tensor dq;
  private Tensor dk;
  private Tensor dv;

  private Tensor random(long seed, int n, int d) {
    return Tensor.uniform(new SplittableRandom(seed), -1, 1, 1, heads, n, d);
  }

  @Setup(Level.Trial)
  public void setup() {
    engine = AttentionEngine.create(KernelConfig.defaults().withThreads(threads));
    options =
        AttentionOptions.builder()
            .causal(causal)
            .dropout(new dev.flashattn4j.values.Dropout(dropout, 1234, 0))
            .build();
    int small = Math.min(n, 256);
    Tensor sq = random(1, small, d);
    Tensor sk = random(2, small, d);
    Tensor sv = random(3, small, d);
    Tensor sg = random(4, small, d);
    AttentionResult f = engine.forward(sq, sk, sv, options);
    AttentionGradients got = engine.backward(sq, sk, sv, f.output(), f.lse(), sg, options);
    AttentionGradients want = NaiveAttention.backward(sq, sk, sv, sg, options);
    Tensor[][] pairs = {{want.dq(), got.dq()}, {want.dk(), got.dk()}, {want.dv(), got.dv()}};
    for (Tensor[] p : pairs) {
      float[] w = p[0].toArray();
      double err = ErrorBudget.Errors.of(p[1].toArray(), w).maxAbs();
      double tol = ErrorBudget.gradientTolerance(ErrorBudget.maxAbs(w));
      if (!(err <= tol)) {
        throw new IllegalStateException("gradient over budget: " + err + " > " + tol);
      }
    }
    q = random(1, n, d);
    k = random(2, n, d);
    v = random(3, n, d);
    dOut = random(4, n, d);
    AttentionResult r = engine.forward(q, k, v, options);
    o = r.output();
    lse = r.lse();
    dq = Tensor.zeros(1, heads, n, d);
    dk = Tensor.zeros(1, heads, n, d);
    dv = Tensor.zeros(1, heads, n, d);
    System.out.printf("%n%d threads; gradients checked at N=%d%n", engine.threads(), small);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    engine.close();
  }

  @Benchmark
  public float backward() {
    engine.backward(q, k, v, o, lse, dOut, options, dq, dk, dv);
    return dq.data()[0];
  }
}
