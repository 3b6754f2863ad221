package dev.flashattn4j.kernel.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The score kernels against a double-precision dot product, and against each other. */
class DecodeDotsTest {

  /** Rounding error bound of a float dot product of length d: γ_d · Σ|q_i k_i|. */
  private static double bound(float[] q, int qo, float[] k, int ko, int d) {
    double u = Math.ulp(1f) / 2;
    double sum = 0;
    for (int c = 0; c < d; c++) {
      sum += Math.abs((double) q[qo + c] * k[ko + c]);
    }
    return d * u / (1 - d * u) * sum;
  }

  @Test
  void scoresMatchTheExactDotWithinTheRoundingBoundAndPairsMatchSingles() {
    SplittableRandom rnd = new SplittableRandom(3);
    int checked = 0;
    for (int d : new int[] {1, 3, 16, 17, 59, 128, 130}) {
      for (int n = 0; n <= 9; n++) {
        float[] q = new float[2 * d + 5];
        float[] page = new float[(n + 2) * d];
        for (int i = 0; i < q.length; i++) {
          q[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        for (int i = 0; i < page.length; i++) {
          page[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        int[] offsets = new int[n];
        for (int j = 0; j < n; j++) {
          offsets[j] = (n - j) * d; // any order: rows need not be in place
        }
        int qo0 = 5;
        int qo1 = 5 + d;
        for (boolean simd : new boolean[] {true, false}) {
          float[] single0 = new float[n];
          float[] single1 = new float[n];
          float[] pair0 = new float[n];
          float[] pair1 = new float[n];
          DecodeDots.scores(simd, q, qo0, page, offsets, 0, n, d, single0);
          DecodeDots.scores(simd, q, qo1, page, offsets, 0, n, d, single1);
          DecodeDots.scores2(simd, q, qo0, qo1, page, offsets, 0, n, d, pair0, pair1);
          for (int j = 0; j < n; j++) {
            assertEquals(single0[j], pair0[j], "d " + d + " n " + n + " j " + j + " simd " + simd);
            assertEquals(single1[j], pair1[j]);
            double exact = 0;
            for (int c = 0; c < d; c++) {
              exact += (double) q[qo0 + c] * page[offsets[j] + c];
            }
            double err = Math.abs(single0[j] - exact);
            assertTrue(
                err <= bound(q, qo0, page, offsets[j], d), "d " + d + " j " + j + ": error " + err);
            checked++;
          }
        }
      }
    }
    assertEquals(2 * 7 * 45, checked);
  }

  @Test
  void quadsMatchSinglesBitForBit() {
    assumeTrue(DecodeDots.scores4Applies(true, 16), "scores4 needs 8- or 16-lane vectors");
    SplittableRandom rnd = new SplittableRandom(11);
    int checked = 0;
    for (int d : new int[] {16, 48, 128}) {
      for (int n = 0; n <= 11; n++) {
        float[] q = new float[4 * d + 3];
        float[] page = new float[(n + 1) * d];
        for (int i = 0; i < q.length; i++) {
          q[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        for (int i = 0; i < page.length; i++) {
          page[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        int[] offsets = new int[n + 1];
        for (int j = 0; j <= n; j++) {
          offsets[j] = (n - j) * d;
        }
        float[][] quad = new float[4][n + 1];
        DecodeDots.scores4(
            q, 3, page, offsets, 1, n + 1, d, quad[0], quad[1], quad[2], quad[3], new float[16]);
        for (int r = 0; r < 4; r++) {
          float[] single = new float[n + 1];
          DecodeDots.scores(true, q, 3 + r * d, page, offsets, 1, n + 1, d, single);
          assertEquals(0f, quad[r][0], "key 0 is outside the range");
          for (int j = 1; j <= n; j++) {
            assertEquals(single[j], quad[r][j], "d " + d + " n " + n + " row " + r + " key " + j);
            checked++;
          }
        }
      }
    }
    assertEquals(3 * 4 * 66, checked);
  }

  @Test
  void scoresFillOnlyTheAskedRange() {
    float[] q = {1, 2};
    float[] page = {1, 1, 2, 2, 3, 3};
    int[] offsets = {0, 2, 4};
    float[] s = {-7, -7, -7};
    DecodeDots.scores(true, q, 0, page, offsets, 1, 2, 2, s);
    assertEquals(-7, s[0]);
    assertEquals(6, s[1]);
    assertEquals(-7, s[2]);
  }
}
