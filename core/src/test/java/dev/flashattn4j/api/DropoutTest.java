package dev.flashattn4j.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.internal.Philox;
import dev.flashattn4j.paper.Algorithm1;
import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.reference.NaiveAttention;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;
import dev.flashattn4j.values.AttentionGradients;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import dev.flashattn4j.values.Dropout;
import org.junit.jupiter.api.Test;

/** Seeded dropout: Philox's known answers, the keep rate, one mask for every kernel and tiling. */
class DropoutTest {

  @Test
  void philoxGivesRandom123sKnownAnswers() {
    int[] out = new int[4];
    Philox.block(0, 0, 0, 0, 0, 0, out);
    assertArrayEquals(new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}, out);
    Philox.block(-1, -1, -1, -1, -1, -1, out);
    assertArrayEquals(new int[] {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}, out);
    Philox.block(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, out);
    assertArrayEquals(new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}, out);
  }

  @Test
  void theKeepRateIsWithinABinomialBoundAndOffsetsDrawNewMasks() {
    for (float p : new float[] {0.1f, 0.3f, 0.5f, 0.9f}) {
      Dropout d = new Dropout(p, 1234, 0);
      boolean[] m = d.keepMask(1, 3, 400, 500);
      long kept = 0;
      for (boolean x : m) {
        kept += x ? 1 : 0;
      }
      double n = m.length;
      double sigma = Math.sqrt(n * p * (1 - p));
      assertEquals((1 - p) * n, kept, 5 * sigma, "kept at p = " + p);
      // the cached rows give the bits of the plain function
      for (int i = 0; i < 400; i += 37) {
        for (int j = 0; j < 500; j += 13) {
          assertEquals(d.keep(1, 3, i, j), m[i * 500 + j]);
        }
      }
      boolean[] next = new Dropout(p, 1234, 1).keepMask(1, 3, 400, 500);
      long same = 0;
      for (int i = 0; i < m.length; i++) {
        same += m[i] == next[i] ? 1 : 0;
      }
      double agree = p * p + (1 - p) * (1 - p); // two independent masks
      assertEquals(agree * n, same, 6 * Math.sqrt(n * agree * (1 - agree)), "offset 1 vs 0");
    }
    assertThrows(IllegalArgumentException.class, () -> new Dropout(1f, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new Dropout(-0.1f, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new Dropout(Float.NaN, 0, 0));
  }

  private static final AttentionOptions[] OPTIONS = {
    AttentionOptions.builder().dropout(0.2f, 7, 3).build(),
    AttentionOptions.builder().dropout(0.5f, 8, 0).causal(Causal.BOTTOM_RIGHT).softcap(4).build(),
  };

  @Test
  void everyKernelAndTilingDrawsTheOracleMask() {
    // GQA 4:2, odd sizes
    Tensor q = TestTensors.normal(1, 2, 4, 77, 40);
    Tensor k = TestTensors.normal(2, 2, 2, 131, 40);
    Tensor v = TestTensors.normal(3, 2, 2, 131, 24);
    for (AttentionOptions o : OPTIONS) {
      AttentionResult first = null;
      for (boolean vector : new boolean[] {true, false}) {
        for (int[] tiles : new int[][] {{0, 0}, {32, 48}, {16, 20}}) {
          AttentionResult byThreads = null;
          for (int threads = 1; threads <= 2; threads++) {
            KernelConfig c =
                KernelConfig.defaults()
                    .withThreads(threads)
                    .withVectorized(vector)
                    .withTiles(tiles[0], tiles[1]);
            try (AttentionEngine e = AttentionEngine.create(c)) {
              AttentionResult r = e.forward(q, k, v, o);
              ErrorBudget.Check check = ErrorBudget.check(q, k, v, o, r);
              assertTrue(check.passed(), o + " tiles " + tiles[0] + ": " + check);
              if (byThreads == null) {
                byThreads = r;
              } else {
                assertArrayEquals(byThreads.output().toArray(), r.output().toArray(), "threads");
              }
              first = first == null ? r : first;
            }
          }
        }
      }
      AttentionResult paper = Algorithm1.compute(q, k, v, o, 4 * 40 * 16);
      assertTrue(ErrorBudget.check(q, k, v, o, paper).passed(), "paper: " + o);
      // the LSE is the undropped row's
      AttentionResult plain =
          Attention.forward(q, k, v, o.toBuilder().dropout(Dropout.NONE).build());
      assertArrayEquals(plain.lse(), first.lse(), 1e-5f);
    }
  }

  @Test
  void theBackwardRegeneratesTheForwardMask() {
    Tensor q = TestTensors.normal(11, 1, 4, 45, 32);
    Tensor k = TestTensors.normal(12, 1, 2, 70, 32);
    Tensor v = TestTensors.normal(13, 1, 2, 70, 16);
    Tensor g = TestTensors.normal(14, 1, 4, 45, 16);
    for (AttentionOptions o : OPTIONS) {
      AttentionGradients want = NaiveAttention.backward(q, k, v, g, o);
      AttentionGradients first = null;
      for (boolean vector : new boolean[] {true, false}) {
        for (int threads = 1; threads <= 2; threads++) {
          KernelConfig c =
              KernelConfig.defaults().withThreads(threads).withVectorized(vector).withTiles(16, 24);
          try (AttentionEngine e = AttentionEngine.create(c)) {
            AttentionResult f = e.forward(q, k, v, o);
            AttentionGradients got = e.backward(q, k, v, f.output(), f.lse(), g, o);
            close(want.dq(), got.dq(), "dQ");
            close(want.dk(), got.dk(), "dK");
            close(want.dv(), got.dv(), "dV");
            if (first != null && threads == 2) {
              assertArrayEquals(first.dq().toArray(), got.dq().toArray(), "dQ bits by threads");
            }
            first = threads == 1 ? got : first;
          }
        }
      }
    }
  }

  private static void close(Tensor want, Tensor got, String what) {
    float[] w = want.toArray();
    float[] a = got.toArray();
    double max = ErrorBudget.maxAbs(w);
    double worst = ErrorBudget.Errors.of(a, w).maxAbs();
    assertTrue(worst <= ErrorBudget.gradientTolerance(max), what + ": " + worst + " of " + max);
  }

  @Test
  void decodeRefusesDropout() {
    AttentionOptions o = OPTIONS[0];
    dev.flashattn4j.cache.PagedKvCache cache =
        new dev.flashattn4j.cache.PagedKvCache(
            1, 1, 8, 8, 16, 4, dev.flashattn4j.cache.KvStorage.FLOAT32);
    int seq = cache.newSequence();
    Tensor kv = TestTensors.normal(2, 1, 1, 6, 8);
    cache.append(seq, kv, kv);
    Tensor q = TestTensors.normal(1, 1, 1, 1, 8);
    IllegalArgumentException x =
        assertThrows(
            IllegalArgumentException.class,
            () -> Attention.engine().decode(cache, 0, new int[] {seq}, q, o));
    assertTrue(x.getMessage().contains("dropout"), x.getMessage());
  }
}
