package dev.flashattn4j.kernel;

import static dev.flashattn4j.kernel.Simd.SPECIES;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/** Manual probe: cost of each step of exp2 (not a test). */
public final class ExpProbe3 {
  static final int N = 4096;
  static float[] x = new float[N], y = new float[N];

  static float va() {
    FloatVector sum = FloatVector.zero(SPECIES);
    for (int i = 0; i < N; i += 16) {
      FloatVector p = FloatVector.fromArray(SPECIES, x, i).sub(1f);
      p.intoArray(y, i);
      sum = sum.add(p);
    }
    return sum.lane(0);
  }

  static float vb() {
    FloatVector sum = FloatVector.zero(SPECIES);
    for (int i = 0; i < N; i += 16) {
      FloatVector xx = FloatVector.fromArray(SPECIES, x, i).sub(1f).max(-150f);
      FloatVector sh = xx.add(12582912f);
      FloatVector f = xx.sub(sh.sub(12582912f));
      f.intoArray(y, i);
      sum = sum.add(f);
    }
    return sum.lane(0);
  }

  static float vc() {
    FloatVector sum = FloatVector.zero(SPECIES);
    FloatVector c2 = FloatVector.broadcast(SPECIES, Simd.P2),
        c3 = FloatVector.broadcast(SPECIES, Simd.P3),
        c4 = FloatVector.broadcast(SPECIES, Simd.P4),
        c5 = FloatVector.broadcast(SPECIES, Simd.P5),
        one = FloatVector.broadcast(SPECIES, 1f);
    for (int i = 0; i < N; i += 16) {
      FloatVector xx = FloatVector.fromArray(SPECIES, x, i).sub(1f).max(-150f);
      FloatVector sh = xx.add(12582912f);
      FloatVector f = xx.sub(sh.sub(12582912f));
      FloatVector p = f.fma(Simd.P0, Simd.P1);
      p = p.fma(f, c2).fma(f, c3).fma(f, c4).fma(f, c5).fma(f, one);
      p.intoArray(y, i);
      sum = sum.add(p);
    }
    return sum.lane(0);
  }

  static float vd() {
    FloatVector sum = FloatVector.zero(SPECIES);
    FloatVector c2 = FloatVector.broadcast(SPECIES, Simd.P2),
        c3 = FloatVector.broadcast(SPECIES, Simd.P3),
        c4 = FloatVector.broadcast(SPECIES, Simd.P4),
        c5 = FloatVector.broadcast(SPECIES, Simd.P5),
        one = FloatVector.broadcast(SPECIES, 1f);
    for (int i = 0; i < N; i += 16) {
      FloatVector xx = FloatVector.fromArray(SPECIES, x, i).sub(1f).max(-150f);
      FloatVector sh = xx.add(12582912f);
      FloatVector f = xx.sub(sh.sub(12582912f));
      FloatVector p = f.fma(Simd.P0, Simd.P1);
      p = p.fma(f, c2).fma(f, c3).fma(f, c4).fma(f, c5).fma(f, one);
      IntVector bits =
          p.reinterpretAsInts().add(sh.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23));
      p = bits.reinterpretAsFloats();
      p.intoArray(y, i);
      sum = sum.add(p);
    }
    return sum.lane(0);
  }

  static float ve() {
    FloatVector sum = FloatVector.zero(SPECIES);
    FloatVector c2 = FloatVector.broadcast(SPECIES, Simd.P2),
        c3 = FloatVector.broadcast(SPECIES, Simd.P3),
        c4 = FloatVector.broadcast(SPECIES, Simd.P4),
        c5 = FloatVector.broadcast(SPECIES, Simd.P5),
        one = FloatVector.broadcast(SPECIES, 1f);
    for (int i = 0; i < N; i += 16) {
      FloatVector xx = FloatVector.fromArray(SPECIES, x, i).sub(1f).max(-150f);
      FloatVector sh = xx.add(12582912f);
      FloatVector f = xx.sub(sh.sub(12582912f));
      FloatVector p = f.fma(Simd.P0, Simd.P1);
      p = p.fma(f, c2).fma(f, c3).fma(f, c4).fma(f, c5).fma(f, one);
      IntVector bits =
          p.reinterpretAsInts().add(sh.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23));
      p = bits.sub(Simd.ROUND_SHIFTED).max(0).reinterpretAsFloats();
      p.intoArray(y, i);
      sum = sum.add(p);
    }
    return sum.lane(0);
  }

  public static void main(String[] args) {
    for (int i = 0; i < N; i++) x[i] = -20f * i / N;
    double[] best = {1e9, 1e9, 1e9, 1e9, 1e9};
    float sink = 0;
    for (int rep = 0; rep < 400; rep++) {
      for (int v = 0; v < 5; v++) {
        long t0 = System.nanoTime();
        for (int it = 0; it < 20; it++)
          sink +=
              switch (v) {
                case 0 -> va();
                case 1 -> vb();
                case 2 -> vc();
                case 3 -> vd();
                default -> ve();
              };
        best[v] = Math.min(best[v], (System.nanoTime() - t0) / (20.0 * N / 16));
      }
    }
    System.out.printf(
        "ns per vector: load-sub-store-sum %.2f, +round %.2f, +poly %.2f, +exponent %.2f, +underflow %.2f (%s)%n",
        best[0], best[1], best[2], best[3], best[4], sink);
  }
}
