package dev.flashattn4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The Q8_0 quantiser against its definition in float64 (d = max|x| / 127, q = round(x / d), halves
 * away from zero), a hand-computed block, and the error bound of the dequantised weights.
 */
class Q8RowsTest {

  @Test
  void aHandComputedBlock() {
    // amax = 127: d = 1, q = x rounded half away from zero; the second block is all zeros (d = 0)
    float[] w = new float[64];
    float[] firsts = {0f, 1f, -1f, 0.5f, -0.5f, 1.5f, -2.5f, 63.5f, -127f, 127f, 0.49f, -0.51f};
    int[] want = {0, 1, -1, 1, -1, 2, -3, 64, -127, 127, 0, -1};
    System.arraycopy(firsts, 0, w, 0, firsts.length);
    Q8Rows q = Q8Rows.quantize(w, 1, 64);
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], q.q()[i], "x = " + firsts[i]);
    }
    assertEquals(1f, Float.float16ToFloat(q.d()[0]));
    assertEquals(0f, Float.float16ToFloat(q.d()[1]));
    for (int i = 32; i < 64; i++) {
      assertEquals(0, q.q()[i]);
    }
  }

  /**
   * Seeded matrices of odd shapes (K = 1, 31, 33, 112: short last blocks) against float64: q equals
   * round(x / d) except where x / d lies within 1e-5 of a half (float32's x · (1/d) may tip it),
   * and the dequantised weight q·d is within half a step (plus float16's rounding of d) of x.
   */
  @ParameterizedTest
  @CsvSource({"1, 1, 1", "3, 31, 2", "5, 33, 3", "7, 112, 4", "16, 64, 5", "2, 200, 6"})
  void quantiserAgainstTheFloat64Definition(int outputs, int inputs, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] w = new float[outputs * inputs];
    for (int i = 0; i < w.length; i++) {
      // magnitudes from 1e-2 to 10: every d a normal float16
      w[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(-2, 2)));
    }
    Q8Rows q = Q8Rows.quantize(w, outputs, inputs);
    int blocks = q.blocks();
    int same = 0;
    int nearHalf = 0;
    for (int o = 0; o < outputs; o++) {
      for (int b = 0; b < blocks; b++) {
        int from = b * Q8Rows.BLOCK;
        int to = Math.min(inputs, from + Q8Rows.BLOCK);
        double amax = 0;
        for (int k = from; k < to; k++) {
          amax = Math.max(amax, Math.abs((double) w[o * inputs + k]));
        }
        double d = amax / 127;
        float d16 = Float.float16ToFloat(q.d()[o * blocks + b]);
        assertTrue(Math.abs(d16 - d) <= 0x1p-11 * d, "d " + d16 + " vs " + d);
        for (int k = from; k < to; k++) {
          double x = w[o * inputs + k];
          double ratio = x / d;
          long want = (long) Math.signum(ratio) * (long) Math.floor(Math.abs(ratio) + 0.5);
          int got = q.q()[o * inputs + k];
          double frac = Math.abs(ratio) - Math.floor(Math.abs(ratio));
          if (Math.abs(frac - 0.5) < 1e-5) {
            nearHalf++;
            assertTrue(Math.abs(got - ratio) <= 0.5 + 1e-5);
          } else {
            assertEquals(want, got, "x = " + x + ", d = " + d);
            same++;
          }
          double err = Math.abs(x - (double) got * d16);
          assertTrue(err <= 0.5 * d * (1 + 1e-5) + 127 * Math.abs(d16 - d), "error " + err);
          assertEquals(got * d16, q.get(o, k));
        }
      }
    }
    assertTrue(same >= outputs * inputs - nearHalf);
    assertTrue(nearHalf <= 1 + outputs * inputs / 1000, nearHalf + " near a half");
  }

  @Test
  void dequantisedWeightsAreExactAndRowsPermute() {
    SplittableRandom r = new SplittableRandom(11);
    float[] w = new float[4 * 40];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) r.nextGaussian();
    }
    Q8Rows q = Q8Rows.quantize(w, 4, 40);
    float[] dq = q.dequantize();
    for (int o = 0; o < 4; o++) {
      for (int k = 0; k < 40; k++) {
        // q·d in float32 equals it in float64: float32 holds the product exactly
        double exact = (double) q.q()[o * 40 + k] * Float.float16ToFloat(q.d()[o * 2 + k / 32]);
        assertEquals(exact, dq[o * 40 + k]);
      }
    }
    Q8Rows p = q.permuteRows(new int[] {2, 0, 3, 1});
    float[] pd = p.dequantize();
    assertArrayEquals(
        java.util.Arrays.copyOfRange(dq, 2 * 40, 3 * 40), java.util.Arrays.copyOfRange(pd, 0, 40));
    // quantising permuted rows gives the permuted quantisation (blocks lie within a row)
    float[] wp = new float[w.length];
    int[] from = {2, 0, 3, 1};
    for (int o = 0; o < 4; o++) {
      System.arraycopy(w, from[o] * 40, wp, o * 40, 40);
    }
    Q8Rows qp = Q8Rows.quantize(wp, 4, 40);
    assertArrayEquals(p.q(), qp.q());
    assertArrayEquals(p.d(), qp.d());
  }
}
