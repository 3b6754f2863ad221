package dev.flashattn4j.internal;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector width of every SIMD path, chosen once per JVM, and small SIMD helpers with scalar
 * twins (dot product, axpy, fast exp2) that other kernels may reuse.
 *
 * <p>The system property {@value #PROPERTY} pins the width in bits: {@code 0} turns every vector
 * path off (the scalar twins run), {@code 128}, {@code 256} or {@code 512} pick that width (capped
 * at the machine's preferred width); unset means the machine's preferred width. It is read once,
 * into a {@code static final}, so that the JIT folds the species into the code.
 */
public final class Simd {

  /** The system property that pins the vector width in bits (0 = scalar). */
  public static final String PROPERTY = "flashattn.vector.bits";

  /** The species of every vector path; meaningful only when {@link #ENABLED}. */
  public static final VectorSpecies<Float> SPECIES = chooseSpecies();

  /** False when the property pins the width to 0: the scalar twins run. */
  public static final boolean ENABLED = chooseBits() != 0;

  /** Floats per vector, 1 when vectors are off. */
  public static final int LANES = ENABLED ? SPECIES.length() : 1;

  /** The int species of {@link #SPECIES}'s shape: the bits of a float vector. */
  public static final VectorSpecies<Integer> INT_SPECIES =
      VectorSpecies.of(int.class, SPECIES.vectorShape());

  /**
   * The concrete class of a vector of {@link #SPECIES} ({@code Float512Vector} with 512 bits). A
   * reinterpretation ({@code reinterpretAsFloats}, {@code reinterpretAsInts}) returns its vector
   * under the abstract type, so the next operation on it is a virtual call that C2 binds from the
   * type profile when it has one; where the profile is missing (a caller compiled at tier 2, which
   * does not profile) the call stays virtual, the intrinsic never runs and every call boxes its
   * vectors (JDK-8392004: the allocation tests failed in 1 of 3 fresh JVMs on AVX-512). {@code
   * FLOATS.cast(v)} gives C2 the exact class from a constant, whatever the profile: every
   * reinterpretation is wrapped in it, and costs nothing once compiled.
   */
  @SuppressWarnings("unchecked")
  public static final Class<? extends FloatVector> FLOATS =
      (Class<? extends FloatVector>) SPECIES.vectorType();

  /** The concrete class of a vector of {@link #INT_SPECIES}: see {@link #FLOATS}. */
  @SuppressWarnings("unchecked")
  public static final Class<? extends IntVector> INTS =
      (Class<? extends IntVector>) INT_SPECIES.vectorType();

  private Simd() {}

  /**
   * The JIT's preferred vector width in bits (512 with AVX-512, 256 with AVX2), whatever is pinned.
   */
  public static int preferredBits() {
    return FloatVector.SPECIES_PREFERRED.vectorBitSize();
  }

  private static int chooseBits() {
    String p = System.getProperty(PROPERTY);
    int preferred = preferredBits();
    if (p == null || p.isBlank()) {
      return preferred;
    }
    int bits;
    try {
      bits = Integer.parseInt(p.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(PROPERTY + " must be 0, 128, 256 or 512, not " + p, e);
    }
    if (bits != 0 && bits != 128 && bits != 256 && bits != 512) {
      throw new IllegalArgumentException(PROPERTY + " must be 0, 128, 256 or 512, not " + p);
    }
    return bits == 0 ? 0 : Math.min(bits, preferred);
  }

  private static VectorSpecies<Float> chooseSpecies() {
    return switch (Math.max(chooseBits(), 128)) {
      case 128 -> FloatVector.SPECIES_128;
      case 256 -> FloatVector.SPECIES_256;
      default -> FloatVector.SPECIES_512;
    };
  }

  /** The vector width in bits, 0 when vectors are off. */
  public static int bits() {
    return ENABLED ? SPECIES.vectorBitSize() : 0;
  }

  /** A one-line description of the vector setting, for benchmark headers. */
  public static String describe() {
    return ENABLED ? bits() + "-bit vectors (" + LANES + " floats)" : "scalar (" + PROPERTY + "=0)";
  }

  // ---------------------------------------------------------------- exp2

  // exp2's constants and scalar form live in ScalarMath (no Vector API there, so the paper's kernel
  // and the decode step's scalar code need no incubator module); these are the same constants.
  public static final float P0 = ScalarMath.P0;
  public static final float P1 = ScalarMath.P1;
  public static final float P2 = ScalarMath.P2;
  public static final float P3 = ScalarMath.P3;
  public static final float P4 = ScalarMath.P4;
  public static final float P5 = ScalarMath.P5;

  /** 1.5·2^23: adding it rounds a float of magnitude below 2^22 to the nearest integer. */
  public static final float ROUND = ScalarMath.ROUND;

  public static final float EXP2_FLOOR = ScalarMath.EXP2_FLOOR;

  public static final float EXP2_MAX = ScalarMath.EXP2_MAX;

  /** {@link ScalarMath#exp2}: the scalar twin of {@link #exp2(FloatVector)}. */
  public static float exp2(float x) {
    return ScalarMath.exp2(x);
  }

  /**
   * 2^x lane by lane (see {@link #exp2(float)}): the softmax's exp, on differences s − m already
   * multiplied by log2(e) (the forward kernel) or scores with log2(e) folded into their scale (the
   * decode step).
   */
  public static FloatVector exp2(FloatVector x) {
    FloatVector xc = x.max(EXP2_FLOOR).min(EXP2_MAX);
    FloatVector shifted = xc.add(ROUND);
    FloatVector f = xc.sub(shifted.sub(ROUND));
    FloatVector p = f.fma(P0, P1);
    p = p.fma(f, FloatVector.broadcast(SPECIES, P2));
    p = p.fma(f, FloatVector.broadcast(SPECIES, P3));
    p = p.fma(f, FloatVector.broadcast(SPECIES, P4));
    p = p.fma(f, FloatVector.broadcast(SPECIES, P5));
    p = p.fma(f, FloatVector.broadcast(SPECIES, 1f));
    IntVector bits =
        INTS.cast(p.reinterpretAsInts())
            .add(INTS.cast(shifted.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23));
    return FLOATS.cast(bits.max(0).reinterpretAsFloats());
  }

  // ---------------------------------------------------------------- tanh

  public static final float T0 = ScalarMath.T0;
  public static final float T1 = ScalarMath.T1;
  public static final float T2 = ScalarMath.T2;
  public static final float T3 = ScalarMath.T3;
  public static final float T4 = ScalarMath.T4;
  public static final float TANH_SPLIT = ScalarMath.TANH_SPLIT;
  public static final float TWO_LOG2E = ScalarMath.TWO_LOG2E;

  /** {@link ScalarMath#tanh}. */
  public static float tanh(float x) {
    return ScalarMath.tanh(x);
  }

  // ---------------------------------------------------------------- BLAS-1

  /**
   * Σ_i a[aOff + i] · b[bOff + i] for i in [0, n): vector FMA with {@link #SPECIES}, one lane
   * reduction, then a scalar tail; the scalar twin when vectors are off.
   */
  public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
    if (!ENABLED) {
      return dotScalar(a, aOff, b, bOff, n);
    }
    int i = 0;
    int bound = SPECIES.loopBound(n);
    FloatVector acc = FloatVector.zero(SPECIES);
    for (; i < bound; i += LANES) {
      FloatVector x = FloatVector.fromArray(SPECIES, a, aOff + i);
      acc = x.fma(FloatVector.fromArray(SPECIES, b, bOff + i), acc);
    }
    float s = acc.reduceLanes(VectorOperators.ADD);
    for (; i < n; i++) {
      s += a[aOff + i] * b[bOff + i];
    }
    return s;
  }

  /** The scalar twin of {@link #dot}. */
  public static float dotScalar(float[] a, int aOff, float[] b, int bOff, int n) {
    float s = 0;
    for (int i = 0; i < n; i++) {
      s += a[aOff + i] * b[bOff + i];
    }
    return s;
  }

  /** y[yOff + i] += alpha · x[xOff + i] for i in [0, n). */
  public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
    int i = 0;
    if (ENABLED) {
      int bound = SPECIES.loopBound(n);
      FloatVector va = FloatVector.broadcast(SPECIES, alpha);
      for (; i < bound; i += LANES) {
        FloatVector yv = FloatVector.fromArray(SPECIES, y, yOff + i);
        FloatVector.fromArray(SPECIES, x, xOff + i).fma(va, yv).intoArray(y, yOff + i);
      }
    }
    for (; i < n; i++) {
      y[yOff + i] += alpha * x[xOff + i];
    }
  }
}
