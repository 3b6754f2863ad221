package dev.flashattn4j.kernel.decode;

import dev.flashattn4j.kernel.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The loops of a decode step, each as a SIMD kernel (jdk.incubator.vector) and its scalar twin.
 * Every SIMD loop runs to {@code SPECIES.loopBound(n)} and ends with a scalar tail. The vector
 * width is the forward kernel's ({@link Simd}, system property {@code flashattn.vector.bits}: 128,
 * 256 or 512; 0 makes the scalar twins the default), and so is exp2.
 *
 * <p>Key and value rows are passed as an array of row arrays and offsets ({@code rows[j]}, {@code
 * offsets[j]}), so that one block of keys may span several pages of the cache.
 */
final class DecodeSimd {

  /** The forward kernel's species, chosen once from {@value Simd#PROPERTY}. */
  static final VectorSpecies<Float> SPECIES = Simd.SPECIES;

  /** False when {@value Simd#PROPERTY} = 0 asks for the scalar twins by default. */
  static final boolean VECTOR_BY_DEFAULT = Simd.ENABLED;

  private static final int LANES = SPECIES.length();

  private DecodeSimd() {}

  // Rotations by 8, 4, 2 and 1 lanes: the fixed tree of sum() (the ones wider than the vector
  // are never used).
  private static final VectorShuffle<Float> ROTATE_8 = rotation(8);
  private static final VectorShuffle<Float> ROTATE_4 = rotation(4);
  private static final VectorShuffle<Float> ROTATE_2 = rotation(2);
  private static final VectorShuffle<Float> ROTATE_1 = rotation(1);

  // Rotations by LANES/2, ..., 16 for vectors of more than 16 floats (SVE).
  private static final VectorShuffle<Float>[] ROTATE_WIDE = wideRotations();

  @SuppressWarnings("unchecked")
  private static VectorShuffle<Float>[] wideRotations() {
    int n = Math.max(0, Integer.numberOfTrailingZeros(LANES) - 4);
    VectorShuffle<Float>[] r = new VectorShuffle[n];
    for (int k = 0; k < n; k++) {
      r[k] = rotation(LANES >> (k + 1));
    }
    return r;
  }

  private static VectorShuffle<Float> rotation(int shift) {
    return VectorShuffle.fromOp(SPECIES, i -> (i + shift) % LANES);
  }

  /**
   * The sum of the lanes, added in a fixed tree. {@code reduceLanes(ADD)} may add in another order
   * compiled than interpreted, which would make results depend on the JIT's progress.
   */
  static float sum(FloatVector v) {
    if (LANES > 16) {
      for (VectorShuffle<Float> r : ROTATE_WIDE) {
        v = v.add(v.rearrange(r));
      }
    }
    if (LANES >= 16) {
      v = v.add(v.rearrange(ROTATE_8));
    }
    if (LANES >= 8) {
      v = v.add(v.rearrange(ROTATE_4));
    }
    if (LANES >= 4) {
      v = v.add(v.rearrange(ROTATE_2));
    }
    if (LANES >= 2) {
      v = v.add(v.rearrange(ROTATE_1));
    }
    return v.lane(0);
  }

  // The butterfly that reduces several dot products' vector sums at once (for 8 or 16 lanes):
  // fold(x, y) at distance s leaves x's pairwise sums (lane i + lane i^s) in the lanes whose bit s
  // is 0 and y's in the others. Three folds (distances S1 = LANES/2, S2 = LANES/4, S3 = LANES/8)
  // leave each of eight sums in LANES/8 neighbouring lanes; finish() adds those. Plain lane-wise
  // IEEE additions in a fixed order: the same bits compiled or interpreted, unlike reduceLanes.
  private static final boolean BUTTERFLY = LANES == 8 || LANES == 16;
  private static final int S1 = LANES / 2;
  private static final int S2 = Math.max(1, LANES / 4);
  private static final int S3 = Math.max(1, LANES / 8);
  private static final VectorShuffle<Float> XOR_1 = xor(S1);
  private static final VectorShuffle<Float> XOR_2 = xor(S2);
  private static final VectorShuffle<Float> XOR_3 = xor(S3);
  private static final VectorMask<Float> BIT_1 = bit(S1);
  private static final VectorMask<Float> BIT_2 = bit(S2);
  private static final VectorMask<Float> BIT_3 = bit(S3);

  private static VectorShuffle<Float> xor(int s) {
    return VectorShuffle.fromOp(SPECIES, i -> i ^ s);
  }

  private static VectorMask<Float> bit(int s) {
    boolean[] m = new boolean[LANES];
    for (int i = 0; i < LANES; i++) {
      m[i] = (i & s) != 0;
    }
    return VectorMask.fromArray(SPECIES, m, 0);
  }

  /** Lane i: x[i] + x[i ^ s] where bit s of i is 0, y[i] + y[i ^ s] where it is 1. */
  private static FloatVector fold(
      FloatVector x, FloatVector y, VectorMask<Float> bit, VectorShuffle<Float> xor) {
    return x.blend(y, bit).add(y.blend(x, bit).rearrange(xor));
  }

  /** The sum that starts at lane {@code base} after the folds: one lane (8) or two (16). */
  private static float finish(FloatVector v, int base) {
    return LANES == 16 ? v.lane(base) + v.lane(base + 1) : v.lane(base);
  }

  /** Lanes of a float vector of the chosen width. */
  static int lanes() {
    return LANES;
  }

  // 1. s[so + j] = q · k_j for j in [from, to): four keys at a time share each load of q.

  static void scores(
      boolean simd,
      float[] q,
      int qo,
      float[][] rows,
      int[] offsets,
      int from,
      int to,
      int d,
      float[] s) {
    int j = from;
    if (simd) {
      for (; j + 4 <= to; j += 4) {
        dot4(q, qo, rows, offsets, j, d, s);
      }
      for (; j < to; j++) {
        s[j] = dotVector(q, qo, rows[j], offsets[j], d);
      }
    } else {
      for (; j < to; j++) {
        s[j] = dotScalar(q, qo, rows[j], offsets[j], d);
      }
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
      float[][] rows,
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
    int j = from;
    for (; j + 4 <= to; j += 4) {
      dot2x4(q, qo0, qo1, rows, offsets, j, d, s0, s1);
    }
    for (; j < to; j++) {
      s0[j] = dotVector(q, qo0, rows[j], offsets[j], d);
      s1[j] = dotVector(q, qo1, rows[j], offsets[j], d);
    }
  }

  private static void dot2x4(
      float[] q,
      int qo0,
      int qo1,
      float[][] rows,
      int[] offsets,
      int j,
      int d,
      float[] s0,
      float[] s1) {
    float[] k0 = rows[j];
    float[] k1 = rows[j + 1];
    float[] k2 = rows[j + 2];
    float[] k3 = rows[j + 3];
    int o0 = offsets[j];
    int o1 = offsets[j + 1];
    int o2 = offsets[j + 2];
    int o3 = offsets[j + 3];
    FloatVector a0 = FloatVector.zero(SPECIES);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    FloatVector b0 = a0;
    FloatVector b1 = a0;
    FloatVector b2 = a0;
    FloatVector b3 = a0;
    int bound = SPECIES.loopBound(d);
    int c = 0;
    for (; c < bound; c += LANES) {
      FloatVector x = FloatVector.fromArray(SPECIES, q, qo0 + c);
      FloatVector y = FloatVector.fromArray(SPECIES, q, qo1 + c);
      FloatVector kv = FloatVector.fromArray(SPECIES, k0, o0 + c);
      a0 = x.fma(kv, a0);
      b0 = y.fma(kv, b0);
      kv = FloatVector.fromArray(SPECIES, k1, o1 + c);
      a1 = x.fma(kv, a1);
      b1 = y.fma(kv, b1);
      kv = FloatVector.fromArray(SPECIES, k2, o2 + c);
      a2 = x.fma(kv, a2);
      b2 = y.fma(kv, b2);
      kv = FloatVector.fromArray(SPECIES, k3, o3 + c);
      a3 = x.fma(kv, a3);
      b3 = y.fma(kv, b3);
    }
    float r0;
    float r1;
    float r2;
    float r3;
    float t0;
    float t1;
    float t2;
    float t3;
    if (BUTTERFLY) {
      FloatVector fa = fold(fold(a0, a1, BIT_1, XOR_1), fold(a2, a3, BIT_1, XOR_1), BIT_2, XOR_2);
      FloatVector fb = fold(fold(b0, b1, BIT_1, XOR_1), fold(b2, b3, BIT_1, XOR_1), BIT_2, XOR_2);
      FloatVector h = fold(fa, fb, BIT_3, XOR_3);
      r0 = finish(h, 0);
      r1 = finish(h, S1);
      r2 = finish(h, S2);
      r3 = finish(h, S1 + S2);
      t0 = finish(h, S3);
      t1 = finish(h, S1 + S3);
      t2 = finish(h, S2 + S3);
      t3 = finish(h, S1 + S2 + S3);
    } else {
      r0 = sum(a0);
      r1 = sum(a1);
      r2 = sum(a2);
      r3 = sum(a3);
      t0 = sum(b0);
      t1 = sum(b1);
      t2 = sum(b2);
      t3 = sum(b3);
    }
    for (; c < d; c++) {
      float x = q[qo0 + c];
      float y = q[qo1 + c];
      r0 = Math.fma(x, k0[o0 + c], r0);
      r1 = Math.fma(x, k1[o1 + c], r1);
      r2 = Math.fma(x, k2[o2 + c], r2);
      r3 = Math.fma(x, k3[o3 + c], r3);
      t0 = Math.fma(y, k0[o0 + c], t0);
      t1 = Math.fma(y, k1[o1 + c], t1);
      t2 = Math.fma(y, k2[o2 + c], t2);
      t3 = Math.fma(y, k3[o3 + c], t3);
    }
    s0[j] = r0;
    s0[j + 1] = r1;
    s0[j + 2] = r2;
    s0[j + 3] = r3;
    s1[j] = t0;
    s1[j + 1] = t1;
    s1[j + 2] = t2;
    s1[j + 3] = t3;
  }

  private static void dot4(
      float[] q, int qo, float[][] rows, int[] offsets, int j, int d, float[] s) {
    float[] k0 = rows[j];
    float[] k1 = rows[j + 1];
    float[] k2 = rows[j + 2];
    float[] k3 = rows[j + 3];
    int o0 = offsets[j];
    int o1 = offsets[j + 1];
    int o2 = offsets[j + 2];
    int o3 = offsets[j + 3];
    FloatVector a0 = FloatVector.zero(SPECIES);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    int bound = SPECIES.loopBound(d);
    int c = 0;
    for (; c < bound; c += LANES) {
      FloatVector qv = FloatVector.fromArray(SPECIES, q, qo + c);
      a0 = qv.fma(FloatVector.fromArray(SPECIES, k0, o0 + c), a0);
      a1 = qv.fma(FloatVector.fromArray(SPECIES, k1, o1 + c), a1);
      a2 = qv.fma(FloatVector.fromArray(SPECIES, k2, o2 + c), a2);
      a3 = qv.fma(FloatVector.fromArray(SPECIES, k3, o3 + c), a3);
    }
    float s0;
    float s1;
    float s2;
    float s3;
    if (BUTTERFLY) {
      // Fold the four sums into one vector (a_k's partial sums end at lane k·… below), then add
      // the lanes each sum still spans.
      FloatVector g = fold(fold(a0, a1, BIT_1, XOR_1), fold(a2, a3, BIT_1, XOR_1), BIT_2, XOR_2);
      g = g.add(g.rearrange(XOR_3));
      s0 = finish(g, 0);
      s1 = finish(g, S1);
      s2 = finish(g, S2);
      s3 = finish(g, S1 + S2);
    } else {
      s0 = sum(a0);
      s1 = sum(a1);
      s2 = sum(a2);
      s3 = sum(a3);
    }
    for (; c < d; c++) {
      float x = q[qo + c];
      s0 = Math.fma(x, k0[o0 + c], s0);
      s1 = Math.fma(x, k1[o1 + c], s1);
      s2 = Math.fma(x, k2[o2 + c], s2);
      s3 = Math.fma(x, k3[o3 + c], s3);
    }
    s[j] = s0;
    s[j + 1] = s1;
    s[j + 2] = s2;
    s[j + 3] = s3;
  }

  private static float dotVector(float[] q, int qo, float[] k, int ko, int d) {
    FloatVector acc = FloatVector.zero(SPECIES);
    int bound = SPECIES.loopBound(d);
    int c = 0;
    for (; c < bound; c += LANES) {
      acc =
          FloatVector.fromArray(SPECIES, q, qo + c)
              .fma(FloatVector.fromArray(SPECIES, k, ko + c), acc);
    }
    float sum = sum(acc);
    for (; c < d; c++) {
      sum = Math.fma(q[qo + c], k[ko + c], sum);
    }
    return sum;
  }

  private static float dotScalar(float[] q, int qo, float[] k, int ko, int d) {
    float sum = 0;
    for (int c = 0; c < d; c++) {
      sum = Math.fma(q[qo + c], k[ko + c], sum);
    }
    return sum;
  }

  // 2. s[j] ← factor · s[j] for j in [from, to); returns max_j s[j].

  static float scaleMax(boolean simd, float[] s, int from, int to, float factor) {
    int j = from;
    float max = Float.NEGATIVE_INFINITY;
    if (simd) {
      FloatVector m = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
      for (; j + LANES <= to; j += LANES) {
        FloatVector x = FloatVector.fromArray(SPECIES, s, j).mul(factor);
        x.intoArray(s, j);
        m = m.max(x);
      }
      max = m.reduceLanes(VectorOperators.MAX); // max is exact: any order gives the same bits
    }
    for (; j < to; j++) {
      s[j] *= factor;
      max = Math.max(max, s[j]);
    }
    return max;
  }

  // 3. s[j] ← 2^(s[j] − m) for j in [from, to); returns Σ_j s[j] (lanes, then a fixed tree).

  static float exp2ShiftSum(boolean simd, float[] s, int from, int to, float m) {
    int j = from;
    float sum = 0;
    if (simd) {
      FloatVector acc = FloatVector.zero(SPECIES);
      for (; j + LANES <= to; j += LANES) {
        FloatVector p = Simd.exp2(FloatVector.fromArray(SPECIES, s, j).sub(m));
        p.intoArray(s, j);
        acc = acc.add(p);
      }
      sum = sum(acc);
    }
    for (; j < to; j++) {
      float p = Simd.exp2(s[j] - m);
      s[j] = p;
      sum += p;
    }
    return sum;
  }

  // 4. a[o + c] *= alpha for c in [0, n).

  static void scale(boolean simd, float[] a, int o, int n, float alpha) {
    int c = 0;
    if (simd) {
      int bound = SPECIES.loopBound(n);
      for (; c < bound; c += LANES) {
        FloatVector.fromArray(SPECIES, a, o + c).mul(alpha).intoArray(a, o + c);
      }
    }
    for (; c < n; c++) {
      a[o + c] *= alpha;
    }
  }

  // 5. acc[ao + c] += Σ_j p[j] · v_j[c] for j in [from, to), c in [0, dv): four vectors of the
  //    accumulator stay in registers while the block's value rows stream past.

  static void accumulate(
      boolean simd,
      float[] acc,
      int ao,
      float[] p,
      int from,
      int to,
      float[][] rows,
      int[] offsets,
      int dv) {
    int c = 0;
    if (simd) {
      for (; c + 8 * LANES <= dv; c += 8 * LANES) {
        accumulate8(acc, ao + c, p, from, to, rows, offsets, c);
      }
      int step = 4 * LANES;
      for (; c + step <= dv; c += step) {
        FloatVector a0 = FloatVector.fromArray(SPECIES, acc, ao + c);
        FloatVector a1 = FloatVector.fromArray(SPECIES, acc, ao + c + LANES);
        FloatVector a2 = FloatVector.fromArray(SPECIES, acc, ao + c + 2 * LANES);
        FloatVector a3 = FloatVector.fromArray(SPECIES, acc, ao + c + 3 * LANES);
        for (int j = from; j < to; j++) {
          float[] v = rows[j];
          int vo = offsets[j] + c;
          FloatVector pj = FloatVector.broadcast(SPECIES, p[j]);
          a0 = FloatVector.fromArray(SPECIES, v, vo).fma(pj, a0);
          a1 = FloatVector.fromArray(SPECIES, v, vo + LANES).fma(pj, a1);
          a2 = FloatVector.fromArray(SPECIES, v, vo + 2 * LANES).fma(pj, a2);
          a3 = FloatVector.fromArray(SPECIES, v, vo + 3 * LANES).fma(pj, a3);
        }
        a0.intoArray(acc, ao + c);
        a1.intoArray(acc, ao + c + LANES);
        a2.intoArray(acc, ao + c + 2 * LANES);
        a3.intoArray(acc, ao + c + 3 * LANES);
      }
      for (; c + LANES <= dv; c += LANES) {
        FloatVector a0 = FloatVector.fromArray(SPECIES, acc, ao + c);
        for (int j = from; j < to; j++) {
          a0 =
              FloatVector.fromArray(SPECIES, rows[j], offsets[j] + c)
                  .fma(FloatVector.broadcast(SPECIES, p[j]), a0);
        }
        a0.intoArray(acc, ao + c);
      }
    }
    for (; c < dv; c++) {
      float a = acc[ao + c];
      for (int j = from; j < to; j++) {
        a = Math.fma(p[j], rows[j][offsets[j] + c], a);
      }
      acc[ao + c] = a;
    }
  }

  /** Eight vectors of the accumulator from {@code ao}: eight independent FMA chains. */
  private static void accumulate8(
      float[] acc, int ao, float[] p, int from, int to, float[][] rows, int[] offsets, int c) {
    FloatVector a0 = FloatVector.fromArray(SPECIES, acc, ao);
    FloatVector a1 = FloatVector.fromArray(SPECIES, acc, ao + LANES);
    FloatVector a2 = FloatVector.fromArray(SPECIES, acc, ao + 2 * LANES);
    FloatVector a3 = FloatVector.fromArray(SPECIES, acc, ao + 3 * LANES);
    FloatVector a4 = FloatVector.fromArray(SPECIES, acc, ao + 4 * LANES);
    FloatVector a5 = FloatVector.fromArray(SPECIES, acc, ao + 5 * LANES);
    FloatVector a6 = FloatVector.fromArray(SPECIES, acc, ao + 6 * LANES);
    FloatVector a7 = FloatVector.fromArray(SPECIES, acc, ao + 7 * LANES);
    for (int j = from; j < to; j++) {
      float[] v = rows[j];
      int vo = offsets[j] + c;
      FloatVector pj = FloatVector.broadcast(SPECIES, p[j]);
      a0 = FloatVector.fromArray(SPECIES, v, vo).fma(pj, a0);
      a1 = FloatVector.fromArray(SPECIES, v, vo + LANES).fma(pj, a1);
      a2 = FloatVector.fromArray(SPECIES, v, vo + 2 * LANES).fma(pj, a2);
      a3 = FloatVector.fromArray(SPECIES, v, vo + 3 * LANES).fma(pj, a3);
      a4 = FloatVector.fromArray(SPECIES, v, vo + 4 * LANES).fma(pj, a4);
      a5 = FloatVector.fromArray(SPECIES, v, vo + 5 * LANES).fma(pj, a5);
      a6 = FloatVector.fromArray(SPECIES, v, vo + 6 * LANES).fma(pj, a6);
      a7 = FloatVector.fromArray(SPECIES, v, vo + 7 * LANES).fma(pj, a7);
    }
    a0.intoArray(acc, ao);
    a1.intoArray(acc, ao + LANES);
    a2.intoArray(acc, ao + 2 * LANES);
    a3.intoArray(acc, ao + 3 * LANES);
    a4.intoArray(acc, ao + 4 * LANES);
    a5.intoArray(acc, ao + 5 * LANES);
    a6.intoArray(acc, ao + 6 * LANES);
    a7.intoArray(acc, ao + 7 * LANES);
  }

  // 6. y[yo + c] += w · x[xo + c] for c in [0, n).

  static void axpy(boolean simd, float w, float[] x, int xo, float[] y, int yo, int n) {
    int c = 0;
    if (simd) {
      FloatVector wv = FloatVector.broadcast(SPECIES, w);
      int bound = SPECIES.loopBound(n);
      for (; c < bound; c += LANES) {
        FloatVector.fromArray(SPECIES, x, xo + c)
            .fma(wv, FloatVector.fromArray(SPECIES, y, yo + c))
            .intoArray(y, yo + c);
      }
    }
    for (; c < n; c++) {
      y[yo + c] = Math.fma(w, x[xo + c], y[yo + c]);
    }
  }

  // 7. dst[j] = float16ToFloat(src[so + j]) for j in [0, n): C2 vectorises this loop.

  static void widen(short[] src, int so, float[] dst, int dOff, int n) {
    for (int j = 0; j < n; j++) {
      dst[dOff + j] = Float.float16ToFloat(src[so + j]);
    }
  }
}
