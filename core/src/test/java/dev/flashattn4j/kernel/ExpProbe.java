package dev.flashattn4j.kernel;

import static dev.flashattn4j.kernel.Simd.SPECIES;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** Manual probe: polynomial exp2 against the Vector API's EXP, best of many runs (not a test). */
public final class ExpProbe {
  public static void main(String[] args) {
    int n = 8192;
    float[] x = new float[n];
    float[] y = new float[n];
    for (int i = 0; i < n; i++) x[i] = -20f * i / n;
    int br = 128, bc = 64;
    float[] s = new float[br * bc];
    OnlineSoftmax sm = new OnlineSoftmax(br);
    double bestPoly = 1e9, bestExp = 1e9, bestSm = 1e9;
    for (int rep = 0; rep < 200; rep++) {
      long t0 = System.nanoTime();
      for (int it = 0; it < 50; it++)
        for (int i = 0; i < n; i += SPECIES.length())
          Simd.exp2(FloatVector.fromArray(SPECIES, x, i)).intoArray(y, i);
      long t1 = System.nanoTime();
      for (int it = 0; it < 50; it++)
        for (int i = 0; i < n; i += SPECIES.length())
          FloatVector.fromArray(SPECIES, x, i)
              .mul(0.6931472f)
              .lanewise(VectorOperators.EXP)
              .intoArray(y, i);
      long t2 = System.nanoTime();
      for (int it = 0; it < 50; it++) {
        sm.reset(br);
        for (int i = 0; i < s.length; i++) s[i] = x[i];
        sm.update(s, br, br, bc);
      }
      long t3 = System.nanoTime();
      bestPoly = Math.min(bestPoly, (t1 - t0) / (50.0 * n));
      bestExp = Math.min(bestExp, (t2 - t1) / (50.0 * n));
      bestSm = Math.min(bestSm, (t3 - t2) / (50.0 * br * bc));
    }
    double maxRel = 0;
    for (int i = 0; i < n; i++) {
      double e = Math.pow(2, x[i]);
      maxRel = Math.max(maxRel, Math.abs(Simd.exp2(x[i]) - e) / e);
      Simd.exp2(FloatVector.fromArray(SPECIES, x, i / 16 * 16)).intoArray(y, i / 16 * 16);
    }
    System.out.printf(
        "poly exp2 %.3f ns/elt, Vector EXP %.3f ns/elt, softmax update(+copy) %.3f ns/score, poly max rel err %.2e%n",
        bestPoly, bestExp, bestSm, maxRel);
  }
}
