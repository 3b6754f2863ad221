package dev.flashattn4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.internal.ScalarMath;
import dev.flashattn4j.internal.Simd;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;
import dev.flashattn4j.values.AttentionOptions;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The shared tanh: accurate, odd, total, and the same bits in SIMD, scalar and after C2. */
class ScalarMathTest {

  @Test
  void tanhIsWithinTwoTenthsOfAMillionthOfTheTruth() {
    SplittableRandom rnd = new SplittableRandom(3);
    double worstRel = 0;
    double worstAbs = 0;
    for (int i = 0; i < 200_000; i++) {
      float x = (float) (Math.pow(10, rnd.nextDouble(-8, 2)) * (rnd.nextBoolean() ? 1 : -1));
      double exact = Math.tanh((double) x);
      float got = ScalarMath.tanh(x);
      worstAbs = Math.max(worstAbs, Math.abs(got - exact));
      worstRel = Math.max(worstRel, Math.abs(got - exact) / Math.abs(exact));
      assertEquals(-got, ScalarMath.tanh(-x), "odd at " + x);
    }
    assertTrue(worstRel < 3e-7, "relative error " + worstRel);
    assertTrue(worstAbs < 1.2e-7, "absolute error " + worstAbs);
    assertEquals(1f, ScalarMath.tanh(Float.POSITIVE_INFINITY));
    assertEquals(-1f, ScalarMath.tanh(-1e30f));
    assertTrue(Float.isNaN(ScalarMath.tanh(Float.NaN)));
    assertEquals(Float.MIN_VALUE, ScalarMath.tanh(Float.MIN_VALUE));
  }

  @Test
  void theSoftCapGivesTheScalarBitsInSimd() {
    if (!Simd.ENABLED) {
      return;
    }
    SplittableRandom rnd = new SplittableRandom(4);
    int keys = 9;
    int ld = 3 * Simd.LANES;
    float[] s = new float[keys * ld];
    for (int i = 0; i < s.length; i++) {
      s[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(-4, 3)));
    }
    float[] special = {
      0f, -0f, 0.625f, -0.625f, 0.62499994f, Float.NaN, Float.POSITIVE_INFINITY, -1e38f, 44f, 1e-40f
    };
    System.arraycopy(special, 0, s, 0, special.length);
    float[] scalar = s.clone();
    ScorePipeline cap =
        new ScorePipeline().prepare(AttentionOptions.builder().softcap(2.5f).build(), 64);
    cap.capTile(s, ld, ld, keys, true);
    cap.capTile(scalar, ld, ld, keys, false);
    for (int i = 0; i < s.length; i++) {
      assertEquals(
          Float.floatToRawIntBits(scalar[i]) | (Float.isNaN(scalar[i]) ? -1 : 0),
          Float.floatToRawIntBits(s[i]) | (Float.isNaN(s[i]) ? -1 : 0),
          "at " + i);
    }
  }

  /** A soft-capped call gives the same bits before and after C2 has compiled everything. */
  @Test
  void softCappedResultsDoNotMoveWithTheJit() {
    Tensor q = TestTensors.normal(1, 1, 4, 128, 64);
    Tensor k = TestTensors.normal(2, 1, 4, 128, 64);
    Tensor v = TestTensors.normal(3, 1, 4, 128, 64);
    AttentionOptions o = AttentionOptions.builder().softcap(0.7f).build();
    try (FlashForward f = new FlashForward(KernelConfig.defaults().withThreads(1))) {
      Tensor out = Tensor.zeros(1, 4, 128, 64);
      float[] lse = new float[4 * 128];
      f.forward(q, k, v, o, out, lse);
      float[] first = out.toArray();
      float[] firstLse = lse.clone();
      for (int i = 1; i <= 1500; i++) {
        f.forward(q, k, v, o, out, lse);
        assertTrue(
            java.util.Arrays.equals(first, out.toArray()) && java.util.Arrays.equals(firstLse, lse),
            "call " + i + " moved");
      }
    }
  }
}
