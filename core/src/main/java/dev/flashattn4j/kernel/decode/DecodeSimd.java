package dev.flashattn4j.kernel.decode;

import dev.flashattn4j.cache.KvStorage;
import dev.flashattn4j.internal.Softmax;
import dev.flashattn4j.internal.VectorModule;

/**
 * The softmax and P·V loops of a decode step, each as a SIMD kernel ({@link DecodeVectors},
 * jdk.incubator.vector) and its scalar twin. The SIMD kernel runs over the whole vectors of a loop
 * and the scalar code here runs the tail, or the whole loop when {@code simd} is false. No Vector
 * API type appears here, so the scalar twins run in a JVM without the module {@code
 * jdk.incubator.vector}. The vector width is the forward kernel's (system property {@code
 * flashattn.vector.bits}: 128, 256 or 512; 0 makes the scalar twins the default), and so is exp2.
 *
 * <p>Value row j starts at {@code offsets[j]} of {@code rows}: one array a call (a page) and an
 * offset a key; a block that spans pages is one call a page (a run), so no reference is stored a
 * key: under G1 each such store runs the post-write barrier, which cost a 32K-key step 13%
 * (float32) to 21% (int8 and bfloat16). The scores are {@link DecodeDots}'.
 */
final class DecodeSimd {

  /**
   * False when the module {@code jdk.incubator.vector} is missing or {@code flashattn.vector.bits}
   * = 0 asks for the scalar twins by default.
   */
  static final boolean VECTOR_BY_DEFAULT = VectorModule.vectorsEnabled();

  private DecodeSimd() {}

  /** Lanes of a float vector of the chosen width; 1 without the Vector API module. */
  static int lanes() {
    return VectorModule.PRESENT ? DecodeVectors.lanes() : 1;
  }

  // 1. s[j] ← factor · s[j] for j in [from, to); returns max_j s[j].

  static float scaleMax(boolean simd, float[] s, int from, int to, float factor) {
    int j = from;
    float max = Float.NEGATIVE_INFINITY;
    if (simd) {
      j = DecodeVectors.wholeVectors(from, to);
      max = DecodeVectors.scaleMax(s, from, j, factor);
    }
    for (; j < to; j++) {
      s[j] *= factor;
      max = Math.max(max, s[j]);
    }
    return max;
  }

  // 2. s[j] ← e^(s[j] − m) = 2^((s[j] − m)·log2 e) for j in [from, to); returns Σ_j s[j] (lanes, a
  // fixed tree, the tail). Scores in natural units: a score near float32's largest value stays
  // finite, and only the difference is scaled.

  static float expShiftSum(boolean simd, float[] s, int from, int to, float m) {
    int j = from;
    float sum = 0;
    if (simd) {
      j = DecodeVectors.wholeVectors(from, to);
      sum = DecodeVectors.expShiftSum(s, from, j, m);
    }
    for (; j < to; j++) {
      float p = Softmax.expShift(s[j], m);
      s[j] = p;
      sum += p;
    }
    return sum;
  }

  // 3. a[o + c] *= alpha for c in [0, n).

  static void scale(boolean simd, float[] a, int o, int n, float alpha) {
    int c = simd ? DecodeVectors.scale(a, o, n, alpha) : 0;
    for (; c < n; c++) {
      a[o + c] *= alpha;
    }
  }

  // 4. acc[ao + c] += Σ_j p[j] · v_j[c] for j in [from, to), c in [0, dv): four vectors of the
  //    accumulator stay in registers while the block's value rows stream past.

  static void accumulate(
      boolean simd,
      float[] acc,
      int ao,
      float[] p,
      int from,
      int to,
      float[] rows,
      int[] offsets,
      int dv) {
    accumulateFrom(simd, acc, ao, p, from, to, rows, offsets, 0, dv);
  }

  /** {@link #accumulate} for the columns [c0, dv) only. */
  private static void accumulateFrom(
      boolean simd,
      float[] acc,
      int ao,
      float[] p,
      int from,
      int to,
      float[] rows,
      int[] offsets,
      int c0,
      int dv) {
    int c = simd ? DecodeVectors.accumulateFrom(acc, ao, p, from, to, rows, offsets, c0, dv) : c0;
    for (; c < dv; c++) {
      float a = acc[ao + c];
      for (int j = from; j < to; j++) {
        a = Math.fma(p[j], rows[offsets[j] + c], a);
      }
      acc[ao + c] = a;
    }
  }

  /**
   * {@link #accumulate} for two rows at once (acc at ao0 with p0, acc at ao1 with p1): each load of
   * a value row serves both, sixteen accumulator vectors stay in registers. Every accumulator adds
   * in the same order as {@link #accumulate}, so the bits are the same.
   */
  static void accumulate2(
      boolean simd,
      float[] acc,
      int ao0,
      int ao1,
      float[] p0,
      float[] p1,
      int from,
      int to,
      float[] rows,
      int[] offsets,
      int dv) {
    int c =
        simd ? DecodeVectors.accumulate2(acc, ao0, ao1, p0, p1, from, to, rows, offsets, dv) : 0;
    accumulateFrom(simd, acc, ao0, p0, from, to, rows, offsets, c, dv);
    accumulateFrom(simd, acc, ao1, p1, from, to, rows, offsets, c, dv);
  }

  /**
   * {@link #accumulate} for four rows at once (acc at ao0..ao3 with p0..p3): each load of a value
   * row serves the four, and every accumulator adds in {@link #accumulate}'s order (the same bits).
   * Blocks of 4 vectors per row (16 accumulators) with 32 vector registers, of 2 (8) with 16.
   */
  static void accumulate4(
      boolean simd,
      float[] acc,
      int ao0,
      int dv,
      float[] p0,
      float[] p1,
      float[] p2,
      float[] p3,
      int from,
      int to,
      float[] rows,
      int[] offsets) {
    int c =
        simd ? DecodeVectors.accumulate4(acc, ao0, dv, p0, p1, p2, p3, from, to, rows, offsets) : 0;
    accumulateFrom(simd, acc, ao0, p0, from, to, rows, offsets, c, dv);
    accumulateFrom(simd, acc, ao0 + dv, p1, from, to, rows, offsets, c, dv);
    accumulateFrom(simd, acc, ao0 + 2 * dv, p2, from, to, rows, offsets, c, dv);
    accumulateFrom(simd, acc, ao0 + 3 * dv, p3, from, to, rows, offsets, c, dv);
  }

  // 5. y[yo + c] += w · x[xo + c] for c in [0, n).

  static void axpy(boolean simd, float w, float[] x, int xo, float[] y, int yo, int n) {
    int c = simd ? DecodeVectors.axpy(w, x, xo, y, yo, n) : 0;
    for (; c < n; c++) {
      y[yo + c] = Math.fma(w, x[xo + c], y[yo + c]);
    }
  }

  // 6. dst[j] = the float of the 16-bit pattern src[so + j] for j in [0, n). float16: C2
  //    vectorises the loop (one vcvtph2ps per 8 elements with F16C). bfloat16: the pattern is the
  //    float's top half, so a widening load and a shift by 16 (C2 does not vectorise that loop).

  /** dst[dOff + j] = src[so + j] · scale for j in [0, n): one row of an int8 page. */
  static void widen8(byte[] src, int so, float scale, float[] dst, int dOff, int n) {
    int j = VECTOR_BY_DEFAULT ? DecodeVectors.widenInt8(src, so, scale, dst, dOff, n) : 0;
    for (; j < n; j++) {
      dst[dOff + j] = src[so + j] * scale;
    }
  }

  static void widen(KvStorage storage, short[] src, int so, float[] dst, int dOff, int n) {
    if (storage == KvStorage.BFLOAT16) {
      int j = VECTOR_BY_DEFAULT ? DecodeVectors.widenBfloat16(src, so, dst, dOff, n) : 0;
      for (; j < n; j++) {
        dst[dOff + j] = Float.intBitsToFloat(src[so + j] << 16);
      }
    } else {
      for (int j = 0; j < n; j++) {
        dst[dOff + j] = Float.float16ToFloat(src[so + j]);
      }
    }
  }
}
