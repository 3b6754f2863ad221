package dev.flashattn4j.bench;

import dev.flashattn4j.api.AttentionEngine;
import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionMask;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
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
 * What each option costs: the fast kernel on one thread, B = 1, H_q = 8, N = 2048, d = 64, with one
 * option at a time. {@link #setup} checks the same option at N = 192 against the float64 oracle
 * first. Run: {@code make bench ARGS='OptionsBenchmark'}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class OptionsBenchmark {

  @Param({"plain", "causal", "softcap", "floatMask", "boolMask", "window256", "gqa8to2"})
  public String option;

  static final int N = 2048;
  static final int D = 64;

  private AttentionEngine kernel;
  private AttentionOptions options;
  private Tensor q;
  private Tensor k;
  private Tensor v;
  private Tensor out;
  private float[] lse;

  static AttentionOptions options(String option, int n) {
    AttentionOptions.Builder b = AttentionOptions.builder();
    switch (option) {
      case "causal" -> b.causal(Causal.TOP_LEFT);
      case "softcap" -> b.softcap(30);
      case "floatMask" -> {
        float[] bias = new float[n * n];
        for (int i = 0; i < bias.length; i++) {
          bias[i] = (i % 7) * 0.1f;
        }
        b.mask(AttentionMask.additive(bias, n, n));
      }
      case "boolMask" -> {
        boolean[] keep = new boolean[n * n];
        for (int i = 0; i < keep.length; i++) {
          keep[i] = i % 5 != 0;
        }
        b.mask(AttentionMask.keep(keep, n, n));
      }
      case "window256" -> b.causal(Causal.BOTTOM_RIGHT).window(256, 0);
      default -> {}
    }
    return b.build();
  }

  static Tensor random(long seed, int heads, int n) {
    Tensor t = ForwardBenchmark.random(seed, n, D);
    return heads == ForwardBenchmark.HEADS
        ? t
        : Tensor.view(t.data(), 0, new int[] {1, heads, n, D}, new int[] {heads * n * D, n * D, D});
  }

  @Setup(Level.Trial)
  public void setup() {
    kernel = AttentionEngine.create(KernelConfig.defaults().withThreads(1));
    int kvHeads = option.equals("gqa8to2") ? 2 : ForwardBenchmark.HEADS;
    int small = 192;
    AttentionOptions o = options(option, small);
    Tensor sq = random(1, ForwardBenchmark.HEADS, small);
    Tensor sk = random(2, kvHeads, small);
    Tensor sv = random(3, kvHeads, small);
    AttentionResult r = kernel.forward(sq, sk, sv, o);
    ErrorBudget.Check check = ErrorBudget.check(sq, sk, sv, o, r);
    if (!check.passed()) {
      throw new IllegalStateException(option + " is over the error budget: " + check);
    }
    options = options(option, N);
    q = random(1, ForwardBenchmark.HEADS, N);
    k = random(2, kvHeads, N);
    v = random(3, kvHeads, N);
    out = Tensor.zeros(1, ForwardBenchmark.HEADS, N, D);
    lse = new float[ForwardBenchmark.HEADS * N];
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
