package dev.flashattn4j.kernel.decode;

import static dev.flashattn4j.kernel.decode.DecodeVectors.SPECIES;

import jdk.incubator.vector.FloatVector;

/**
 * The SIMD kernels of {@link DecodeDots}, the scores of a decode step S = q·Kᵀ for a block of keys:
 * they share each load of a key between two query rows and each load of a query between four keys,
 * and reduce the eight (or four) vector sums together ({@link LaneSums}). Kept apart from the
 * scalar twin so that {@link DecodeDots} loads without the module {@code jdk.incubator.vector};
 * touched only when the vector paths run.
 */
final class DecodeDotVectors {

  private static final int LANES = SPECIES.length();

  private DecodeDotVectors() {}

  // 1. s[so + j] = q · k_j for j in [from, to): four keys at a time share each load of q.

  static void scores(
      float[] q, int qo, float[] rows, int[] offsets, int from, int to, int d, float[] s) {
    int j = from;
    for (; j + 4 <= to; j += 4) {
      dot4(q, qo, rows, offsets, j, d, s);
    }
    for (; j < to; j++) {
      s[j] = dotVector(q, qo, rows, offsets[j], d);
    }
  }

  /**
   * {@link #scores} for two query rows at once (s0 for the row at qo0, s1 for the one at qo1): each
   * load of a key serves both rows, and eight independent sums keep the FMA units busy. Each score
   * is added in the same order as {@link #scores} adds it, so the bits are the same.
   */
  static void scores2(
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
    int j = from;
    for (; j + 4 <= to; j += 4) {
      dot2Rows4Keys(q, qo0, qo1, rows, offsets, j, d, s0, s1);
    }
    for (; j < to; j++) {
      s0[j] = dotVector(q, qo0, rows, offsets[j], d);
      s1[j] = dotVector(q, qo1, rows, offsets[j], d);
    }
  }

  /**
   * True when {@link #scores4} applies: 16-lane vectors and d a multiple of 16 (its butterfly
   * leaves the sixteen sums of four rows × four keys in one lane each).
   */
  static boolean scores4Applies(int d) {
    return (LANES == 16 || LANES == 8) && d % LANES == 0;
  }

  /**
   * The scores of four query rows (at qo, qo + d, qo + 2d, qo + 3d) into s0..s3, for keys [from,
   * to): each load of a key serves the four rows, and four keys at a time (two with 8-lane vectors)
   * are reduced by one butterfly over sixteen (eight) vector sums, which leaves each score whole in
   * one lane (no lane extraction). Keys past the last whole group go through {@code dotVector}.
   * Only where {@link #scores4Applies}.
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
    int j = from;
    if (LANES == 8) {
      for (; j + 2 <= to; j += 2) {
        dot4Rows2Keys(q, qo, rows, offsets, j, d, lanes);
        // lane of (row r, key k) = k·4 + (r & 1)·2 + (r >> 1)
        s0[j] = lanes[0];
        s0[j + 1] = lanes[4];
        s1[j] = lanes[2];
        s1[j + 1] = lanes[6];
        s2[j] = lanes[1];
        s2[j + 1] = lanes[5];
        s3[j] = lanes[3];
        s3[j + 1] = lanes[7];
      }
    }
    for (; LANES == 16 && j + 4 <= to; j += 4) {
      dot4Rows4Keys(q, qo, rows, offsets, j, d, lanes);
      // lane of (row r, key k) = (k & 1)·8 + (k >> 1)·4 + (r & 1)·2 + (r >> 1)
      s0[j] = lanes[0];
      s0[j + 1] = lanes[8];
      s0[j + 2] = lanes[4];
      s0[j + 3] = lanes[12];
      s1[j] = lanes[2];
      s1[j + 1] = lanes[10];
      s1[j + 2] = lanes[6];
      s1[j + 3] = lanes[14];
      s2[j] = lanes[1];
      s2[j + 1] = lanes[9];
      s2[j + 2] = lanes[5];
      s2[j + 3] = lanes[13];
      s3[j] = lanes[3];
      s3[j + 1] = lanes[11];
      s3[j + 2] = lanes[7];
      s3[j + 3] = lanes[15];
    }
    for (; j < to; j++) {
      s0[j] = dotVector(q, qo, rows, offsets[j], d);
      s1[j] = dotVector(q, qo + d, rows, offsets[j], d);
      s2[j] = dotVector(q, qo + 2 * d, rows, offsets[j], d);
      s3[j] = dotVector(q, qo + 3 * d, rows, offsets[j], d);
    }
  }

  /**
   * Eight dot products (four rows × keys j, j+1) into the eight lanes of {@code out}, for 8-lane
   * vectors: eight accumulators, the four query vectors and a key vector fit AVX2's 16 registers.
   * The folds at distances 4, 2 and 1 add the lanes of each sum in {@code dotVector}'s order.
   */
  private static void dot4Rows2Keys(
      float[] q, int qo, float[] rows, int[] offsets, int j, int d, float[] out) {
    int o0 = offsets[j];
    int o1 = offsets[j + 1];
    int q1 = qo + d;
    int q2 = qo + 2 * d;
    int q3 = qo + 3 * d;
    FloatVector a00 = FloatVector.zero(SPECIES);
    FloatVector a01 = a00;
    FloatVector a10 = a00;
    FloatVector a11 = a00;
    FloatVector a20 = a00;
    FloatVector a21 = a00;
    FloatVector a30 = a00;
    FloatVector a31 = a00;
    for (int c = 0; c < d; c += LANES) {
      FloatVector x0 = FloatVector.fromArray(SPECIES, rows, o0 + c);
      FloatVector x1 = FloatVector.fromArray(SPECIES, rows, o1 + c);
      FloatVector y = FloatVector.fromArray(SPECIES, q, qo + c);
      a00 = y.fma(x0, a00);
      a01 = y.fma(x1, a01);
      y = FloatVector.fromArray(SPECIES, q, q1 + c);
      a10 = y.fma(x0, a10);
      a11 = y.fma(x1, a11);
      y = FloatVector.fromArray(SPECIES, q, q2 + c);
      a20 = y.fma(x0, a20);
      a21 = y.fma(x1, a21);
      y = FloatVector.fromArray(SPECIES, q, q3 + c);
      a30 = y.fma(x0, a30);
      a31 = y.fma(x1, a31);
    }
    // distance 4 pairs the two keys, distance 2 rows 0|1 and 2|3, distance 1 the two row pairs
    FloatVector b0 =
        a00.blend(a01, LaneSums.BIT_1)
            .add(a01.blend(a00, LaneSums.BIT_1).rearrange(LaneSums.XOR_1));
    FloatVector b1 =
        a10.blend(a11, LaneSums.BIT_1)
            .add(a11.blend(a10, LaneSums.BIT_1).rearrange(LaneSums.XOR_1));
    FloatVector b2 =
        a20.blend(a21, LaneSums.BIT_1)
            .add(a21.blend(a20, LaneSums.BIT_1).rearrange(LaneSums.XOR_1));
    FloatVector b3 =
        a30.blend(a31, LaneSums.BIT_1)
            .add(a31.blend(a30, LaneSums.BIT_1).rearrange(LaneSums.XOR_1));
    FloatVector c0 =
        b0.blend(b1, LaneSums.BIT_2).add(b1.blend(b0, LaneSums.BIT_2).rearrange(LaneSums.XOR_2));
    FloatVector c1 =
        b2.blend(b3, LaneSums.BIT_2).add(b3.blend(b2, LaneSums.BIT_2).rearrange(LaneSums.XOR_2));
    c0.blend(c1, LaneSums.BIT_3)
        .add(c1.blend(c0, LaneSums.BIT_3).rearrange(LaneSums.XOR_3))
        .intoArray(out, 0);
  }

  /** Sixteen dot products (four rows × keys j..j+3) into the sixteen lanes of {@code out}. */
  private static void dot4Rows4Keys(
      float[] q, int qo, float[] rows, int[] offsets, int j, int d, float[] out) {
    int o0 = offsets[j];
    int o1 = offsets[j + 1];
    int o2 = offsets[j + 2];
    int o3 = offsets[j + 3];
    int q1 = qo + d;
    int q2 = qo + 2 * d;
    int q3 = qo + 3 * d;
    FloatVector a00 = FloatVector.zero(SPECIES);
    FloatVector a01 = a00;
    FloatVector a02 = a00;
    FloatVector a03 = a00;
    FloatVector a10 = a00;
    FloatVector a11 = a00;
    FloatVector a12 = a00;
    FloatVector a13 = a00;
    FloatVector a20 = a00;
    FloatVector a21 = a00;
    FloatVector a22 = a00;
    FloatVector a23 = a00;
    FloatVector a30 = a00;
    FloatVector a31 = a00;
    FloatVector a32 = a00;
    FloatVector a33 = a00;
    for (int c = 0; c < d; c += LANES) {
      FloatVector x0 = FloatVector.fromArray(SPECIES, rows, o0 + c);
      FloatVector x1 = FloatVector.fromArray(SPECIES, rows, o1 + c);
      FloatVector x2 = FloatVector.fromArray(SPECIES, rows, o2 + c);
      FloatVector x3 = FloatVector.fromArray(SPECIES, rows, o3 + c);
      FloatVector y = FloatVector.fromArray(SPECIES, q, qo + c);
      a00 = y.fma(x0, a00);
      a01 = y.fma(x1, a01);
      a02 = y.fma(x2, a02);
      a03 = y.fma(x3, a03);
      y = FloatVector.fromArray(SPECIES, q, q1 + c);
      a10 = y.fma(x0, a10);
      a11 = y.fma(x1, a11);
      a12 = y.fma(x2, a12);
      a13 = y.fma(x3, a13);
      y = FloatVector.fromArray(SPECIES, q, q2 + c);
      a20 = y.fma(x0, a20);
      a21 = y.fma(x1, a21);
      a22 = y.fma(x2, a22);
      a23 = y.fma(x3, a23);
      y = FloatVector.fromArray(SPECIES, q, q3 + c);
      a30 = y.fma(x0, a30);
      a31 = y.fma(x1, a31);
      a32 = y.fma(x2, a32);
      a33 = y.fma(x3, a33);
    }
    // Folds (LaneSums) written out: distance 8 pairs keys 0|1 and 2|3, distance 4 pairs the two
    // key pairs, distance 2 rows 0|1 and 2|3, distance 1 the two row pairs.
    FloatVector b00 =
        a00.blend(a01, LaneSums.BIT_1)
            .add(a01.blend(a00, LaneSums.BIT_1).rearrange(LaneSums.XOR_1));
    FloatVector b01 =
        a02.blend(a03, LaneSums.BIT_1)
            .add(a03.blend(a02, LaneSums.BIT_1).rearrange(LaneSums.XOR_1));
    FloatVector b10 =
        a10.blend(a11, LaneSums.BIT_1)
            .add(a11.blend(a10, LaneSums.BIT_1).rearrange(LaneSums.XOR_1));
    FloatVector b11 =
        a12.blend(a13, LaneSums.BIT_1)
            .add(a13.blend(a12, LaneSums.BIT_1).rearrange(LaneSums.XOR_1));
    FloatVector b20 =
        a20.blend(a21, LaneSums.BIT_1)
            .add(a21.blend(a20, LaneSums.BIT_1).rearrange(LaneSums.XOR_1));
    FloatVector b21 =
        a22.blend(a23, LaneSums.BIT_1)
            .add(a23.blend(a22, LaneSums.BIT_1).rearrange(LaneSums.XOR_1));
    FloatVector b30 =
        a30.blend(a31, LaneSums.BIT_1)
            .add(a31.blend(a30, LaneSums.BIT_1).rearrange(LaneSums.XOR_1));
    FloatVector b31 =
        a32.blend(a33, LaneSums.BIT_1)
            .add(a33.blend(a32, LaneSums.BIT_1).rearrange(LaneSums.XOR_1));
    FloatVector c0 =
        b00.blend(b01, LaneSums.BIT_2)
            .add(b01.blend(b00, LaneSums.BIT_2).rearrange(LaneSums.XOR_2));
    FloatVector c1 =
        b10.blend(b11, LaneSums.BIT_2)
            .add(b11.blend(b10, LaneSums.BIT_2).rearrange(LaneSums.XOR_2));
    FloatVector c2 =
        b20.blend(b21, LaneSums.BIT_2)
            .add(b21.blend(b20, LaneSums.BIT_2).rearrange(LaneSums.XOR_2));
    FloatVector c3 =
        b30.blend(b31, LaneSums.BIT_2)
            .add(b31.blend(b30, LaneSums.BIT_2).rearrange(LaneSums.XOR_2));
    FloatVector e0 =
        c0.blend(c1, LaneSums.BIT_3).add(c1.blend(c0, LaneSums.BIT_3).rearrange(LaneSums.XOR_3));
    FloatVector e1 =
        c2.blend(c3, LaneSums.BIT_3).add(c3.blend(c2, LaneSums.BIT_3).rearrange(LaneSums.XOR_3));
    e0.blend(e1, LaneSums.BIT_4)
        .add(e1.blend(e0, LaneSums.BIT_4).rearrange(LaneSums.XOR_4))
        .intoArray(out, 0);
  }

  private static void dot2Rows4Keys(
      float[] q,
      int qo0,
      int qo1,
      float[] rows,
      int[] offsets,
      int j,
      int d,
      float[] s0,
      float[] s1) {
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
      FloatVector kv = FloatVector.fromArray(SPECIES, rows, o0 + c);
      a0 = x.fma(kv, a0);
      b0 = y.fma(kv, b0);
      kv = FloatVector.fromArray(SPECIES, rows, o1 + c);
      a1 = x.fma(kv, a1);
      b1 = y.fma(kv, b1);
      kv = FloatVector.fromArray(SPECIES, rows, o2 + c);
      a2 = x.fma(kv, a2);
      b2 = y.fma(kv, b2);
      kv = FloatVector.fromArray(SPECIES, rows, o3 + c);
      a3 = x.fma(kv, a3);
      b3 = y.fma(kv, b3);
    }
    // Fold the eight sums together (LaneSums), written out: a vector passed to a call may be boxed.
    // fold(x, y) = x.blend(y, bit) + y.blend(x, bit).rearrange(xor)
    FloatVector a01 =
        a0.blend(a1, LaneSums.BIT_1).add(a1.blend(a0, LaneSums.BIT_1).rearrange(LaneSums.XOR_1));
    FloatVector a23 =
        a2.blend(a3, LaneSums.BIT_1).add(a3.blend(a2, LaneSums.BIT_1).rearrange(LaneSums.XOR_1));
    FloatVector b01 =
        b0.blend(b1, LaneSums.BIT_1).add(b1.blend(b0, LaneSums.BIT_1).rearrange(LaneSums.XOR_1));
    FloatVector b23 =
        b2.blend(b3, LaneSums.BIT_1).add(b3.blend(b2, LaneSums.BIT_1).rearrange(LaneSums.XOR_1));
    FloatVector fa =
        a01.blend(a23, LaneSums.BIT_2)
            .add(a23.blend(a01, LaneSums.BIT_2).rearrange(LaneSums.XOR_2));
    FloatVector fb =
        b01.blend(b23, LaneSums.BIT_2)
            .add(b23.blend(b01, LaneSums.BIT_2).rearrange(LaneSums.XOR_2));
    float r0;
    float r1;
    float r2;
    float r3;
    float t0;
    float t1;
    float t2;
    float t3;
    if (LANES >= 8) {
      FloatVector h =
          fa.blend(fb, LaneSums.BIT_3).add(fb.blend(fa, LaneSums.BIT_3).rearrange(LaneSums.XOR_3));
      int l1 = LaneSums.S1;
      int l2 = LaneSums.S2;
      int l3 = LaneSums.S3;
      if (LANES == 16) { // each sum still spans two neighbouring lanes
        r0 = h.lane(0) + h.lane(1);
        r1 = h.lane(l1) + h.lane(l1 + 1);
        r2 = h.lane(l2) + h.lane(l2 + 1);
        r3 = h.lane(l1 + l2) + h.lane(l1 + l2 + 1);
        t0 = h.lane(l3) + h.lane(l3 + 1);
        t1 = h.lane(l1 + l3) + h.lane(l1 + l3 + 1);
        t2 = h.lane(l2 + l3) + h.lane(l2 + l3 + 1);
        t3 = h.lane(l1 + l2 + l3) + h.lane(l1 + l2 + l3 + 1);
      } else {
        r0 = h.lane(0);
        r1 = h.lane(l1);
        r2 = h.lane(l2);
        r3 = h.lane(l1 + l2);
        t0 = h.lane(l3);
        t1 = h.lane(l1 + l3);
        t2 = h.lane(l2 + l3);
        t3 = h.lane(l1 + l2 + l3);
      }
    } else { // 4 lanes: two folds leave every sum whole, in one lane
      r0 = fa.lane(0);
      r1 = fa.lane(LaneSums.S1);
      r2 = fa.lane(LaneSums.S2);
      r3 = fa.lane(LaneSums.S1 + LaneSums.S2);
      t0 = fb.lane(0);
      t1 = fb.lane(LaneSums.S1);
      t2 = fb.lane(LaneSums.S2);
      t3 = fb.lane(LaneSums.S1 + LaneSums.S2);
    }
    for (; c < d; c++) {
      float x = q[qo0 + c];
      float y = q[qo1 + c];
      r0 = Math.fma(x, rows[o0 + c], r0);
      r1 = Math.fma(x, rows[o1 + c], r1);
      r2 = Math.fma(x, rows[o2 + c], r2);
      r3 = Math.fma(x, rows[o3 + c], r3);
      t0 = Math.fma(y, rows[o0 + c], t0);
      t1 = Math.fma(y, rows[o1 + c], t1);
      t2 = Math.fma(y, rows[o2 + c], t2);
      t3 = Math.fma(y, rows[o3 + c], t3);
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
      float[] q, int qo, float[] rows, int[] offsets, int j, int d, float[] s) {
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
      a0 = qv.fma(FloatVector.fromArray(SPECIES, rows, o0 + c), a0);
      a1 = qv.fma(FloatVector.fromArray(SPECIES, rows, o1 + c), a1);
      a2 = qv.fma(FloatVector.fromArray(SPECIES, rows, o2 + c), a2);
      a3 = qv.fma(FloatVector.fromArray(SPECIES, rows, o3 + c), a3);
    }
    float s0;
    float s1;
    float s2;
    float s3;
    // Fold the four sums together (LaneSums), written out as in dot2Rows4Keys (same additions, same
    // bits).
    FloatVector a01 =
        a0.blend(a1, LaneSums.BIT_1).add(a1.blend(a0, LaneSums.BIT_1).rearrange(LaneSums.XOR_1));
    FloatVector a23 =
        a2.blend(a3, LaneSums.BIT_1).add(a3.blend(a2, LaneSums.BIT_1).rearrange(LaneSums.XOR_1));
    FloatVector g =
        a01.blend(a23, LaneSums.BIT_2)
            .add(a23.blend(a01, LaneSums.BIT_2).rearrange(LaneSums.XOR_2));
    int l1 = LaneSums.S1;
    int l2 = LaneSums.S2;
    if (LANES >= 8) {
      g = g.add(g.rearrange(LaneSums.XOR_3));
    }
    if (LANES == 16) { // each sum still spans two neighbouring lanes
      s0 = g.lane(0) + g.lane(1);
      s1 = g.lane(l1) + g.lane(l1 + 1);
      s2 = g.lane(l2) + g.lane(l2 + 1);
      s3 = g.lane(l1 + l2) + g.lane(l1 + l2 + 1);
    } else {
      s0 = g.lane(0);
      s1 = g.lane(l1);
      s2 = g.lane(l2);
      s3 = g.lane(l1 + l2);
    }
    for (; c < d; c++) {
      float x = q[qo + c];
      s0 = Math.fma(x, rows[o0 + c], s0);
      s1 = Math.fma(x, rows[o1 + c], s1);
      s2 = Math.fma(x, rows[o2 + c], s2);
      s3 = Math.fma(x, rows[o3 + c], s3);
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
    // The lanes in a fixed tree, written out (a vector passed to a call may be boxed).
    if (LANES >= 16) {
      acc = acc.add(acc.rearrange(LaneSums.ROTATE_8));
    }
    if (LANES >= 8) {
      acc = acc.add(acc.rearrange(LaneSums.ROTATE_4));
    }
    acc = acc.add(acc.rearrange(LaneSums.ROTATE_2));
    acc = acc.add(acc.rearrange(LaneSums.ROTATE_1));
    float sum = acc.lane(0);
    for (; c < d; c++) {
      sum = Math.fma(q[qo + c], k[ko + c], sum);
    }
    return sum;
  }
}
