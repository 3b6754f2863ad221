package dev.flashattn4j.kernel.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flashattn4j.api.AttentionEngine;
import dev.flashattn4j.cache.KvStorage;
import dev.flashattn4j.cache.PagedKvCache;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import org.junit.jupiter.api.Test;

/** The example of docs/INFERENCE.md, kept compiling and running. */
class InferenceExampleTest {

  @Test
  void prefillThenDecodeAsTheDocShows() {
    int layers = 2;
    int hq = 8;
    int hkv = 2;
    int d = 16;
    int prompt = 5;
    // --- docs/INFERENCE.md ---
    PagedKvCache cache = new PagedKvCache(layers, hkv, d, d, 16, 64, KvStorage.FLOAT32);
    AttentionOptions causal = AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).build();
    try (AttentionEngine engine = AttentionEngine.create()) { // threads for all of it
      int seq = cache.newSequence();

      // Prefill: reserve the prompt's positions once, then each layer writes its K and V
      // and attends over the prompt (one sequence here; pack several with cu_seqlens).
      int at = cache.reserve(seq, prompt);
      for (int layer = 0; layer < layers; layer++) {
        Tensor q = TestTensors.uniform(layer, 1, prompt, hq, d); // (n, H_q, d) projection
        Tensor k = TestTensors.uniform(10 + layer, 1, prompt, hkv, d);
        Tensor v = TestTensors.uniform(20 + layer, 1, prompt, hkv, d);
        Tensor qv = Tensor.ofBnhd(q.data(), 1, prompt, hq, d); // views, no copies
        Tensor kv = Tensor.ofBnhd(k.data(), 1, prompt, hkv, d);
        Tensor vv = Tensor.ofBnhd(v.data(), 1, prompt, hkv, d);
        cache.write(layer, seq, at, kv, vv);
        AttentionResult o =
            engine.varlen(qv, kv, vv, new int[] {0, prompt}, new int[] {0, prompt}, causal);
        assertEquals(hq * prompt * d, o.output().size());
      }

      // Decode: one token a step; append its K and V, then attend over the whole cache.
      Tensor out = Tensor.zeros(1, hq, 1, d);
      float[] lse = new float[hq];
      for (int step = 0; step < 3; step++) {
        int pos = cache.reserve(seq, 1);
        for (int layer = 0; layer < layers; layer++) {
          Tensor q = TestTensors.uniform(100 + step, 1, hq, 1, d); // (B, H_q, 1, d)
          cache.write(
              layer,
              seq,
              pos,
              TestTensors.uniform(200 + step, 1, hkv, 1, d),
              TestTensors.uniform(300 + step, 1, hkv, 1, d));
          engine.decode(cache, layer, new int[] {seq}, q, causal, out, lse); // no allocation
        }
      }
      cache.free(seq);
    }
    // --- end ---
    assertEquals(64, cache.freePages());
  }
}
