package dev.flashattn4j.kernel.decode;

import dev.flashattn4j.cache.KvStorage;

/**
 * The scores and P·V of a decode step straight from int8 and bfloat16 pages: each stored row is
 * read where its page holds it and widened in registers, with no float32 copy of the block. The
 * SIMD kernels are the generated {@link DecodeInt8Vectors} and {@link DecodeBfloat16Vectors}; the
 * scalar twins are here, and run the tails. (float16 pages are widened block by block instead: JDK
 * 25's Vector API has no binary16 conversion, see {@code scripts/gen_decode_fused.py}.) No Vector
 * API type appears here, so the scalar twins run without the module {@code jdk.incubator.vector}.
 *
 * <p>int8 rows are read unscaled: the caller multiplies a key's score by its row's scale (S = s_k ·
 * q·k_int8) and folds a value row's scale into its weight before P·V (p ← p · s_v), once a row. A
 * non-finite row has scale NaN, so its score, or every output it weighs into, is NaN, as a widened
 * row of NaN gives. bfloat16 widens exactly (a shift), so it gives the float32 kernels' bits on the
 * same values.
 *
 * <p>Row j starts at {@code offsets[j]} of {@code rows}: one array a call (a page) and an offset a
 * key; a block that spans pages is one call a page (a run), so no reference is stored a key: under
 * G1 each such store runs the post-write barrier, which cost a 32K-key step 13% (float32) to 21%
 * (int8 and bfloat16).
 */
final class DecodeFused {

  private DecodeFused() {}

  /** True when the SIMD kernels run for this storage ({@code simd} asked, the lanes fit). */
  static boolean vectors(boolean simd, KvStorage storage) {
    return simd && (storage != KvStorage.INT8 || DecodeInt8Vectors.APPLIES);
  }

  /** True when {@link #scores4} applies: four query rows share each load of a key. */
  static boolean scores4Applies(boolean simd, KvStorage storage, int d) {
    if (!vectors(simd, storage)) {
      return false;
    }
    return storage == KvStorage.INT8
        ? DecodeInt8Vectors.scores4Applies(d)
        : DecodeBfloat16Vectors.scores4Applies(d);
  }

  // 1. s[j] = q · k_j for j in [from, to), k_j as stored (int8: unscaled).

  static void scores8(
      boolean simd,
      float[] q,
      int qo,
      byte[] rows,
      int[] offsets,
      int from,
      int to,
      int d,
      float[] s) {
    if (vectors(simd, KvStorage.INT8)) {
      DecodeInt8Vectors.scores(q, qo, rows, offsets, from, to, d, s);
      return;
    }
    for (int j = from; j < to; j++) {
      byte[] k = rows;
      int ko = offsets[j];
      float sum = 0;
      for (int c = 0; c < d; c++) {
        sum = Math.fma(q[qo + c], k[ko + c], sum);
      }
      s[j] = sum;
    }
  }

  /** {@link #scores8} for bfloat16 pages. */
  static void scores16(
      boolean simd,
      float[] q,
      int qo,
      short[] rows,
      int[] offsets,
      int from,
      int to,
      int d,
      float[] s) {
    if (simd) {
      DecodeBfloat16Vectors.scores(q, qo, rows, offsets, from, to, d, s);
      return;
    }
    for (int j = from; j < to; j++) {
      short[] k = rows;
      int ko = offsets[j];
      float sum = 0;
      for (int c = 0; c < d; c++) {
        sum = Math.fma(q[qo + c], widen(k[ko + c]), sum);
      }
      s[j] = sum;
    }
  }

  /** The scores of the four query rows at qo, qo + d, ...: only where {@link #scores4Applies}. */
  static void scores4of8(
      float[] q,
      int qo,
      byte[] rows,
      int[] offsets,
      int from,
      int to,
      int d,
      float[] s0,
      float[] s1,
      float[] s2,
      float[] s3,
      float[] lanes) {
    DecodeInt8Vectors.scores4(q, qo, rows, offsets, from, to, d, s0, s1, s2, s3, lanes);
  }

  /** {@link #scores4of8} for bfloat16 pages. */
  static void scores4of16(
      float[] q,
      int qo,
      short[] rows,
      int[] offsets,
      int from,
      int to,
      int d,
      float[] s0,
      float[] s1,
      float[] s2,
      float[] s3,
      float[] lanes) {
    DecodeBfloat16Vectors.scores4(q, qo, rows, offsets, from, to, d, s0, s1, s2, s3, lanes);
  }

  // 2. acc[ao + c] += Σ_j p[j] · v_j[c] for j in [from, to), c in [0, dv), v_j as stored.

  static void accumulate8(
      boolean simd,
      float[] acc,
      int ao,
      float[] p,
      int from,
      int to,
      byte[] rows,
      int[] offsets,
      int dv) {
    accumulate8From(simd, acc, ao, p, from, to, rows, offsets, 0, dv);
  }

  private static void accumulate8From(
      boolean simd,
      float[] acc,
      int ao,
      float[] p,
      int from,
      int to,
      byte[] rows,
      int[] offsets,
      int c0,
      int dv) {
    int c =
        vectors(simd, KvStorage.INT8)
            ? DecodeInt8Vectors.accumulateFrom(acc, ao, p, from, to, rows, offsets, c0, dv)
            : c0;
    for (; c < dv; c++) {
      float a = acc[ao + c];
      for (int j = from; j < to; j++) {
        a = Math.fma(p[j], rows[offsets[j] + c], a);
      }
      acc[ao + c] = a;
    }
  }

  /** {@link #accumulate8} for bfloat16 pages. */
  static void accumulate16(
      boolean simd,
      float[] acc,
      int ao,
      float[] p,
      int from,
      int to,
      short[] rows,
      int[] offsets,
      int dv) {
    accumulate16From(simd, acc, ao, p, from, to, rows, offsets, 0, dv);
  }

  private static void accumulate16From(
      boolean simd,
      float[] acc,
      int ao,
      float[] p,
      int from,
      int to,
      short[] rows,
      int[] offsets,
      int c0,
      int dv) {
    int c =
        simd
            ? DecodeBfloat16Vectors.accumulateFrom(acc, ao, p, from, to, rows, offsets, c0, dv)
            : c0;
    for (; c < dv; c++) {
      float a = acc[ao + c];
      for (int j = from; j < to; j++) {
        a = Math.fma(p[j], widen(rows[offsets[j] + c]), a);
      }
      acc[ao + c] = a;
    }
  }

  /** {@link #accumulate8} for four rows at once (acc at ao0, ao0 + dv, ... with p0..p3). */
  static void accumulate4of8(
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
      byte[] rows,
      int[] offsets) {
    int c =
        vectors(simd, KvStorage.INT8)
            ? DecodeInt8Vectors.accumulate4(acc, ao0, dv, p0, p1, p2, p3, from, to, rows, offsets)
            : 0;
    accumulate8From(simd, acc, ao0, p0, from, to, rows, offsets, c, dv);
    accumulate8From(simd, acc, ao0 + dv, p1, from, to, rows, offsets, c, dv);
    accumulate8From(simd, acc, ao0 + 2 * dv, p2, from, to, rows, offsets, c, dv);
    accumulate8From(simd, acc, ao0 + 3 * dv, p3, from, to, rows, offsets, c, dv);
  }

  /** {@link #accumulate16} for four rows at once (acc at ao0, ao0 + dv, ... with p0..p3). */
  static void accumulate4of16(
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
      short[] rows,
      int[] offsets) {
    int c =
        simd
            ? DecodeBfloat16Vectors.accumulate4(
                acc, ao0, dv, p0, p1, p2, p3, from, to, rows, offsets)
            : 0;
    accumulate16From(simd, acc, ao0, p0, from, to, rows, offsets, c, dv);
    accumulate16From(simd, acc, ao0 + dv, p1, from, to, rows, offsets, c, dv);
    accumulate16From(simd, acc, ao0 + 2 * dv, p2, from, to, rows, offsets, c, dv);
    accumulate16From(simd, acc, ao0 + 3 * dv, p3, from, to, rows, offsets, c, dv);
  }

  // 3. s[j] ← s[j] · f[j] for j in [from, to): int8's row scales, once a row.

  static void multiply(float[] s, float[] f, int from, int to) {
    for (int j = from; j < to; j++) {
      s[j] *= f[j];
    }
  }

  /** The float a bfloat16 pattern stands for. */
  private static float widen(short bits) {
    return Float.intBitsToFloat(bits << 16);
  }
}
