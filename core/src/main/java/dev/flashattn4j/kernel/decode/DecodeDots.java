package dev.flashattn4j.kernel.decode;

/**
 * The scores of a decode step, S = q·Kᵀ for a block of keys: the SIMD kernels ({@link
 * DecodeDotVectors}: two query rows share each load of a key, four keys each load of a query) or
 * their scalar twin. Key row j starts at {@code offsets[j]} of {@code rows}: one array a call (a
 * page) and an offset a key; a block that spans pages is one call a page (a run), so no reference
 * is stored a key: under G1 each such store runs the post-write barrier, which cost a 32K-key step
 * 13% (float32) to 21% (int8 and bfloat16). No Vector API type here: the scalar path runs without
 * the module {@code jdk.incubator.vector}.
 */
final class DecodeDots {

  private DecodeDots() {}

  // 1. s[so + j] = q · k_j for j in [from, to): four keys at a time share each load of q.

  static void scores(
      boolean simd,
      float[] q,
      int qo,
      float[] rows,
      int[] offsets,
      int from,
      int to,
      int d,
      float[] s) {
    if (simd) {
      DecodeDotVectors.scores(q, qo, rows, offsets, from, to, d, s);
      return;
    }
    for (int j = from; j < to; j++) {
      s[j] = dotScalar(q, qo, rows, offsets[j], d);
    }
  }

  /**
   * {@link #scores} for two query rows at once (s0 for the row at qo0, s1 for the one at qo1): each
   * load of a key serves both rows, and eight independent sums keep the FMA units busy. Each score
   * is added in the same order as {@link #scores} adds it, so the bits are the same.
   */
  static void scores2(
      boolean simd,
      float[] q,
      int qo0,
      int qo1,
      float[] rows,
      int[] offsets,
      int from,
      int to,
      int d,
      float[] s0,
      float[] s1) {
    if (!simd) {
      scores(false, q, qo0, rows, offsets, from, to, d, s0);
      scores(false, q, qo1, rows, offsets, from, to, d, s1);
      return;
    }
    DecodeDotVectors.scores2(q, qo0, qo1, rows, offsets, from, to, d, s0, s1);
  }

  /**
   * True when {@link #scores4} applies: 16-lane vectors and d a multiple of 16 (its butterfly
   * leaves the sixteen sums of four rows × four keys in one lane each).
   */
  static boolean scores4Applies(boolean simd, int d) {
    return simd && DecodeDotVectors.scores4Applies(d);
  }

  /**
   * {@link DecodeDotVectors#scores4}: the scores of four query rows at once, only where {@link
   * #scores4Applies}.
   */
  static void scores4(
      float[] q,
      int qo,
      float[] rows,
      int[] offsets,
      int from,
      int to,
      int d,
      float[] s0,
      float[] s1,
      float[] s2,
      float[] s3,
      float[] lanes) {
    DecodeDotVectors.scores4(q, qo, rows, offsets, from, to, d, s0, s1, s2, s3, lanes);
  }

  private static float dotScalar(float[] q, int qo, float[] k, int ko, int d) {
    float sum = 0;
    for (int c = 0; c < d; c++) {
      sum = Math.fma(q[qo + c], k[ko + c], sum);
    }
    return sum;
  }
}
