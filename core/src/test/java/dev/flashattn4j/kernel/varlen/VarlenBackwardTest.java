package dev.flashattn4j.kernel.varlen;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.api.AttentionEngine;
import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.reference.NaiveAttention;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;
import dev.flashattn4j.values.AttentionGradients;
import dev.flashattn4j.values.AttentionMask;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import org.junit.jupiter.api.Test;

/** The varlen backward: each packed sequence's gradients are those of the sequence alone. */
class VarlenBackwardTest {

  @Test
  void eachSequenceGetsTheGradientsOfItsOwnAttention() {
    check(new int[] {0, 5, 5, 22, 31}, new int[] {0, 7, 10, 27, 39});
  }

  /** A long last sequence among few: its keys are cut into chunks (dQ summed in chunk order). */
  @Test
  void aLongSequenceAmongFewIsCutIntoKeyChunks() {
    // three sequences of one K/V head: fewer pairs than any machine cuts below
    assertTrue(dev.flashattn4j.kernel.FlashBackwardAccess.chunks(3, 990) > 1, "not cut");
    check(new int[] {0, 5, 5, 300}, new int[] {0, 7, 10, 1000}, 1);
  }

  /**
   * A small L2 makes the long sequence's items group their query blocks (three of 32 rows) and run
   * their keys in sub-chunks of two 48-key tiles: the bits of the ungrouped call, SIMD and scalar,
   * on 1 and 2 threads.
   */
  @Test
  void groupedBlocksOfPackedSequencesKeepTheBits() {
    int[] cuQ = {0, 5, 5, 300};
    int[] cuK = {0, 7, 10, 1000};
    Tensor q = TestTensors.normal(11, 1, 4, 300, 16);
    Tensor k = TestTensors.normal(12, 1, 1, 1000, 16);
    Tensor v = TestTensors.normal(13, 1, 1, 1000, 16);
    Tensor g = TestTensors.normal(14, 1, 4, 300, 16);
    AttentionOptions o =
        AttentionOptions.builder()
            .causal(Causal.BOTTOM_RIGHT)
            .alibi(0.5f, 0.25f, 0.125f, 0.0625f)
            .sinks(0.5f, -1f, 1f, 0f)
            .dropout(0.1f, 3, 1)
            .build();
    dev.flashattn4j.config.CacheInfo small =
        new dev.flashattn4j.config.CacheInfo(32 << 10, 16 << 10, 32 << 20, false);
    KernelConfig probe = new KernelConfig(1, 32, 48, true, small);
    assertTrue(
        dev.flashattn4j.kernel.FlashBackwardAccess.groupBlocks(probe, 32, 16, 16, 37, 480) > 1,
        "not grouped");
    for (boolean vector : new boolean[] {true, false}) {
      AttentionGradients want;
      try (AttentionEngine e =
          AttentionEngine.create(
              KernelConfig.defaults().withThreads(1).withVectorized(vector).withTiles(32, 48))) {
        AttentionResult f = e.varlen(q, k, v, cuQ, cuK, o);
        want = e.varlenBackward(q, k, v, f.output(), f.lse(), g, cuQ, cuK, o);
      }
      for (int threads = 1; threads <= 2; threads++) {
        try (AttentionEngine e =
            AttentionEngine.create(new KernelConfig(threads, 32, 48, vector, small))) {
          AttentionResult f = e.varlen(q, k, v, cuQ, cuK, o);
          AttentionGradients got = e.varlenBackward(q, k, v, f.output(), f.lse(), g, cuQ, cuK, o);
          String at = threads + " threads, vector " + vector;
          assertArrayEquals(want.dq().toArray(), got.dq().toArray(), at + ": dQ");
          assertArrayEquals(want.dk().toArray(), got.dk().toArray(), at + ": dK");
          assertArrayEquals(want.dv().toArray(), got.dv().toArray(), at + ": dV");
          assertArrayEquals(want.dsinks(), got.dsinks(), at + ": dsinks");
        }
      }
    }
  }

  /**
   * Packed sequences of equal lengths with a mask on the packed rows and keys and dropout are the
   * sequences of a dense batch (sequence x drawing the keep bits of batch entry x): forward,
   * backward, SIMD and scalar.
   */
  @Test
  void aMaskAndDropoutOnPackedSequencesAreThoseOfTheBatch() {
    int seqs = 3;
    int nq = 20;
    int nk = 30;
    int hq = 4;
    int hkv = 2;
    int d = 16;
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(9);
    // a float mask per (batch, head): dense (B, H_q, N_q, N_k), packed (1, H_q, B·N_q, B·N_k)
    float[] dense = new float[seqs * hq * nq * nk];
    float[] packed = new float[hq * seqs * nq * seqs * nk];
    java.util.Arrays.fill(packed, Float.NaN); // outside a sequence's block: never read
    for (int x = 0; x < seqs; x++) {
      for (int h = 0; h < hq; h++) {
        for (int i = 0; i < nq; i++) {
          for (int j = 0; j < nk; j++) {
            float m = rnd.nextInt(5) == 0 ? Float.NEGATIVE_INFINITY : (float) rnd.nextGaussian();
            dense[((x * hq + h) * nq + i) * nk + j] = m;
            packed[(h * seqs * nq + x * nq + i) * (seqs * nk) + x * nk + j] = m;
          }
        }
      }
    }
    AttentionOptions base =
        AttentionOptions.builder().dropout(0.25f, 77, 5).causal(Causal.BOTTOM_RIGHT).build();
    AttentionOptions denseOptions =
        base.toBuilder().mask(AttentionMask.additive(dense, seqs, hq, nq, nk)).build();
    AttentionOptions packedOptions =
        base.toBuilder().mask(AttentionMask.additive(packed, 1, hq, seqs * nq, seqs * nk)).build();
    Tensor q = TestTensors.normal(5, seqs, hq, nq, d);
    Tensor k = TestTensors.normal(6, seqs, hkv, nk, d);
    Tensor v = TestTensors.normal(7, seqs, hkv, nk, d);
    Tensor g = TestTensors.normal(8, seqs, hq, nq, d);
    int[] cuQ = new int[seqs + 1];
    int[] cuK = new int[seqs + 1];
    for (int x = 1; x <= seqs; x++) {
      cuQ[x] = x * nq;
      cuK[x] = x * nk;
    }
    for (boolean vector : new boolean[] {true, false}) {
      KernelConfig c = KernelConfig.defaults().withThreads(2).withVectorized(vector);
      try (AttentionEngine e = AttentionEngine.create(c)) {
        AttentionResult want = e.forward(q, k, v, denseOptions);
        AttentionGradients wantG = e.backward(q, k, v, want.output(), want.lse(), g, denseOptions);
        Tensor pq = pack(q);
        Tensor pk = pack(k);
        Tensor pv = pack(v);
        Tensor pg = pack(g);
        AttentionResult got = e.varlen(pq, pk, pv, cuQ, cuK, packedOptions);
        AttentionGradients gotG =
            e.varlenBackward(pq, pk, pv, got.output(), got.lse(), pg, cuQ, cuK, packedOptions);
        close(pack(want.output()), got.output(), "O, vector " + vector);
        close(pack(wantG.dq()), gotG.dq(), "dQ, vector " + vector);
        close(pack(wantG.dk()), gotG.dk(), "dK, vector " + vector);
        close(pack(wantG.dv()), gotG.dv(), "dV, vector " + vector);
      }
    }
  }

  /** (B, H, N, d) → (1, H, B·N, d): the sequences one after the other. */
  private static Tensor pack(Tensor t) {
    int b = t.shape()[0];
    int h = t.shape()[1];
    int n = t.shape()[2];
    int d = t.shape()[3];
    float[] out = new float[b * h * n * d];
    for (int x = 0; x < b; x++) {
      for (int hh = 0; hh < h; hh++) {
        for (int i = 0; i < n; i++) {
          for (int c = 0; c < d; c++) {
            out[(hh * b * n + x * n + i) * d + c] = t.get(x, hh, i, c);
          }
        }
      }
    }
    return Tensor.of(out, 1, h, b * n, d);
  }

  private static void check(int[] cuQ, int[] cuK) {
    check(cuQ, cuK, 2);
  }

  private static void check(int[] cuQ, int[] cuK, int hkv) {
    int hq = 4;
    int d = 16;
    int totalQ = cuQ[cuQ.length - 1];
    int totalK = cuK[cuK.length - 1];
    Tensor q = TestTensors.normal(1, 1, hq, totalQ, d);
    Tensor k = TestTensors.normal(2, 1, hkv, totalK, d);
    Tensor v = TestTensors.normal(3, 1, hkv, totalK, d);
    Tensor g = TestTensors.normal(4, 1, hq, totalQ, d);
    AttentionOptions o =
        AttentionOptions.builder()
            .causal(Causal.BOTTOM_RIGHT)
            .alibi(0.5f, 0.25f, 0.125f, 0.0625f)
            .sinks(0.5f, -1f, 1f, 0f)
            .softcap(4)
            .build();
    float[] dsinksWant = new float[hq];
    AttentionGradients first = null;
    for (int threads = 1; threads <= 2; threads++) {
      for (boolean vector : new boolean[] {true, false}) {
        KernelConfig c = KernelConfig.defaults().withThreads(threads).withVectorized(vector);
        try (AttentionEngine e = AttentionEngine.create(c)) {
          AttentionResult f = e.varlen(q, k, v, cuQ, cuK, o);
          AttentionGradients got = e.varlenBackward(q, k, v, f.output(), f.lse(), g, cuQ, cuK, o);
          java.util.Arrays.fill(dsinksWant, 0f);
          for (int x = 0; x + 1 < cuQ.length; x++) {
            int nq = cuQ[x + 1] - cuQ[x];
            int nk = cuK[x + 1] - cuK[x];
            if (nq == 0) {
              continue;
            }
            Tensor qx = q.narrow(2, cuQ[x], nq);
            Tensor kx = k.narrow(2, cuK[x], nk);
            Tensor vx = v.narrow(2, cuK[x], nk);
            Tensor gx = g.narrow(2, cuQ[x], nq);
            AttentionGradients want = NaiveAttention.backward(qx, kx, vx, gx, o);
            close(want.dq(), got.dq().narrow(2, cuQ[x], nq), "dQ of sequence " + x);
            close(want.dk(), got.dk().narrow(2, cuK[x], nk), "dK of sequence " + x);
            close(want.dv(), got.dv().narrow(2, cuK[x], nk), "dV of sequence " + x);
            for (int h = 0; h < hq; h++) {
              dsinksWant[h] += want.dsinks()[h];
            }
          }
          // keys of sequence 1 (no queries) get no gradient
          assertArrayEquals(
              new float[3 * d * hkv], got.dk().narrow(2, 7, 3).toArray(), "keys seen by no row");
          double err = ErrorBudget.Errors.of(got.dsinks(), dsinksWant).maxAbs();
          assertTrue(
              err <= ErrorBudget.gradientTolerance(ErrorBudget.maxAbs(dsinksWant)), "dsinks");
          if (first != null && vector) {
            assertArrayEquals(first.dq().toArray(), got.dq().toArray(), "dQ bits by threads");
          }
          if (vector && threads == 1) {
            first = got;
          }
        }
      }
    }
  }

  private static void close(Tensor want, Tensor got, String what) {
    float[] w = want.toArray();
    double err = ErrorBudget.Errors.of(got.toArray(), w).maxAbs();
    double tol = ErrorBudget.gradientTolerance(ErrorBudget.maxAbs(w));
    assertTrue(err <= tol, what + ": " + err + " > " + tol);
  }
}
