package dev.flashattn4j.kernel;

import static dev.flashattn4j.kernel.Simd.SPECIES;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/** Manual probe of exp2 variants (not a test). */
public final class ExpProbe2 {
  static final FloatVector C0 = FloatVector.broadcast(SPECIES, 1.535336188319500e-4f);

  static FloatVector v1(FloatVector x) {
    FloatVector xc = x.max(-150f);
    FloatVector shifted = xc.add(12582912f);
    FloatVector n = shifted.sub(12582912f);
    FloatVector f = xc.sub(n);
    FloatVector p = f.fma(1.535336188319500e-4f, 1.339887440266574e-3f);
    p = p.fma(f, FloatVector.broadcast(SPECIES, 9.618437357674640e-3f));
    p = p.fma(f, FloatVector.broadcast(SPECIES, 5.550332471162809e-2f));
    p = p.fma(f, FloatVector.broadcast(SPECIES, 2.402264791363012e-1f));
    p = p.fma(f, FloatVector.broadcast(SPECIES, 6.931472028550421e-1f));
    p = p.fma(f, FloatVector.broadcast(SPECIES, 1f));
    IntVector e = shifted.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23);
    IntVector bits = p.reinterpretAsInts().add(e).sub(Float.floatToRawIntBits(12582912f) << 23);
    return bits.max(0).reinterpretAsFloats();
  }

  static FloatVector v2(FloatVector x) {
    FloatVector xc = x.max(-150f);
    FloatVector shifted = xc.add(12582912f);
    FloatVector n = shifted.sub(12582912f);
    FloatVector f = xc.sub(n);
    FloatVector p = f.mul(1.535336188319500e-4f).add(1.339887440266574e-3f);
    p = p.mul(f).add(9.618437357674640e-3f);
    p = p.mul(f).add(5.550332471162809e-2f);
    p = p.mul(f).add(2.402264791363012e-1f);
    p = p.mul(f).add(6.931472028550421e-1f);
    p = p.mul(f).add(1f);
    IntVector e = shifted.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23);
    IntVector bits = p.reinterpretAsInts().add(e).sub(Float.floatToRawIntBits(12582912f) << 23);
    return bits.max(0).reinterpretAsFloats();
  }

  public static void main(String[] args) {
    int n = 8192;
    float[] x = new float[n];
    float[] y = new float[n];
    for (int i = 0; i < n; i++) x[i] = -20f * i / n;
    double b0 = 1e9, b1 = 1e9, b2 = 1e9, b3 = 1e9;
    for (int rep = 0; rep < 300; rep++) {
      long t0 = System.nanoTime();
      for (int it = 0; it < 50; it++)
        for (int i = 0; i < n; i += SPECIES.length())
          Simd.exp2(FloatVector.fromArray(SPECIES, x, i)).intoArray(y, i);
      long t1 = System.nanoTime();
      for (int it = 0; it < 50; it++)
        for (int i = 0; i < n; i += SPECIES.length())
          v1(FloatVector.fromArray(SPECIES, x, i)).intoArray(y, i);
      long t2 = System.nanoTime();
      for (int it = 0; it < 50; it++)
        for (int i = 0; i < n; i += SPECIES.length())
          v2(FloatVector.fromArray(SPECIES, x, i)).intoArray(y, i);
      long t3 = System.nanoTime();
      for (int it = 0; it < 50; it++)
        for (int i = 0; i < n; i += SPECIES.length())
          FloatVector.fromArray(SPECIES, x, i).mul(1.0001f).add(0.5f).intoArray(y, i);
      long t4 = System.nanoTime();
      b0 = Math.min(b0, (t1 - t0) / (50.0 * n));
      b1 = Math.min(b1, (t2 - t1) / (50.0 * n));
      b2 = Math.min(b2, (t3 - t2) / (50.0 * n));
      b3 = Math.min(b3, (t4 - t3) / (50.0 * n));
    }
    double maxRel = 0;
    for (int i = 0; i < n; i += 16) {
      v1(FloatVector.fromArray(SPECIES, x, i)).intoArray(y, i);
      for (int l = 0; l < 16; l++) {
        double e = Math.pow(2, x[i + l]);
        maxRel = Math.max(maxRel, Math.abs(y[i + l] - e) / e);
      }
    }
    float[] t = {
      Float.NEGATIVE_INFINITY,
      -200f,
      -127.5f,
      -126.2f,
      -125f,
      0f,
      -0.5f,
      -1f,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0
    };
    v1(FloatVector.fromArray(SPECIES, t, 0)).intoArray(y, 0);
    System.out.printf(
        "current %.3f, intmax %.3f, mul/add %.3f, trivial %.3f ns/elt; v1 rel err %.2e; v1(-inf,-200,-127.5,-126.2,-125)= %g %g %g %g %g%n",
        b0, b1, b2, b3, maxRel, y[0], y[1], y[2], y[3], y[4]);
  }
}
