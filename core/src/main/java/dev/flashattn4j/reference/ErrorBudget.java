package dev.flashattn4j.reference;

import dev.flashattn4j.internal.Checks;
import dev.flashattn4j.reference.NaiveAttention.Precision;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;

/**
 * The project's one error budget, FlashAttention's rule: a kernel's max error against the float64
 * oracle may be at most {@value #FACTOR} times the max error of a plain float32 implementation of
 * the same formula against that oracle, plus an absolute floor for outputs near zero ({@value
 * #ABS_FLOOR} times the largest |V|, or the largest |LSE|, at least 1). Every test and the CLI's
 * {@code verify} use it.
 */
public final class ErrorBudget {

  /** How much worse than plain float32 a kernel may be. */
  public static final double FACTOR = 2.0;

  /** The absolute floor, relative to the magnitude of the values (or 1). */
  public static final double ABS_FLOOR = 1e-6;

  private ErrorBudget() {}

  /**
   * The max absolute and max relative difference of two arrays of the same length. Equal infinities
   * count as no error; a NaN on one side only, or an infinity against a finite value, counts as an
   * infinite error.
   *
   * @param maxAbs max |a − e|
   * @param maxRel max |a − e| / max(|e|, {@value #ABS_FLOOR})
   */
  public record Errors(double maxAbs, double maxRel) {

    /** Differences of {@code actual} against {@code expected}. */
    public static Errors of(float[] actual, float[] expected) {
      if (actual.length != expected.length) {
        throw new IllegalArgumentException(
            "cannot compare " + actual.length + " values with " + expected.length);
      }
      double abs = 0;
      double rel = 0;
      for (int i = 0; i < actual.length; i++) {
        double a = actual[i];
        double e = expected[i];
        double diff;
        if (a == e || (Double.isNaN(a) && Double.isNaN(e))) {
          diff = 0;
        } else if (Double.isNaN(a) || Double.isNaN(e) || Double.isInfinite(a - e)) {
          diff = Double.POSITIVE_INFINITY;
        } else {
          diff = Math.abs(a - e);
        }
        abs = Math.max(abs, diff);
        rel = Math.max(rel, diff / Math.max(Math.abs(e), ABS_FLOOR));
      }
      return new Errors(abs, rel);
    }

    /** Differences of two tensors of the same shape, element by element. */
    public static Errors of(Tensor actual, Tensor expected) {
      if (actual.size() != expected.size()) {
        throw new IllegalArgumentException("cannot compare " + actual + " with " + expected);
      }
      return of(actual.toArray(), expected.toArray());
    }
  }

  /**
   * The tolerance on max |O − O_oracle| (or on the LSE).
   *
   * @param float32Error max error of the plain float32 implementation against the oracle
   * @param magnitude the largest |value| involved (max |V| for O, max finite |LSE| for the LSE)
   */
  public static double tolerance(double float32Error, double magnitude) {
    return FACTOR * float32Error + ABS_FLOOR * Math.max(1.0, magnitude);
  }

  /**
   * The tolerance on max |result − reference| when the reference is another float32 implementation
   * of the same formula (an output saved from PyTorch, say) rather than the float64 oracle. Each of
   * the two may be {@code tolerance} away from the oracle, so by the triangle inequality they may
   * be twice that apart; a reference further away than that is itself over the budget.
   *
   * @param tolerance the budget against the oracle ({@link #tolerance})
   */
  public static double referenceTolerance(double tolerance) {
    return 2 * tolerance;
  }

  /**
   * The outcome of checking one result against the oracle.
   *
   * @param output errors of O against the oracle
   * @param lse errors of the LSE against the oracle
   * @param float32Output errors of the plain float32 implementation's O
   * @param float32Lse errors of the plain float32 implementation's LSE
   * @param outputTolerance the budget for O
   * @param lseTolerance the budget for the LSE
   */
  public record Check(
      Errors output,
      Errors lse,
      Errors float32Output,
      Errors float32Lse,
      double outputTolerance,
      double lseTolerance) {

    /** True when O and LSE are within budget. */
    public boolean passed() {
      return output.maxAbs() <= outputTolerance && lse.maxAbs() <= lseTolerance;
    }

    @Override
    public String toString() {
      return String.format(
          "max|dO| = %.3g (budget %.3g, float32 %.3g), max|dLSE| = %.3g (budget %.3g)",
          output.maxAbs(), outputTolerance, float32Output.maxAbs(), lse.maxAbs(), lseTolerance);
    }
  }

  /**
   * Checks {@code actual} against the float64 oracle within the budget.
   *
   * @param q (B, H_q, N_q, d)
   * @param k (B, H_kv, N_k, d)
   * @param v (B, H_kv, N_k, d_v)
   */
  public static Check check(
      Tensor q, Tensor k, Tensor v, AttentionOptions options, AttentionResult actual) {
    Checks.notNull(actual, "actual");
    AttentionResult oracle = NaiveAttention.compute(q, k, v, options, Precision.DOUBLE);
    AttentionResult plain = NaiveAttention.compute(q, k, v, options, Precision.FLOAT);
    return check(oracle, plain, maxAbs(v.toArray()), actual);
  }

  /**
   * Checks {@code actual} against a precomputed oracle and float32 run (for checking several
   * kernels against one oracle).
   *
   * @param maxAbsV max |V|
   */
  public static Check check(
      AttentionResult oracle, AttentionResult plain, double maxAbsV, AttentionResult actual) {
    Checks.notNull(oracle, "oracle");
    Checks.notNull(plain, "plain");
    Checks.notNull(actual, "actual");
    Errors f32o = Errors.of(plain.output(), oracle.output());
    Errors f32l = Errors.of(plain.lse(), oracle.lse());
    return new Check(
        Errors.of(actual.output(), oracle.output()),
        Errors.of(actual.lse(), oracle.lse()),
        f32o,
        f32l,
        tolerance(f32o.maxAbs(), maxAbsV),
        tolerance(f32l.maxAbs(), maxAbs(oracle.lse())));
  }

  /** The largest finite |x|, 0 for none. */
  public static double maxAbs(float[] x) {
    Checks.notNull(x, "x");
    double m = 0;
    for (float f : x) {
      if (Float.isFinite(f)) {
        m = Math.max(m, Math.abs(f));
      }
    }
    return m;
  }

  /**
   * The budget of a gradient (dQ, dK or dV) against the float64 oracle's backward: {@value
   * #GRADIENT_RELATIVE} of the largest gradient magnitude plus the floor. The backward's error
   * grows with N like the forward's; this bound holds at the tested sizes (up to a few thousand
   * keys) with a margin of 10 or more.
   *
   * @param maxAbsGradient max |g| of the oracle's gradient
   */
  public static double gradientTolerance(double maxAbsGradient) {
    return GRADIENT_RELATIVE * maxAbsGradient + ABS_FLOOR;
  }

  /** The relative part of {@link #gradientTolerance}. */
  public static final double GRADIENT_RELATIVE = 1e-4;
}
