package dev.flashattn4j.kernel;

import static dev.flashattn4j.internal.Simd.FLOATS;
import static dev.flashattn4j.internal.Simd.INTS;
import static dev.flashattn4j.internal.Simd.LANES;
import static dev.flashattn4j.internal.Simd.SPECIES;

import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.internal.Simd;
import dev.flashattn4j.internal.Softmax;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * The SIMD loops over a key-major tile of scores ({@code s[j·ld + r]}, vectors of rows): the soft
 * cap of {@link ScorePipeline}, the online-softmax update of {@link OnlineSoftmax}, the
 * probabilities and dS of {@link FlashBackward}. Their scalar twins stay in those classes; these
 * loops live apart so that the classes that call them load without the module {@code
 * jdk.incubator.vector} (this class is touched only when the vector paths run, see {@link
 * KernelConfig#usesVectors()}).
 */
final class TileVectors {

  private TileVectors() {}

  // ---------------------------------------------------------------- ScorePipeline: the soft cap

  /**
   * s[i..i+LANES) ← k·tanh(s[i..]): {@link Simd#tanh} lane by lane, operation for operation (the
   * same bits as the scalar twin, whatever the JIT has compiled).
   */
  static void tanhTimes(float[] s, int i, float k) {
    FloatVector x = FloatVector.fromArray(SPECIES, s, i);
    FloatVector a = x.abs();
    FloatVector z = x.mul(x);
    FloatVector p = z.fma(Simd.T0, Simd.T1);
    p = p.fma(z, FloatVector.broadcast(SPECIES, Simd.T2));
    p = p.fma(z, FloatVector.broadcast(SPECIES, Simd.T3));
    p = p.fma(z, FloatVector.broadcast(SPECIES, Simd.T4));
    FloatVector small = p.mul(z).fma(x, x);
    // 2^{|x|·2 log2 e}, Simd.exp2 written out (a vector passed to a call may be boxed)
    FloatVector y = a.mul(Simd.TWO_LOG2E).max(Simd.EXP2_FLOOR).min(Simd.EXP2_MAX);
    FloatVector shifted = y.add(Simd.ROUND);
    FloatVector f = y.sub(shifted.sub(Simd.ROUND));
    FloatVector e = f.fma(Simd.P0, Simd.P1);
    e = e.fma(f, FloatVector.broadcast(SPECIES, Simd.P2));
    e = e.fma(f, FloatVector.broadcast(SPECIES, Simd.P3));
    e = e.fma(f, FloatVector.broadcast(SPECIES, Simd.P4));
    e = e.fma(f, FloatVector.broadcast(SPECIES, Simd.P5));
    e = e.fma(f, FloatVector.broadcast(SPECIES, 1f));
    // every reinterpretation is cast to its concrete class: see Simd.FLOATS
    IntVector bits =
        INTS.cast(e.reinterpretAsInts())
            .add(INTS.cast(shifted.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23));
    e = FLOATS.cast(bits.max(0).reinterpretAsFloats());
    FloatVector two = FloatVector.broadcast(SPECIES, 2f);
    FloatVector big = FloatVector.broadcast(SPECIES, 1f).sub(two.div(e.add(1f)));
    // copy x's sign onto big: the sign bit of x, the other bits of big
    IntVector sign = INTS.cast(x.reinterpretAsInts()).and(0x80000000);
    big =
        FLOATS.cast(
            INTS.cast(big.reinterpretAsInts()).and(0x7FFFFFFF).or(sign).reinterpretAsFloats());
    FloatVector t = small.blend(big, a.compare(VectorOperators.GE, Simd.TANH_SPLIT));
    t.blend(x, x.compare(VectorOperators.NE, x)).mul(k).intoArray(s, i); // NaN stays NaN
  }

  // ---------------------------------------------------------------- OnlineSoftmax

  /** {@link OnlineSoftmax#update}: the state's rows are a multiple of {@link Simd#LANES}. */
  static void update(OnlineSoftmax state, float[] s, int ld, int rows, int keys) {
    float[] rowMax = state.rowMax;
    float[] alpha = state.alpha;
    float[] tileSum = state.tileSum;
    // Every vector value lives inside one method: a vector passed to or returned from a call the
    // JIT does not inline is boxed on the heap, so exp2 is written out in both loops below.
    FloatVector c2 = FloatVector.broadcast(SPECIES, Simd.P2);
    FloatVector c3 = FloatVector.broadcast(SPECIES, Simd.P3);
    FloatVector c4 = FloatVector.broadcast(SPECIES, Simd.P4);
    FloatVector c5 = FloatVector.broadcast(SPECIES, Simd.P5);
    FloatVector one = FloatVector.broadcast(SPECIES, 1f);
    FloatVector log2e = FloatVector.broadcast(SPECIES, Softmax.LOG2E);
    for (int r = 0; r < rows; r += LANES) {
      FloatVector mOld = FloatVector.fromArray(SPECIES, rowMax, r);
      // m_new = max(m, max_j s_j), in two independent chains
      FloatVector max0 = mOld;
      FloatVector max1 = mOld;
      int j = 0;
      for (; j + 1 < keys; j += 2) {
        max0 = max0.max(FloatVector.fromArray(SPECIES, s, r + j * ld));
        max1 = max1.max(FloatVector.fromArray(SPECIES, s, r + (j + 1) * ld));
      }
      if (j < keys) {
        max0 = max0.max(FloatVector.fromArray(SPECIES, s, r + j * ld));
      }
      FloatVector max = max0.max(max1);
      FloatVector use = max.blend(0f, max.compare(VectorOperators.EQ, Float.NEGATIVE_INFINITY));
      // p_j = exp2(s_j − m_use) in place; the sum alternates between two chains
      FloatVector sum0 = FloatVector.zero(SPECIES);
      FloatVector sum1 = sum0;
      for (j = 0; j < keys; j++) {
        int i = r + j * ld;
        // x = max((s − m)·log2 e, −150): one unsigned min on the bits (see FLOOR_BITS)
        // (every reinterpretation is cast to its concrete class: see Simd.FLOATS)
        IntVector y =
            INTS.cast(FloatVector.fromArray(SPECIES, s, i).sub(use).mul(log2e).reinterpretAsInts());
        FloatVector x =
            FLOATS.cast(y.lanewise(VectorOperators.UMIN, FLOOR_BITS).reinterpretAsFloats());
        FloatVector shifted = x.add(Simd.ROUND);
        FloatVector f = x.sub(shifted.sub(Simd.ROUND));
        FloatVector p = f.fma(Simd.P0, Simd.P1).fma(f, c2).fma(f, c3).fma(f, c4).fma(f, c5);
        p = p.fma(f, one);
        IntVector e = INTS.cast(shifted.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23);
        p = FLOATS.cast(INTS.cast(p.reinterpretAsInts()).add(e).max(0).reinterpretAsFloats());
        p.intoArray(s, i);
        FloatVector t = sum1;
        sum1 = sum0.add(p);
        sum0 = t;
      }
      sum0.add(sum1).intoArray(tileSum, r);
      mOld.sub(use).mul(log2e).intoArray(alpha, r); // the exponent of α, finished in rescale
      max.intoArray(rowMax, r);
    }
    rescale(state, rows);
  }

  /** α = exp2(α's exponent); l = α·l + Σ_j p_j (the second half of {@link #update}). */
  private static void rescale(OnlineSoftmax state, int rows) {
    float[] alpha = state.alpha;
    float[] rowSum = state.rowSum;
    float[] tileSum = state.tileSum;
    FloatVector c2 = FloatVector.broadcast(SPECIES, Simd.P2);
    FloatVector c3 = FloatVector.broadcast(SPECIES, Simd.P3);
    FloatVector c4 = FloatVector.broadcast(SPECIES, Simd.P4);
    FloatVector c5 = FloatVector.broadcast(SPECIES, Simd.P5);
    FloatVector one = FloatVector.broadcast(SPECIES, 1f);
    for (int r = 0; r < rows; r += LANES) {
      IntVector y = INTS.cast(FloatVector.fromArray(SPECIES, alpha, r).reinterpretAsInts());
      FloatVector x =
          FLOATS.cast(y.lanewise(VectorOperators.UMIN, FLOOR_BITS).reinterpretAsFloats());
      FloatVector shifted = x.add(Simd.ROUND);
      FloatVector f = x.sub(shifted.sub(Simd.ROUND));
      FloatVector a = f.fma(Simd.P0, Simd.P1).fma(f, c2).fma(f, c3).fma(f, c4).fma(f, c5);
      a = a.fma(f, one);
      IntVector e = INTS.cast(shifted.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23);
      a = FLOATS.cast(INTS.cast(a.reinterpretAsInts()).add(e).max(0).reinterpretAsFloats());
      a.intoArray(alpha, r);
      FloatVector l = FloatVector.fromArray(SPECIES, rowSum, r);
      l.fma(a, FloatVector.fromArray(SPECIES, tileSum, r)).intoArray(rowSum, r);
    }
  }

  /**
   * max(x, −150) for x ≤ 0 is one unsigned min on the bits: the bits of a float ≤ 0 grow, as
   * unsigned ints, with its magnitude (+0 is 0, −0 is 2^31, −∞ is 0xFF800000), so the unsigned min
   * with the bits of −150 clamps. {@code FloatVector.max} costs five instructions on AVX2 (vmaxps
   * alone cannot give Java's NaN and −0 semantics). A NaN comes out as some other value: {@link
   * OnlineSoftmax#lse} makes a row whose max is NaN a NaN row instead. Written out at each use: a
   * vector passed to a call the JIT does not inline is boxed on the heap.
   */
  static final int FLOOR_BITS = Float.floatToRawIntBits(Simd.EXP2_FLOOR);

  // ---------------------------------------------------------------- FlashBackward

  /**
   * {@link FlashBackward}'s pt = e^(st − LSE) and dst = pt · (z·dst − D) · (1 − (st/c)²), 0 where
   * pt is 0 (then pt ← z·pt with dropout), for key column {@code at} and the rows of whole vectors
   * below {@code rowsPad}.
   *
   * @return the first row left to the scalar loop
   */
  static int probabilitiesAndDs(
      float[] st,
      float[] pt,
      float[] ds,
      float[] lseRow,
      float[] dRow,
      float[] zt,
      float[] capped,
      int at,
      int rowsPad,
      boolean dropout,
      float cap,
      float inv) {
    int r = 0;
    for (; r + LANES <= rowsPad; r += LANES) {
      FloatVector sv = FloatVector.fromArray(SPECIES, st, at + r);
      // p = 2^{(s − LSE)·log2 e}, Simd.exp2 written out as in tanhTimes: a vector passed to a
      // call the JIT does not inline is boxed (same operations, same bits; A/B 1.00–1.02×)
      FloatVector y =
          sv.sub(FloatVector.fromArray(SPECIES, lseRow, r))
              .mul(Softmax.LOG2E)
              .max(Simd.EXP2_FLOOR)
              .min(Simd.EXP2_MAX);
      FloatVector shifted = y.add(Simd.ROUND);
      FloatVector f = y.sub(shifted.sub(Simd.ROUND));
      FloatVector p = f.fma(Simd.P0, Simd.P1);
      p = p.fma(f, FloatVector.broadcast(SPECIES, Simd.P2));
      p = p.fma(f, FloatVector.broadcast(SPECIES, Simd.P3));
      p = p.fma(f, FloatVector.broadcast(SPECIES, Simd.P4));
      p = p.fma(f, FloatVector.broadcast(SPECIES, Simd.P5));
      p = p.fma(f, FloatVector.broadcast(SPECIES, 1f));
      IntVector e = INTS.cast(shifted.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23);
      p = FLOATS.cast(INTS.cast(p.reinterpretAsInts()).add(e).max(0).reinterpretAsFloats());
      // a key the row cannot see (−∞) has P = 0 even when the row's LSE is NaN
      p = p.blend(0f, sv.compare(VectorOperators.EQ, Float.NEGATIVE_INFINITY));
      FloatVector dp = FloatVector.fromArray(SPECIES, ds, at + r);
      if (dropout) {
        FloatVector z = FloatVector.fromArray(SPECIES, zt, at + r);
        dp = dp.mul(z);
        p.mul(z).intoArray(pt, at + r);
      } else {
        p.intoArray(pt, at + r);
      }
      FloatVector g = dp.sub(FloatVector.fromArray(SPECIES, dRow, r)).mul(p);
      if (cap > 0) {
        FloatVector t = FloatVector.fromArray(SPECIES, capped, at + r).mul(inv);
        g = g.mul(FloatVector.broadcast(SPECIES, 1f).sub(t.mul(t)));
      }
      VectorMask<Float> zero = p.eq(0f);
      g.blend(0f, zero).intoArray(ds, at + r);
    }
    return r;
  }
}
