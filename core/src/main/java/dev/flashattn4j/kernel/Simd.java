package dev.flashattn4j.kernel;

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

  // 2^f on [-1/2, 1/2] (Cephes exp2f, relative error ~1.7e-7): 1 + f·(P5 + f·(P4 + ... f·P0)).
  public static final float P0 = 1.535336188319500e-4f;
  public static final float P1 = 1.339887440266574e-3f;
  public static final float P2 = 9.618437357674640e-3f;
  public static final float P3 = 5.550332471162809e-2f;
  public static final float P4 = 2.402264791363012e-1f;
  public static final float P5 = 6.931472028550421e-1f;

  /** 1.5·2^23: adding it rounds a float of magnitude below 2^22 to the nearest integer. */
  public static final float ROUND = 12582912f;

  /**
   * The floor of the softmax's exp2: far enough below −126 that the exponent underflows to a
   * negative int, which {@code max(0)} turns into +0 (so −∞ and every x &lt; −127 give exactly 0).
   */
  static final float EXP2_FLOOR = -150f;

  private static final float EXP2_MAX = 127f;

  /**
   * 2^x, to within 2e-7 relative, for the softmax: exactly 0 for x &lt; −127 (and for x = −∞),
   * saturating at 2^127; what it gives between −127 and −126 is below 2^−126. The scalar twin of
   * {@link #exp2(FloatVector)}, operation for operation: x = n + f with n = round(x), 2^f by a
   * degree-6 polynomial, then n is added to the exponent bits, and an exponent that underflows
   * makes the bits negative, which max(bits, 0) turns into +0.
   */
  public static float exp2(float x) {
    float xc = Math.min(Math.max(x, EXP2_FLOOR), EXP2_MAX);
    float shifted = xc + ROUND;
    float f = xc - (shifted - ROUND); // in [-1/2, 1/2]
    float p = Math.fma(f, P0, P1);
    p = Math.fma(p, f, P2);
    p = Math.fma(p, f, P3);
    p = Math.fma(p, f, P4);
    p = Math.fma(p, f, P5);
    p = Math.fma(p, f, 1f);
    // shifted's bits are ROUND's plus n, and ROUND's bits (0x4B400000) shifted left by 23 are 0
    // mod 2^32: the shift leaves exactly n·2^23, the exponent to add
    int bits = Float.floatToRawIntBits(p) + (Float.floatToRawIntBits(shifted) << 23);
    return Float.intBitsToFloat(Math.max(bits, 0));
  }

  /**
   * 2^x lane by lane (see {@link #exp2(float)}): the polynomial FlashAttention uses with the scale
   * and log2(e) folded into the scores, so that no multiply by log2(e) is left in the loop.
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
        p.reinterpretAsInts().add(shifted.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23));
    return bits.max(0).reinterpretAsFloats();
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
