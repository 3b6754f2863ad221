package dev.flashattn4j.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.config.MicroKernel;
import dev.flashattn4j.internal.Simd;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/** The SIMD helpers against plain Java, and their scalar twins against the vector paths. */
class SimdTest {

  @Test
  void exp2IsAccurateToTwoUlpOverTheSoftmaxRange() {
    double worst = 0;
    for (int i = 0; i <= 200_000; i++) {
      float x = -126f + 126f * i / 200_000;
      double e = Math.pow(2, x);
      worst = Math.max(worst, Math.abs(Simd.exp2(x) - e) / e);
    }
    assertTrue(worst < 2.5e-7, "max relative error " + worst);
    assertEquals(1f, Simd.exp2(0f));
    assertEquals(0.5f, Simd.exp2(-1f));
  }

  @Test
  void exp2FlushesFarNegativeAndMinusInfinityToExactZero() {
    assertEquals(0f, Simd.exp2(Float.NEGATIVE_INFINITY));
    assertEquals(0f, Simd.exp2(-127.5f));
    assertEquals(0f, Simd.exp2(-1000f));
    assertEquals(Math.pow(2, 20), Simd.exp2(20f), 1e-6 * Math.pow(2, 20));
  }

  @Test
  void vectorExp2MatchesItsScalarTwinLaneByLane() {
    if (!Simd.ENABLED) {
      return; // the vector path does not exist with flashattn.vector.bits=0
    }
    SplittableRandom rnd = new SplittableRandom(5);
    float[] x = new float[Simd.LANES * 64];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (rnd.nextDouble() * -140);
    }
    x[0] = Float.NEGATIVE_INFINITY;
    float[] y = new float[x.length];
    for (int i = 0; i < x.length; i += Simd.LANES) {
      Simd.exp2(FloatVector.fromArray(Simd.SPECIES, x, i)).intoArray(y, i);
    }
    for (int i = 0; i < x.length; i++) {
      assertEquals(Simd.exp2(x[i]), y[i], Math.ulp(y[i]), "x = " + x[i]);
    }
  }

  @Test
  void dotAndAxpyAgreeWithPlainLoops() {
    SplittableRandom rnd = new SplittableRandom(6);
    for (int n : new int[] {0, 1, 7, 16, 17, 100}) {
      float[] a = new float[n + 3];
      float[] b = new float[n + 5];
      for (int i = 0; i < a.length; i++) {
        a[i] = (float) rnd.nextGaussian();
      }
      for (int i = 0; i < b.length; i++) {
        b[i] = (float) rnd.nextGaussian();
      }
      double exact = 0;
      double mag = 0;
      for (int i = 0; i < n; i++) {
        exact += (double) a[i + 3] * b[i + 5];
        mag += Math.abs((double) a[i + 3] * b[i + 5]);
      }
      double tol = 1e-6 * (mag + 1);
      assertEquals(exact, Simd.dot(a, 3, b, 5, n), tol);
      assertEquals(exact, Simd.dotScalar(a, 3, b, 5, n), tol);
      float[] y = b.clone();
      Simd.axpy(0.5f, a, 3, y, 5, n);
      for (int i = 0; i < b.length; i++) {
        float expect = i >= 5 && i - 5 < n ? b[i] + 0.5f * a[i - 2] : b[i];
        assertEquals(expect, y[i], 1e-6f);
      }
    }
  }

  @Test
  void theWidthPropertyIsHonoured() {
    String p = System.getProperty(Simd.PROPERTY);
    if (p == null) {
      assertEquals(FloatVector.SPECIES_PREFERRED.vectorBitSize(), Simd.bits());
    } else if (Integer.parseInt(p) == 0) {
      assertEquals(0, Simd.bits());
      assertEquals(1, Simd.LANES);
    } else {
      assertEquals(
          Math.min(Integer.parseInt(p), FloatVector.SPECIES_PREFERRED.vectorBitSize()),
          Simd.bits());
    }
  }

  @Test
  void everyMicroKernelGivesTheScalarTwinsBits() {
    if (!Simd.ENABLED) {
      return;
    }
    SplittableRandom rnd = new SplittableRandom(7);
    int checked = 0;
    // 1 to 9 vectors of rows: whole blocks of every shape and row tails of 1 to 3 vectors;
    // 1 to 14 values of b: whole blocks and x tails of every size
    for (int vectors = 1; vectors <= 9; vectors++) {
      int ld = vectors * Simd.LANES;
      for (int nx = 1; nx <= 14; nx++) {
        int nt = 1 + rnd.nextInt(19);
        int bStride = nt + 3; // a row of b longer than the reduction: offsets matter
        float[] a = gaussian(rnd, nt * ld);
        float[] alpha = gaussian(rnd, ld);
        float[] old = gaussian(rnd, nx * ld);
        // Sᵀ = K Qᵀ: b = K (nx rows of stride bStride), no α
        float[] k = gaussian(rnd, 2 + nx * bStride);
        float[] want = old.clone();
        PanelKernel.scalar(a, ld, ld, k, 2, bStride, 1, nx, nt, want, null);
        // Oᵀ = α·Oᵀ + Vᵀ Pᵀ: b = V (nt rows of stride bStride, nx values each)
        float[] v = gaussian(rnd, 2 + nt * bStride + nx);
        float[] wantAcc = old.clone();
        PanelKernel.scalar(a, ld, ld, v, 2, 1, bStride, nx, nt, wantAcc, alpha);
        // dK += dSᵀ Q: the scores' indexing into an accumulator at an offset, α on the old values
        int off = 5;
        float[] wide = gaussian(rnd, off + nx * ld + 3);
        float[] wantAdd = wide.clone();
        PanelKernel.scalar(a, ld, ld, k, 2, bStride, 1, nx, nt, wantAdd, off, alpha);
        for (MicroKernel shape : MicroKernel.values()) {
          String what = shape.label() + ", " + vectors + " vectors, nx " + nx + ", nt " + nt;
          float[] got = old.clone();
          PanelKernel.scores(shape, a, ld, ld, k, 2, bStride, nx, nt, got);
          assertArrayEquals(want, got, "scores " + what);
          got = old.clone();
          PanelKernel.accumulate(shape, a, ld, ld, v, 2, bStride, nx, nt, got, alpha);
          assertArrayEquals(wantAcc, got, "accumulate " + what);
          got = wide.clone();
          PanelKernel.scores(shape, a, ld, ld, k, 2, bStride, nx, nt, got, off, alpha);
          assertArrayEquals(wantAdd, got, "scores into an offset " + what);
          checked++;
        }
      }
    }
    assertEquals(9 * 14 * MicroKernel.values().length, checked);
  }

  private static float[] gaussian(SplittableRandom rnd, int n) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    return x;
  }
}
