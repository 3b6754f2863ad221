package dev.flashattn4j.kernel.decode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flashattn4j.internal.Simd;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The softmax loops give the forward kernel's exp2 bits, SIMD or scalar. */
class DecodeSimdTest {

  @Test
  void expShiftSumGivesSimdExp2Bits() {
    SplittableRandom rnd = new SplittableRandom(9);
    float[] x = new float[203];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (rnd.nextDouble() * 200 - 200); // down to −200: underflow to 0 as well
    }
    x[5] = Float.NEGATIVE_INFINITY;
    x[77] = 0.5f;
    float m = 0.5f;
    for (boolean simd : new boolean[] {true, false}) {
      float[] s = x.clone();
      float sum = DecodeSimd.expShiftSum(simd, s, 3, 200, m);
      double expected = 0;
      for (int j = 0; j < x.length; j++) {
        if (j < 3 || j >= 200) {
          assertEquals(x[j], s[j]); // outside the range: untouched
          continue;
        }
        float p = Simd.exp2((x[j] - m) * (float) (1 / Math.log(2)));
        assertEquals(Float.floatToRawIntBits(p), Float.floatToRawIntBits(s[j]), "x = " + x[j]);
        expected += p;
      }
      assertEquals(expected, sum, 1e-6 * expected); // summed in float, in another order
      assertEquals(0f, s[5]);
      assertEquals(1f, s[77]);
    }
  }

  @Test
  void scaleMaxScalesAndFindsTheMaximum() {
    float[] s = {9, 1, -2, 8, 3, 0.5f, 7, -1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 6, 9};
    for (boolean simd : new boolean[] {true, false}) {
      float[] t = s.clone();
      assertEquals(16f, DecodeSimd.scaleMax(simd, t, 1, 18, 2f));
      assertEquals(9f, t[0]);
      assertEquals(-4f, t[2]);
      assertEquals(9f, t[18]);
    }
  }

  @Test
  void twoAndFourRowAccumulatesGiveOneRowsBits() {
    SplittableRandom rnd = new SplittableRandom(5);
    int checked = 0;
    for (int dv : new int[] {1, 7, 8, 16, 24, 59, 64, 128, 136}) {
      int keys = 37;
      float[] page = new float[keys * dv + 5];
      for (int i = 0; i < page.length; i++) {
        page[i] = (float) rnd.nextGaussian();
      }
      int[] offsets = new int[keys];
      for (int j = 0; j < keys; j++) {
        offsets[j] = 5 + (keys - 1 - j) * dv;
      }
      float[][] p = new float[4][keys];
      for (float[] pr : p) {
        for (int j = 0; j < keys; j++) {
          pr[j] = (float) rnd.nextDouble();
        }
      }
      float[] start = new float[4 * dv];
      for (int i = 0; i < start.length; i++) {
        start[i] = (float) rnd.nextGaussian();
      }
      for (boolean simd : new boolean[] {true, false}) {
        float[] one = start.clone();
        for (int r = 0; r < 4; r++) {
          DecodeSimd.accumulate(simd, one, r * dv, p[r], 3, keys, page, offsets, dv);
        }
        float[] two = start.clone();
        DecodeSimd.accumulate2(simd, two, 0, dv, p[0], p[1], 3, keys, page, offsets, dv);
        DecodeSimd.accumulate2(simd, two, 2 * dv, 3 * dv, p[2], p[3], 3, keys, page, offsets, dv);
        float[] four = start.clone();
        DecodeSimd.accumulate4(simd, four, 0, dv, p[0], p[1], p[2], p[3], 3, keys, page, offsets);
        assertArrayEquals(one, two, "pairs, dv " + dv);
        assertArrayEquals(one, four, "quads, dv " + dv);
        checked++;
      }
    }
    assertEquals(18, checked);
  }
}
