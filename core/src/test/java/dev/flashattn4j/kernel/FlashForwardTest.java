package dev.flashattn4j.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;
import dev.flashattn4j.values.AttentionMask;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The fast forward kernel against the float64 oracle, within the error budget. */
class FlashForwardTest {

  /** The vector path (at the JVM's width) and the scalar twin, with small odd tiles. */
  static final FlashForward VECTOR =
      new FlashForward(KernelConfig.defaults().withThreads(2).withTiles(0, 24));

  static final FlashForward SCALAR =
      new FlashForward(
          KernelConfig.defaults().withThreads(2).withTiles(12, 20).withVectorized(false));

  @AfterAll
  static void close() {
    VECTOR.close();
    SCALAR.close();
  }

  /** One random case: shapes and options. */
  record Case(
      int b, int hq, int hkv, int nq, int nk, int d, int dv, AttentionOptions options, long seed) {

    Tensor q() {
      return TestTensors.normal(seed, b, hq, nq, d);
    }

    Tensor k() {
      return TestTensors.normal(seed + 1, b, hkv, nk, d);
    }

    Tensor v() {
      return TestTensors.normal(seed + 2, b, hkv, nk, dv);
    }

    @Override
    public String toString() {
      return String.format(
          "B%d Hq%d Hkv%d Nq%d Nk%d d%d dv%d %s %s win%s cap%s",
          b,
          hq,
          hkv,
          nq,
          nk,
          d,
          dv,
          options.causal(),
          options.mask(),
          options.window(),
          options.softcap());
    }
  }

  static void assertWithinBudget(Case c, FlashForward kernel) {
    Tensor q = c.q();
    Tensor k = c.k();
    Tensor v = c.v();
    float[] q0 = q.toArray();
    float[] k0 = k.toArray();
    float[] v0 = v.toArray();
    AttentionResult r = kernel.forward(q, k, v, c.options());
    ErrorBudget.Check check = ErrorBudget.check(q, k, v, c.options(), r);
    assertTrue(check.passed(), c + ": " + check);
    assertArrayEquals(q0, q.toArray(), "q modified");
    assertArrayEquals(k0, k.toArray(), "k modified");
    assertArrayEquals(v0, v.toArray(), "v modified");
  }

  static Stream<Arguments> randomCases() {
    SplittableRandom rnd = new SplittableRandom(20260127);
    int[] ns = {1, 7, 97, 130};
    int[] ds = {1, 3, 16, 59, 64};
    int[][] heads = {{1, 1}, {4, 2}, {8, 2}, {8, 1}, {2, 2}};
    List<Arguments> out = new ArrayList<>();
    for (int n = 0; n < 160; n++) {
      int[] hh = heads[rnd.nextInt(heads.length)];
      int b = 1 + rnd.nextInt(2);
      int nq = ns[rnd.nextInt(ns.length)];
      int nk = rnd.nextInt(3) == 0 ? ns[rnd.nextInt(ns.length)] : nq;
      int d = ds[rnd.nextInt(ds.length)];
      int dv = rnd.nextInt(3) == 0 ? ds[rnd.nextInt(ds.length)] : d;
      AttentionOptions.Builder o = AttentionOptions.builder();
      o.causal(Causal.values()[rnd.nextInt(3)]);
      if (rnd.nextInt(3) == 0) {
        o.window(rnd.nextInt(40) - 1, rnd.nextInt(3) == 0 ? rnd.nextInt(10) - 1 : -1);
      }
      if (rnd.nextInt(4) == 0) {
        o.softcap(0.5f + rnd.nextFloat() * 5);
      }
      if (rnd.nextInt(4) == 0) {
        o.scale(0.05f + rnd.nextFloat());
      }
      switch (rnd.nextInt(5)) {
        case 0 -> o.mask(AttentionMask.keep(TestTensors.keepFlags(rnd, nq * nk, 0.7), nq, nk));
        case 1 -> {
          float[] bias = new float[b * nk];
          for (int i = 0; i < bias.length; i++) {
            bias[i] = rnd.nextInt(5) == 0 ? Float.NEGATIVE_INFINITY : (float) rnd.nextGaussian();
          }
          o.mask(AttentionMask.additive(bias, b, 1, 1, nk));
        }
        case 2 ->
            o.mask(AttentionMask.keep(TestTensors.keepFlags(rnd, hh[0] * nq, 0.8), hh[0], nq, 1));
        default -> {}
      }
      out.add(Arguments.of(new Case(b, hh[0], hh[1], nq, nk, d, dv, o.build(), rnd.nextLong())));
    }
    return out.stream();
  }

  @ParameterizedTest
  @MethodSource("randomCases")
  void vectorWithinBudget(Case c) {
    assertWithinBudget(c, VECTOR);
  }

  @ParameterizedTest
  @MethodSource("randomCases")
  void scalarWithinBudget(Case c) {
    assertWithinBudget(c, SCALAR);
  }

  /**
   * A NaN or an overflow to +∞ in a score a row sees makes that row NaN (O and LSE), in both paths
   * and at every position in a block; the other rows keep the bits of clean inputs.
   */
  @Test
  void nonFiniteScoresMakeTheirRowNaNAndLeaveTheOthers() {
    int n = 70;
    int d = 19;
    Tensor k = TestTensors.normal(31, 1, 2, n, d);
    Tensor v = TestTensors.normal(32, 1, 2, n, d);
    for (FlashForward kernel : new FlashForward[] {VECTOR, SCALAR}) {
      for (int bad : new int[] {0, 5, 37, 69}) {
        Tensor clean = TestTensors.normal(30, 1, 2, n, d);
        AttentionResult want = kernel.forward(clean, k, v, AttentionOptions.DEFAULTS);
        Tensor q = TestTensors.normal(30, 1, 2, n, d);
        q.set(0, 0, bad, 3, Float.NaN); // head 0: NaN
        for (int c = 0; c < d; c++) {
          q.set(0, 1, bad, c, 1e38f * Math.signum(k.get(0, 1, 0, c))); // head 1: q·k₀ → +∞
        }
        AttentionResult got = kernel.forward(q, k, v, AttentionOptions.DEFAULTS);
        for (int h = 0; h < 2; h++) {
          for (int i = 0; i < n; i++) {
            float lse = got.lse()[h * n + i];
            if (i == bad) {
              assertTrue(Float.isNaN(lse), "head " + h + " row " + i + ": LSE " + lse);
              for (int c = 0; c < d; c++) {
                assertTrue(Float.isNaN(got.output().get(0, h, i, c)), "head " + h + " row " + i);
              }
            } else {
              assertEquals(want.lse()[h * n + i], lse);
              for (int c = 0; c < d; c++) {
                assertEquals(want.output().get(0, h, i, c), got.output().get(0, h, i, c));
              }
            }
          }
        }
      }
    }
  }

  /**
   * Hugging Face's additive masks hold float32's most negative value: a row masked that way
   * everywhere gives the mean of V (every score equal, as PyTorch gives), left padding drops the
   * padded keys, and a bias of +3e38 on one key selects it. Both paths, against the oracle.
   */
  @Test
  void hugeFiniteMaskValuesAreAddedAsWritten() {
    int n = 37;
    int d = 8;
    Tensor q = TestTensors.normal(41, 1, 1, n, d);
    Tensor k = TestTensors.normal(42, 1, 1, n, d);
    Tensor v = TestTensors.normal(43, 1, 1, n, d);
    float min = -Float.MAX_VALUE;
    float[] bias = new float[n * n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        if (i < 3) {
          bias[i * n + j] = min; // rows 0-2: every key masked with the float minimum
        } else if (i < 20) {
          bias[i * n + j] = j < i % 5 ? min : 0f; // left padding of 0-4 keys
        } else if (i == 20) {
          bias[i * n + j] = j == 11 ? 3e38f : 0f; // one key selected
        }
      }
    }
    AttentionOptions o =
        AttentionOptions.builder().mask(AttentionMask.additive(bias, n, n)).build();
    for (FlashForward kernel : new FlashForward[] {VECTOR, SCALAR}) {
      AttentionResult r = kernel.forward(q, k, v, o);
      assertTrue(
          ErrorBudget.check(q, k, v, o, r).passed(), ErrorBudget.check(q, k, v, o, r).toString());
      for (int c = 0; c < d; c++) {
        double mean = 0;
        for (int j = 0; j < n; j++) {
          mean += v.get(0, 0, j, c);
        }
        mean /= n;
        for (int i = 0; i < 3; i++) {
          assertEquals(mean, r.output().get(0, 0, i, c), 1e-5, "row " + i + " is the mean of V");
        }
        assertEquals(v.get(0, 0, 11, c), r.output().get(0, 0, 20, c), 1e-6, "row 20 is V_11");
      }
      assertEquals(min, r.lse()[0], Math.ulp(min), "LSE of a row masked with the minimum");
      assertTrue(r.lse()[20] > 2.9e38f && r.lse()[20] < 3.1e38f, "LSE " + r.lse()[20]);
    }
  }

  /**
   * A NaN or ∞ in the value row of a key reaches only the rows that can see that key: under
   * causality (rows before it, in the same tile too) and under a boolean mask; those rows keep
   * their clean bits. Both paths.
   */
  @Test
  void aNonFiniteValueReachesOnlyTheRowsThatSeeItsKey() {
    int n = 256;
    int d = 16;
    Tensor q = TestTensors.normal(51, 1, 1, n, d);
    Tensor k = TestTensors.normal(52, 1, 1, n, d);
    Tensor clean = TestTensors.normal(53, 1, 1, n, d);
    Tensor bad = TestTensors.normal(53, 1, 1, n, d);
    bad.set(0, 0, 200, 5, Float.NaN);
    bad.set(0, 0, 3, 1, Float.POSITIVE_INFINITY);
    boolean[] keep = new boolean[n * n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        keep[i * n + j] = j != 3 && j != 200; // no row sees keys 3 and 200
      }
    }
    AttentionOptions causal = AttentionOptions.builder().causal(Causal.TOP_LEFT).build();
    AttentionOptions masked =
        AttentionOptions.builder().mask(AttentionMask.keep(keep, n, n)).build();
    for (FlashForward kernel : new FlashForward[] {VECTOR, SCALAR}) {
      AttentionResult want = kernel.forward(q, k, clean, causal);
      AttentionResult got = kernel.forward(q, k, bad, causal);
      for (int i = 0; i < n; i++) {
        for (int c = 0; c < d; c++) {
          float x = got.output().get(0, 0, i, c);
          if (i < 3) {
            assertEquals(want.output().get(0, 0, i, c), x, 0f, "row " + i + " sees neither");
          } else if (i < 200) {
            assertTrue(
                c == 1 ? !Float.isFinite(x) : Float.isFinite(x),
                "row " + i + " sees ∞ in column 1 and not the NaN of key 200: " + x);
          } else {
            assertTrue(c != 5 || Float.isNaN(x), "row " + i + " sees the NaN");
          }
        }
      }
      AttentionResult maskedGot = kernel.forward(q, k, bad, masked);
      AttentionResult maskedWant = kernel.forward(q, k, clean, masked);
      for (int i = 0; i < n; i++) {
        for (int c = 0; c < d; c++) {
          assertTrue(Float.isFinite(maskedGot.output().get(0, 0, i, c)), "masked row " + i);
          assertEquals(
              maskedWant.output().get(0, 0, i, c), maskedGot.output().get(0, 0, i, c), 1e-6f);
        }
      }
    }
  }
}
