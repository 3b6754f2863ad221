package dev.flashattn4j.snippets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.api.Attention;
import dev.flashattn4j.api.AttentionEngine;
import dev.flashattn4j.cache.KvStorage;
import dev.flashattn4j.cache.PagedKvCache;
import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionGradients;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The examples in core's javadoc ({@code {@snippet file=...}} pulls the regions of this file into
 * the pages), compiled by the build and run here: an example that stops compiling or working fails
 * the build.
 */
class CoreSnippetsTest {

  private static float[] random(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) r.nextGaussian();
    }
    return x;
  }

  @Test
  void forward() {
    float[] qData = random(1 * 8 * 256 * 64, 1);
    float[] kData = random(1 * 2 * 256 * 64, 2);
    float[] vData = random(1 * 2 * 256 * 64, 3);
    // @start region="forward"
    Tensor q = Tensor.of(qData, 1, 8, 256, 64); // (B, H_q, N_q, d), row-major float[]
    Tensor k = Tensor.of(kData, 1, 2, 256, 64); // (B, H_kv, N_k, d): GQA, 4 query heads a K/V head
    Tensor v = Tensor.of(vData, 1, 2, 256, 64); // (B, H_kv, N_k, d_v)
    AttentionOptions causal = AttentionOptions.builder().causal(Causal.TOP_LEFT).build();

    AttentionResult r = Attention.forward(q, k, v, causal); // all cores, the shared engine
    Tensor o = r.output(); // (B, H_q, N_q, d_v)
    float[] lse = r.lse(); // (B, H_q, N_q): the log-sum-exp of each row's scores
    // @end
    assertArrayEquals(new int[] {1, 8, 256, 64}, o.shape());
    assertEquals(8 * 256, lse.length);
    assertTrue(ErrorBudget.check(q, k, v, causal, r).passed());
  }

  @Test
  void engine() throws Exception {
    Tensor q = Tensor.of(random(4 * 128 * 32, 4), 4, 128, 32);
    Tensor k = Tensor.of(random(4 * 128 * 32, 5), 4, 128, 32);
    Tensor v = Tensor.of(random(4 * 128 * 32, 6), 4, 128, 32);
    AttentionOptions options = AttentionOptions.builder().build();
    // @start region="engine"
    try (AttentionEngine engine = AttentionEngine.create(2)) { // its own 2 threads, closed here
      Tensor out = Tensor.zeros(q.shape());
      float[] lse = new float[4 * 128];
      for (int step = 0; step < 3; step++) {
        engine.forward(q, k, v, options, out, lse); // into your buffers: no allocation once warm
      }
    }
    // @end
  }

  @Test
  void backward() {
    Tensor q = Tensor.of(random(2 * 64 * 16, 7), 2, 64, 16);
    Tensor k = Tensor.of(random(2 * 64 * 16, 8), 2, 64, 16);
    Tensor v = Tensor.of(random(2 * 64 * 16, 9), 2, 64, 16);
    Tensor dOut = Tensor.of(random(2 * 64 * 16, 10), 2, 64, 16);
    // @start region="backward"
    AttentionOptions options = AttentionOptions.builder().causal(Causal.TOP_LEFT).build();
    AttentionResult f = Attention.forward(q, k, v, options);
    // dL/dO in, dL/dQ, dL/dK, dL/dV out: the scores are recomputed tile by tile from the LSE
    AttentionGradients g = Attention.backward(q, k, v, f.output(), f.lse(), dOut, options);
    Tensor dq = g.dq();
    // @end
    assertArrayEquals(q.shape(), dq.shape());
  }

  @Test
  void decode() {
    int layers = 1;
    int kvHeads = 2;
    int d = 16;
    Tensor prompt = Tensor.of(random(kvHeads * 10 * d, 11), kvHeads, 10, d);
    Tensor q = Tensor.of(random(4 * d, 12), 1, 4, 1, d);
    // @start region="decode"
    PagedKvCache cache =
        PagedKvCache.builder()
            .layers(layers)
            .kvHeads(kvHeads)
            .headDim(d)
            .pageSize(16)
            .maxTokens(4096) // a bound: pages are allocated as tokens come
            .storage(KvStorage.BFLOAT16)
            .build();
    int seq = cache.newSequence();
    cache.append(seq, prompt, prompt); // K and V of 10 tokens, (H_kv, n, d)
    // the newest token's query (B = 1, H_q = 4, N_q = 1, d) over everything cached for seq
    AttentionResult r =
        Attention.decode(cache, 0, new int[] {seq}, q, AttentionOptions.builder().build());
    // @end
    assertArrayEquals(new int[] {1, 4, 1, d}, r.output().shape());
  }

  @Test
  void views() {
    int n = 6;
    int heads = 4;
    int d = 8;
    float[] qkv = random(n * 3 * heads * d, 13);
    // @start region="views"
    // a packed projection (N, 3·H·d), as a Linear layer writes it: Q, K and V as (1, H, N, d)
    // views, no copy
    Tensor all = Tensor.of(qkv, n, 3 * heads * d);
    Tensor q = Tensor.ofBnhd(qkv, 1, n, 3 * heads, d).narrow(1, 0, heads);
    Tensor k = Tensor.ofBnhd(qkv, 1, n, 3 * heads, d).narrow(1, heads, heads);
    Tensor firstRows = all.narrow(0, 0, 2); // dimension 0 of the view's own shape (N, 3·H·d)
    // @end
    assertArrayEquals(new int[] {1, heads, n, d}, q.shape());
    assertEquals(qkv[heads * d], k.get(0, 0, 0, 0));
    assertArrayEquals(new int[] {2, 3 * heads * d}, firstRows.shape());
  }
}
