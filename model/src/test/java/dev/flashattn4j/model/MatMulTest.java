package dev.flashattn4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The matmul against its definition: every element is the fma chain over k in order (computed here
 * one element at a time), so the kernels' result must equal it bit for bit, whatever the shape, the
 * panel edges, the rows per call or the threads; and it must be close to the product in double.
 */
class MatMulTest {

  /** y[t][o] = fma chain over k ascending, + bias: the definition the kernels keep. */
  private static float[] chain(float[] x, int rows, float[] w, int out, int in, float[] bias) {
    float[] y = new float[rows * out];
    for (int t = 0; t < rows; t++) {
      for (int o = 0; o < out; o++) {
        float s = 0f;
        for (int k = 0; k < in; k++) {
          s = Math.fma(w[o * in + k], x[t * in + k], s);
        }
        y[t * out + o] = bias == null ? s : s + bias[o];
      }
    }
    return y;
  }

  private static float[] random(SplittableRandom r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) r.nextGaussian();
    }
    return a;
  }

  @Test
  void everyShapeGivesTheFmaChainBitForBit() {
    SplittableRandom r = new SplittableRandom(7);
    // 70 rows: blocks of 6, then 4; 29: 6 · 4 + 4 + 1 in a chunk of 72
    int[][] shapes = {
      {1, 1, 1}, {1, 7, 3}, {5, 97, 59}, {9, 16, 33}, {70, 37, 64}, {3, 130, 111}, {29, 50, 40}
    };
    int checked = 0;
    for (int threads : new int[] {1, 2, 3}) {
      try (Workers workers = new Workers(threads)) {
        for (int[] s : shapes) {
          int rows = s[0];
          int out = s[1];
          int in = s[2];
          float[] x = random(r, rows * in);
          float[] w = random(r, out * in);
          float[] bias = r.nextBoolean() ? random(r, out) : null;
          float[] want = chain(x, rows, w, out, in, bias);
          float[] y = new float[rows * out];
          MatMul.multiply(workers, x, rows, PackedMatrix.of(w, out, in), bias, y);
          for (int i = 0; i < y.length; i++) {
            assertEquals(
                Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(y[i]), "elem " + i);
          }
          // close to the exact product
          for (int t = 0; t < rows; t++) {
            for (int o = 0; o < out; o++) {
              double exact = bias == null ? 0 : bias[o];
              double mag = Math.abs(exact);
              for (int k = 0; k < in; k++) {
                exact += (double) w[o * in + k] * x[t * in + k];
                mag += Math.abs((double) w[o * in + k] * x[t * in + k]);
              }
              assertTrue(Math.abs(exact - y[t * out + o]) <= 1e-6 * mag * in + 1e-30);
            }
          }
          checked++;
        }
      }
    }
    assertEquals(21, checked);
  }

  @Test
  void bfloat16WeightsAreWidenedExactly() {
    SplittableRandom r = new SplittableRandom(8);
    try (Workers workers = new Workers(2)) {
      for (int[] s : new int[][] {{1, 40, 24}, {6, 33, 17}, {4, 64, 64}, {30, 35, 20}}) {
        float[] x = random(r, s[0] * s[2]);
        float[] w = random(r, s[1] * s[2]);
        short[] bits = ModelWeights.toBf16(w);
        float[] widened = new float[w.length];
        for (int i = 0; i < w.length; i++) {
          widened[i] = Float.intBitsToFloat(bits[i] << 16);
        }
        float[] want = chain(x, s[0], widened, s[1], s[2], null);
        float[] y = new float[s[0] * s[1]];
        MatMul.multiply(workers, x, s[0], PackedMatrix.ofBf16(bits, s[1], s[2]), null, y);
        for (int i = 0; i < y.length; i++) {
          assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(y[i]));
        }
      }
    }
  }

  @Test
  void rowsRunAloneOrTogetherGiveTheSameBits() {
    SplittableRandom r = new SplittableRandom(9);
    int out = 45;
    int in = 70;
    float[] x = random(r, 11 * in);
    PackedMatrix w = PackedMatrix.of(random(r, out * in), out, in);
    try (Workers workers = new Workers(2)) {
      float[] all = new float[11 * out];
      MatMul.multiply(workers, x, 11, w, null, all);
      for (int t = 0; t < 11; t++) {
        float[] one = new float[out];
        MatMul.multiply(
            workers, java.util.Arrays.copyOfRange(x, t * in, (t + 1) * in), 1, w, null, one);
        for (int o = 0; o < out; o++) {
          assertEquals(Float.floatToRawIntBits(all[t * out + o]), Float.floatToRawIntBits(one[o]));
        }
      }
    }
  }

  @Test
  void tooSmallBuffersAndAClosedPoolAreErrors() {
    PackedMatrix w = PackedMatrix.of(new float[6], 2, 3);
    Workers workers = new Workers(2);
    assertThrows(
        IllegalArgumentException.class,
        () -> MatMul.multiply(workers, new float[5], 2, w, null, new float[4]));
    workers.close();
    assertThrows(
        IllegalStateException.class,
        () -> MatMul.multiply(workers, new float[6], 2, w, null, new float[4]));
  }
}
