package dev.flashattn4j.kernel.decode;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The loops of a decode step, each as a SIMD kernel (jdk.incubator.vector) and its scalar twin.
 * Every SIMD loop runs to {@code SPECIES.loopBound(n)} and ends with a scalar tail. The vector
 * width is chosen once, from the system property {@value #WIDTH_PROPERTY} (bits: 128, 256 or 512; 0
 * makes the scalar twins the default; unset: the machine's preferred width).
 *
 * <p>Key and value rows are passed as an array of row arrays and offsets ({@code rows[j]}, {@code
 * offsets[j]}), so that one block of keys may span several pages of the cache.
 */
final class DecodeSimd {

  /** The system property that pins the vector width in bits (0 = scalar). */
  static final String WIDTH_PROPERTY = "flashattn.vector.bits";

  static final VectorSpecies<Float> SPECIES = species(Integer.getInteger(WIDTH_PROPERTY, -1));

  /** False when the property asks for the scalar twins by default. */
  static final boolean VECTOR_BY_DEFAULT = Integer.getInteger(WIDTH_PROPERTY, -1) != 0;

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

  private static VectorSpecies<Float> species(int bits) {
    return switch (bits) {
      case 64 -> FloatVector.SPECIES_64;
      case 128 -> FloatVector.SPECIES_128;
      case 256 -> FloatVector.SPECIES_256;
      case 512 -> FloatVector.SPECIES_512;
      default -> FloatVector.SPECIES_PREFERRED;
    };
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
    float s0 = sum(a0);
    float s1 = sum(a1);
    float s2 = sum(a2);
    float s3 = sum(a3);
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

  // 2. s[j] = exp(s[j] − m) for j in [from, to); returns Σ s[j] in order. Scalar on purpose: a
  //    vector EXP gives other bits compiled (SVML) than interpreted, and Math.exp does not.

  static float expShiftSum(float[] s, int from, int to, float m) {
    float sum = 0;
    for (int j = from; j < to; j++) {
      float p = (float) Math.exp(s[j] - m);
      s[j] = p;
      sum += p;
    }
    return sum;
  }

  // 3. a[o + c] *= alpha for c in [0, n).

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

  // 4. acc[ao + c] += Σ_j p[j] · v_j[c] for j in [from, to), c in [0, dv): four vectors of the
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

  // 5. y[yo + c] += w · x[xo + c] for c in [0, n).

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

  // 6. dst[j] = float16ToFloat(src[so + j]) for j in [0, n): C2 vectorises this loop.

  static void widen(short[] src, int so, float[] dst, int dOff, int n) {
    for (int j = 0; j < n; j++) {
      dst[dOff + j] = Float.float16ToFloat(src[so + j]);
    }
  }
}
