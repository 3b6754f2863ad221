package dev.flashattn4j.bench;

import dev.flashattn4j.internal.Simd;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The softmax's exponential: the kernel's polynomial exp2 ({@link Simd#exp2(FloatVector)}, scale
 * and log2(e) folded into the scores beforehand) against the Vector API's EXP lane operation on the
 * same inputs (x·ln 2), over 8192 floats in [−30, 0]. {@link #setup} checks both against {@link
 * Math#pow} (3e-7 relative, plus the rounding of x·ln 2 for EXP) before anything is measured.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class ExpBenchmark {

  static final int N = 8192;
  private final float[] x = new float[N];
  private final float[] y = new float[N];

  @Setup
  public void setup() {
    for (int i = 0; i < N; i++) {
      x[i] = -30f * i / N;
    }
    polynomialExp2();
    check("polynomial exp2", 3e-7);
    vectorApiExp();
    // EXP itself is accurate, but rounding x·ln 2 to float first costs up to |x|·2^-24 relative
    check("Vector API EXP", 3e-7 + 30 * 0x1p-24);
  }

  private void check(String what, double rel) {
    for (int i = 0; i < N; i++) {
      double e = Math.pow(2, x[i]);
      if (Math.abs(y[i] - e) > rel * e) {
        throw new IllegalStateException(what + " is off at x = " + x[i] + ": " + y[i] + " vs " + e);
      }
    }
  }

  @Benchmark
  public float[] polynomialExp2() {
    var s = Simd.SPECIES;
    for (int i = 0; i < N; i += s.length()) {
      Simd.exp2(FloatVector.fromArray(s, x, i)).intoArray(y, i);
    }
    return y;
  }

  @Benchmark
  public float[] vectorApiExp() {
    var s = Simd.SPECIES;
    for (int i = 0; i < N; i += s.length()) {
      FloatVector v = FloatVector.fromArray(s, x, i).mul((float) Math.log(2));
      v.lanewise(VectorOperators.EXP).intoArray(y, i);
    }
    return y;
  }
}
