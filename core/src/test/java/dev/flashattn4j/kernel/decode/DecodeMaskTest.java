package dev.flashattn4j.kernel.decode;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.cache.KvStorage;
import dev.flashattn4j.cache.PagedKvCache;
import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.reference.NaiveAttention;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;
import dev.flashattn4j.values.AttentionMask;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The decode step with a mask: a left-padded batch (key-padding keep-mask) and a float mask per
 * head and row, against the oracle run on each sequence alone; a NaN in the V of a hidden key does
 * not reach the row.
 */
class DecodeMaskTest {

  @Test
  void aLeftPaddedBatchDecodesAsEachSequenceAlone() {
    int hq = 4;
    int hkv = 2;
    int d = 16;
    int nq = 2;
    int[] lens = {20, 13};
    int longest = 20;
    PagedKvCache cache = new PagedKvCache(1, hkv, d, d, 8, 16, KvStorage.FLOAT32);
    Tensor[] ks = new Tensor[2];
    Tensor[] vs = new Tensor[2];
    int[] ids = new int[2];
    for (int b = 0; b < 2; b++) {
      ids[b] = cache.newSequence();
      ks[b] = TestTensors.normal(10 + b, 1, hkv, lens[b], d);
      vs[b] = TestTensors.normal(20 + b, 1, hkv, lens[b], d);
    }
    // a NaN in the value of a padding key of sequence 0: hidden, it must not reach any row
    vs[0].data()[vs[0].rowOffset(0, 1, 1) + 3] = Float.NaN;
    for (int b = 0; b < 2; b++) {
      cache.append(ids[b], ks[b], vs[b]);
    }
    Tensor q = TestTensors.normal(30, 2, hq, nq, d);
    boolean[] keep = new boolean[2 * longest];
    float[] bias = new float[2 * hq * nq * longest];
    SplittableRandom r = new SplittableRandom(4);
    for (int b = 0; b < 2; b++) {
      int pad = b == 0 ? 3 : 5;
      for (int j = 0; j < longest; j++) {
        keep[b * longest + j] = j >= pad;
      }
      for (int x = 0; x < hq * nq * longest; x++) {
        int j = x % longest;
        bias[b * hq * nq * longest + x] =
            j < pad ? Float.NEGATIVE_INFINITY : (float) r.nextGaussian();
      }
    }
    AttentionOptions[] all = {
      AttentionOptions.builder()
          .causal(Causal.BOTTOM_RIGHT)
          .mask(AttentionMask.keep(keep, 2, 1, 1, longest))
          .build(),
      AttentionOptions.builder()
          .causal(Causal.BOTTOM_RIGHT)
          .softcap(5)
          .mask(AttentionMask.additive(bias, 2, hq, nq, longest))
          .build()
    };
    for (AttentionOptions o : all) {
      for (boolean simd : new boolean[] {true, false}) {
        try (DecodeAttention step =
            DecodeAttention.builder().threads(2).chunkKeys(8).vector(simd).build()) {
          AttentionResult got = step.decode(cache, 0, ids, q, o);
          for (int b = 0; b < 2; b++) {
            Tensor qb = q.narrow(0, b, 1);
            AttentionOptions alone =
                o.toBuilder().mask(slice(o.mask(), b, hq, nq, lens[b])).build();
            Tensor want = NaiveAttention.compute(qb, ks[b], vs[b], alone).output();
            float[] w = want.toArray();
            float[] a = got.output().narrow(0, b, 1).toArray();
            double err = ErrorBudget.Errors.of(a, w).maxAbs();
            assertTrue(err < 1e-5, "sequence " + b + " simd " + simd + ": " + err);
          }
        }
      }
    }
  }

  /**
   * Sequence b's part of a (2, ·, ·, longest) mask, its first {@code len} keys, as (1, H, N_q,
   * len).
   */
  private static AttentionMask slice(AttentionMask m, int b, int hq, int nq, int len) {
    boolean bool = m.isBoolean();
    float[] f = new float[hq * nq * len];
    boolean[] k = new boolean[hq * nq * len];
    for (int h = 0; h < hq; h++) {
      for (int i = 0; i < nq; i++) {
        for (int j = 0; j < len; j++) {
          float x = m.valueAt(b, h, i, j);
          f[(h * nq + i) * len + j] = x;
          k[(h * nq + i) * len + j] = x == 0f;
        }
      }
    }
    return bool ? AttentionMask.keep(k, 1, hq, nq, len) : AttentionMask.additive(f, 1, hq, nq, len);
  }
}
