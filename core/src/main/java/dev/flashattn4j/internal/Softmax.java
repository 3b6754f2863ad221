package dev.flashattn4j.internal;

/**
 * The one scalar definition of what happens to a row of scores, shared by the oracle, the paper's
 * Algorithm 1, the forward kernel and the decode step (their SIMD loops are these operations lane
 * by lane, and their tests hold them to the same bits):
 *
 * <ol>
 *   <li>the score s = scale·q·k, soft-capped ({@link ScalarMath#softcap}), then masked ({@link
 *       #mask}): −∞ hides a key whatever its score, any other bias is added as written;
 *   <li>the weights e^(s − m) = 2^((s − m)·log2 e) ({@link #expShift}), m the row's running max;
 *   <li>the row's log-sum-exp ({@link #lse}): NaN once a score was NaN or +∞, −∞ when no key was
 *       seen, m + ln l otherwise.
 * </ol>
 */
public final class Softmax {

  private Softmax() {}

  /** log2(e), rounded to float: the factor of every exp2-based exp. */
  public static final float LOG2E = (float) (1 / Math.log(2));

  /**
   * A masked score: −∞ where the bias is −∞ (the key is hidden, even a NaN score), else s + bias.
   */
  public static float mask(float s, float bias) {
    return bias == Float.NEGATIVE_INFINITY ? bias : s + bias;
  }

  /** {@link #mask(float, float)} for the float64 oracle. */
  public static double mask(double s, float bias) {
    return bias == Float.NEGATIVE_INFINITY ? Double.NEGATIVE_INFINITY : s + bias;
  }

  /** e^(x − m) as the kernels compute it: 2^((x − m)·log2 e) with {@link ScalarMath#exp2}. */
  public static float expShift(float x, float m) {
    return ScalarMath.exp2((x - m) * LOG2E);
  }

  /**
   * The natural log-sum-exp of a row from its running max m and sum l = Σ e^(s − m): NaN when m is
   * NaN or +∞ (a NaN or +∞ score), −∞ when the row saw no key (m = −∞ or l = 0), m + ln l else.
   */
  public static float lse(float m, float l) {
    if (Float.isNaN(m) || m == Float.POSITIVE_INFINITY || Float.isNaN(l)) {
      return Float.NaN;
    }
    if (!(l > 0f) || m == Float.NEGATIVE_INFINITY) {
      return Float.NEGATIVE_INFINITY;
    }
    return (float) (m + Math.log(l));
  }
}
