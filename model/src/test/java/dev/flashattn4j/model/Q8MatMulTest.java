package dev.flashattn4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The Q8_0 product against its definition: every element is the fma chain over k ascending of the
 * dequantised weights q·d (exact in float32), so the kernels must give the chain's bits (and
 * therefore the float32 kernels' bits on the dequantised matrix) whatever the shape, the short last
 * block (K not a multiple of 32), the rows per call (under 12 rows the int8 kernels, from 12 a
 * panel dequantised into scratch and the float32 kernels), the threads, and with or without vectors
 * (the {@code model-scalar} execution runs this class with {@code -Dflashattn.vector.bits=0},
 * {@code model-q8-128} with 128-bit vectors); and it must be within float32's budget of the product
 * in float64.
 */
class Q8MatMulTest {

  private static float[] random(SplittableRandom r, int n, double scale) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) (r.nextGaussian() * scale);
    }
    return a;
  }

  /** y[t][o] = fma chain over k ascending of W[o][k] · x[t][k], + bias. */
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

  @ParameterizedTest(name = "T={0} O={1} K={2} threads={3}")
  @CsvSource({
    "1, 1, 1, 1, 1",
    "1, 7, 31, 2, 2",
    "1, 64, 32, 2, 3",
    "1, 97, 112, 2, 4",
    "5, 33, 33, 1, 5",
    "6, 40, 64, 3, 6",
    "29, 50, 96, 2, 7",
    "70, 37, 130, 2, 8",
    "4, 130, 200, 3, 9"
  })
  void equalsTheFmaChainOfTheDequantisedWeights(int rows, int out, int in, int threads, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = random(r, rows * in, 1);
    float[] w = random(r, out * in, 0.05);
    float[] bias = seed % 2 == 0 ? random(r, out, 0.1) : null;
    Q8Rows q = Q8Rows.quantize(w, out, in);
    float[] dq = q.dequantize();
    float[] want = chain(x, rows, dq, out, in, bias);
    float[] y = new float[rows * out];
    float[] y32 = new float[rows * out];
    try (Workers workers = new Workers(threads)) {
      MatMul.multiply(workers, x, rows, PackedMatrix.ofQ8(q), bias, y);
      MatMul.multiply(workers, x, rows, PackedMatrix.of(dq, out, in), bias, y32);
    }
    for (int i = 0; i < y.length; i++) {
      assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(y[i]), "elem " + i);
      assertEquals(Float.floatToRawIntBits(y32[i]), Float.floatToRawIntBits(y[i]), "elem " + i);
    }
    // within float32's budget of the float64 product of the dequantised weights: K roundings of a
    // chain, each at most 2⁻²⁴ of the running magnitude
    for (int t = 0; t < rows; t++) {
      for (int o = 0; o < out; o++) {
        double exact = bias == null ? 0 : bias[o];
        double mag = Math.abs(exact);
        for (int k = 0; k < in; k++) {
          double term = (double) dq[o * in + k] * x[t * in + k];
          exact += term;
          mag += Math.abs(term);
        }
        double err = Math.abs(exact - y[t * out + o]);
        assertTrue(err <= 0x1p-24 * (in + 1) * mag + 1e-30, "err " + err + " mag " + mag);
      }
    }
  }

  @ParameterizedTest(name = "O={0} K={1}")
  @CsvSource({"45, 70", "64, 64", "130, 33"})
  void rowsRunAloneOrTogetherGiveTheSameBits(int out, int in) {
    SplittableRandom r = new SplittableRandom(out * 31L + in);
    float[] x = random(r, 11 * in, 1);
    PackedMatrix w = PackedMatrix.ofQ8(Q8Rows.quantize(random(r, out * in, 0.05), out, in));
    try (Workers workers = new Workers(2)) {
      float[] all = new float[11 * out];
      MatMul.multiply(workers, x, 11, w, null, all);
      for (int t = 0; t < 11; t++) {
        float[] one = new float[out];
        MatMul.multiply(workers, Arrays.copyOfRange(x, t * in, (t + 1) * in), 1, w, null, one);
        for (int o = 0; o < out; o++) {
          assertEquals(Float.floatToRawIntBits(all[t * out + o]), Float.floatToRawIntBits(one[o]));
        }
      }
    }
  }

  @ParameterizedTest(name = "O={0} K={1}")
  @CsvSource({"3, 40", "40, 97"})
  void rowLookupIsTheDequantisedRow(int out, int in) {
    SplittableRandom r = new SplittableRandom(out + in);
    Q8Rows q = Q8Rows.quantize(random(r, out * in, 1), out, in);
    PackedMatrix w = PackedMatrix.ofQ8(q);
    float[] dq = q.dequantize();
    float[] row = new float[in + 2];
    for (int o = 0; o < out; o++) {
      w.row(o, row, 2);
      for (int k = 0; k < in; k++) {
        assertEquals(dq[o * in + k], row[2 + k]);
      }
    }
    // the panels' bytes (the last one padded to a whole panel) and their float32 scales
    long panelOutputs = (long) PackedMatrix.PANEL * w.panels();
    assertEquals(panelOutputs * in + 4L * panelOutputs * q.blocks(), w.bytes());
  }
}
