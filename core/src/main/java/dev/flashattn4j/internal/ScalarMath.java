package dev.flashattn4j.internal;

/**
 * The scalar exp2 and tanh every kernel shares (the softmax's exp2, the soft cap's tanh), with
 * their constants: plain float arithmetic (IEEE additions, multiplications, FMAs, one division), so
 * a result never depends on which of the JIT's intrinsics has replaced what. The SIMD forms ({@link
 * Simd#exp2(jdk.incubator.vector.FloatVector)}, the soft cap in {@code ScorePipeline}) do the same
 * operations lane by lane and give the same bits. No Vector API here: the paper's kernel and the
 * oracle-side code use it without the incubator module.
 */
public final class ScalarMath {

  private ScalarMath() {}

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
  public static final float EXP2_FLOOR = -150f;

  /** The ceiling of exp2's argument: 2^127, the largest power of two a float holds. */
  public static final float EXP2_MAX = 127f;

  /**
   * 2^x, to within 2e-7 relative, for the softmax: exactly 0 for x &lt; −127 (and for x = −∞),
   * saturating at 2^127; what it gives between −127 and −126 is below 2^−126. The scalar twin of
   * {@code Simd.exp2(FloatVector)}, operation for operation: x = n + f with n = round(x), 2^f by a
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

  // tanh(x) = x + x³·T(x²) for |x| < 0.625 (Cephes tanhf, relative error ~1e-7)
  public static final float T0 = -5.70498872745e-3f;
  public static final float T1 = 2.06390887954e-2f;
  public static final float T2 = -5.37397155531e-2f;
  public static final float T3 = 1.33314422036e-1f;
  public static final float T4 = -3.33332819422e-1f;

  /** Below it the polynomial, above it 1 − 2/(e^{2|x|} + 1). */
  public static final float TANH_SPLIT = 0.625f;

  /** 2·log2(e): e^{2|x|} = 2^{|x|·TWO_LOG2E}. */
  public static final float TWO_LOG2E = (float) (2 / Math.log(2));

  /**
   * tanh(x), to about 2e-7 relative, with the same bits whatever the JIT has compiled: only IEEE
   * additions, multiplications, FMAs, one division and {@link #exp2}, so the soft cap cannot change
   * a result once C2 replaces an intrinsic (the Vector API's {@code TANH} and {@code Math.tanh}
   * both may). Cephes' tanhf: x + x³·T(x²) below |x| = 0.625, 1 − 2/(2^{2|x|·log2 e} + 1) above,
   * with x's sign; ±1 beyond |x| ≈ 44 (exp2 saturates at 2^127), NaN for NaN.
   */
  public static float tanh(float x) {
    float a = Math.abs(x);
    float z = x * x;
    float p = Math.fma(T0, z, T1);
    p = Math.fma(p, z, T2);
    p = Math.fma(p, z, T3);
    p = Math.fma(p, z, T4);
    float small = Math.fma(p * z, x, x);
    float big = 1f - 2f / (exp2(a * TWO_LOG2E) + 1f);
    return a < TANH_SPLIT ? small : a >= TANH_SPLIT ? Math.copySign(big, x) : x; // x: NaN
  }

  /** Below it, tanh(t) = t to float precision (t³/3 is under half an ulp of t). */
  private static final float TANH_IS_IDENTITY = 0x1p-12f;

  /**
   * The soft cap c·tanh(s/c) of a score s, for every positive finite c: where |s/c| < 2^-12 it is s
   * itself (so a cap near float32's largest value, whose s/c would be a subnormal, loses no bits),
   * ±c where s/c overflows, NaN for NaN. The one scalar definition the decode step, the paper's
   * algorithm and the fast kernel's path for extreme caps share.
   */
  public static float softcap(float s, float c) {
    float t = s / c;
    return Math.abs(t) < TANH_IS_IDENTITY ? s : c * tanh(t);
  }
}
