package dev.flashattn4j.bench;

import dev.flashattn4j.api.AttentionEngine;
import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.config.Vectors;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The fast forward kernel on B = 1, H = 8 random inputs. Before measuring, {@link #setup} checks
 * the kernel against the float64 oracle within the error budget on the same configuration at N =
 * min(N, 256) (the oracle materialises N² scores), and fails the run if it is over.
 *
 * <p>Run: {@code make bench ARGS='ForwardBenchmark -p n=4096 -p threads=1,2'}. FLOPs per call:
 * 4·H·N²·d, halved when causal.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class ForwardBenchmark {

  static final int HEADS = 8;

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

  private AttentionEngine kernel;
  private AttentionOptions options;
  private Tensor q;
  private Tensor k;
  private Tensor v;
  private Tensor out;
  private float[] lse;

  static Tensor random(long seed, int n, int d) {
    return Tensor.uniform(new SplittableRandom(seed), -1, 1, 1, HEADS, n, d);
  }

  @Setup(Level.Trial)
  public void setup() {
    kernel = AttentionEngine.create(KernelConfig.defaults().withThreads(threads));
    options =
        AttentionOptions.builder()
            .causal(causal)
            .dropout(new dev.flashattn4j.values.Dropout(dropout, 1234, 0))
            .build();
    int small = Math.min(n, 256);
    Tensor sq = random(1, small, d);
    Tensor sk = random(2, small, d);
    Tensor sv = random(3, small, d);
    AttentionResult r = kernel.forward(sq, sk, sv, options);
    ErrorBudget.Check check = ErrorBudget.check(sq, sk, sv, options, r);
    if (!check.passed()) {
      throw new IllegalStateException("the kernel is over the error budget: " + check);
    }
    q = random(1, n, d);
    k = random(2, n, d);
    v = random(3, n, d);
    out = Tensor.zeros(1, HEADS, n, d);
    lse = new float[HEADS * n];
    System.out.printf(
        "%n%s; %d threads; check at N=%d: %s%n", Vectors.describe(), threads, small, check);
  }

  @Benchmark
  public float[] forward() {
    kernel.forward(q, k, v, options, out, lse);
    return lse;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    kernel.close();
  }
}
