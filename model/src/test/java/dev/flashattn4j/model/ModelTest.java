package dev.flashattn4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.cache.PagedKvCache;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Threads, weight formats, sessions (multi-turn, fork), a full cache, sampling, text streaming. */
class ModelTest {

  private static final int[] PROMPT = {0, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49};

  private static Model load(String family, ModelOptions options) throws IOException {
    return Model.load(Fixtures.dir(family), options);
  }

  private static float[] prefill(Model m, int[] tokens) {
    PagedKvCache cache = m.newCache(tokens.length);
    int seq = cache.newSequence();
    return m.forward(cache, new int[] {seq}, new int[][] {tokens}, true);
  }

  private static void assertSameBits(float[] a, float[] b) {
    assertEquals(a.length, b.length);
    for (int i = 0; i < a.length; i++) {
      assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]), "element " + i);
    }
  }

  private static double maxDiff(float[] a, float[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  @Test
  void oneThreadAndTwoGiveTheSameBits() throws IOException {
    try (Model one = load("gemma2", ModelOptions.defaults().withThreads(1));
        Model two = load("gemma2", ModelOptions.defaults().withThreads(2))) {
      assertSameBits(prefill(one, PROMPT), prefill(two, PROMPT));
    }
  }

  @Test
  void bfloat16WeightsAreKeptAndWidenedExactly() throws IOException {
    // qwen2's checkpoint is bfloat16: kept as stored or widened at load, the same products
    try (Model kept = load("qwen2", ModelOptions.defaults().withThreads(2));
        Model wide =
            load(
                "qwen2",
                ModelOptions.defaults().withThreads(2).withWeights(WeightFormat.FLOAT32))) {
      assertTrue(kept.hasBf16Weights());
      assertFalse(wide.hasBf16Weights());
      assertTrue(kept.weightBytes() < 0.6 * wide.weightBytes());
      assertSameBits(prefill(kept, PROMPT), prefill(wide, PROMPT));
    }
    // llama's is float32: rounded to bfloat16 it is another model, close to the first
    try (Model f32 = load("llama", ModelOptions.defaults().withThreads(2));
        Model bf16 =
            load(
                "llama",
                ModelOptions.defaults().withThreads(2).withWeights(WeightFormat.BFLOAT16))) {
      assertTrue(bf16.hasBf16Weights());
      double d = maxDiff(prefill(f32, PROMPT), prefill(bf16, PROMPT));
      assertTrue(d > 0 && d < 0.1, "bf16 against f32: " + d);
    }
  }

  @Test
  void aSecondTurnReusesTheCacheAndMatchesARunFromScratch() throws IOException {
    try (Model m = load("mistral", ModelOptions.defaults().withThreads(2))) {
      Session chat = m.newSession(200);
      chat.append(PROMPT);
      int[] reply = chat.generate(6, Sampler.greedy(), t -> {});
      int[] turn = {50, 51, 52, 53, 54, 55, 56, 57, 58};
      float[] after = chat.append(turn);
      int[] all = chat.tokens();
      assertEquals(PROMPT.length + reply.length + turn.length, all.length);
      // the same conversation in one prefill: the decode path (N_q = 9 over the cache) agrees
      float[] fresh = prefill(m, all);
      int v = m.config().vocabSize();
      float[] last = java.util.Arrays.copyOfRange(fresh, (all.length - 1) * v, all.length * v);
      assertTrue(maxDiff(after, last) < 1e-5, "second turn vs scratch: " + maxDiff(after, last));
    }
  }

  @Test
  void aForkContinuesTheSamePrefixTwoWaysWithoutTouchingTheOther() throws IOException {
    try (Model m = load("llama", ModelOptions.defaults().withThreads(2))) {
      Session a = m.newSession(256);
      a.append(PROMPT); // 11 tokens: the last page (16) is partly filled and will be shared
      int freeBefore = a.cache().freePages();
      Session b = a.fork();
      assertEquals(freeBefore, a.cache().freePages(), "a fork copies nothing");
      float[] la = a.append(60, 61, 62);
      float[] lb = b.append(70, 71);
      int v = m.config().vocabSize();
      float[] wantA = prefill(m, a.tokens());
      float[] wantB = prefill(m, b.tokens());
      assertTrue(
          maxDiff(la, java.util.Arrays.copyOfRange(wantA, wantA.length - v, wantA.length)) < 1e-5);
      assertTrue(
          maxDiff(lb, java.util.Arrays.copyOfRange(wantB, wantB.length - v, wantB.length)) < 1e-5);
      int[] ga = a.generate(5, Sampler.greedy(), t -> {});
      Session fresh = m.newSession(64);
      fresh.append(
          a.tokens().length > 0 ? java.util.Arrays.copyOf(a.tokens(), PROMPT.length + 3) : PROMPT);
      assertArrayEquals(fresh.generate(5, Sampler.greedy(), t -> {}), ga);
      b.close();
      a.close();
      assertEquals(a.cache().capacityPages(), a.cache().freePages());
      assertThrows(IllegalStateException.class, () -> a.append(1));
    }
  }

  /**
   * Issue 21: one step for sequences that add different numbers of tokens (one generating, one a
   * chunk of its prompt over its cached prefix, one a speculative three, one a new prompt) gives,
   * row for row, the bits of each sequence stepped alone: one ragged decode call serves them all.
   */
  @Test
  void oneStepOfMixedSequencesIsEachSequenceAlone() throws IOException {
    for (String family : new String[] {"llama", "gemma2"}) {
      try (Model m = load(family, ModelOptions.defaults().withThreads(2))) {
        int vocab = m.config().vocabSize();
        int[][] prompts = {{1, 5, 9, 13}, {2, 6}, {3, 7, 11, 15, 19, 23}, {}};
        int[][] next = {{42}, {8, 10, 12, 14, 16, 18, 20}, {4, 44, 70}, {30, 31, 32}};
        PagedKvCache together = m.newCache(256);
        int[] ids = new int[4];
        for (int b = 0; b < 4; b++) {
          ids[b] = together.newSequence();
          if (prompts[b].length > 0) {
            m.forward(together, new int[] {ids[b]}, new int[][] {prompts[b]}, false);
          }
        }
        float[] mixed = m.forward(together, ids, next, true);
        int row = 0;
        for (int b = 0; b < 4; b++) {
          PagedKvCache alone = m.newCache(64);
          int id = alone.newSequence();
          if (prompts[b].length > 0) {
            m.forward(alone, new int[] {id}, new int[][] {prompts[b]}, false);
          }
          float[] want = m.forward(alone, new int[] {id}, new int[][] {next[b]}, true);
          float[] got =
              java.util.Arrays.copyOfRange(mixed, row * vocab, (row + next[b].length) * vocab);
          org.junit.jupiter.api.Assertions.assertArrayEquals(want, got, family + ", sequence " + b);
          row += next[b].length;
        }
      }
    }
  }

  /** Issue 21: positions past max_position_embeddings are refused before anything changes. */
  @Test
  void positionsPastTheModelsAreRefusedAndChangeNothing() throws IOException {
    try (Model m = load("llama", ModelOptions.defaults().withThreads(1))) {
      int max = m.config().maxPositions();
      PagedKvCache cache = m.newCache(max + 64);
      int seq = cache.newSequence();
      int[] prompt = new int[max - 2];
      java.util.Arrays.fill(prompt, 5);
      m.forward(cache, new int[] {seq}, new int[][] {prompt}, false);
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> m.forward(cache, new int[] {seq}, new int[][] {{1, 2, 3}}, false));
      assertTrue(e.getMessage().contains("max_position_embeddings"), e.getMessage());
      assertEquals(max - 2, cache.length(seq));
      m.forward(cache, new int[] {seq}, new int[][] {{1, 2}}, false); // exactly max: fine
      assertEquals(max, cache.length(seq));
    }
  }

  @Test
  void aFullCacheIsAnErrorThatChangesNothing() throws IOException {
    try (Model m = load("llama", ModelOptions.defaults().withThreads(1).withPageSize(4))) {
      PagedKvCache cache = m.newCache(16);
      int s1 = cache.newSequence();
      int s2 = cache.newSequence();
      m.forward(cache, new int[] {s1}, new int[][] {{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}, false);
      IllegalStateException e =
          assertThrows(
              IllegalStateException.class,
              () ->
                  m.forward(
                      cache, new int[] {s1, s2}, new int[][] {{1, 2}, {1, 2, 3, 4, 5}}, false));
      assertTrue(e.getMessage().contains("KV cache full"), e.getMessage());
      assertEquals(10, cache.length(s1));
      assertEquals(0, cache.length(s2));
      assertThrows(
          IllegalArgumentException.class,
          () -> m.forward(cache, new int[] {s1}, new int[][] {{m.config().vocabSize()}}, false));
      assertThrows(
          IllegalArgumentException.class,
          () -> m.forward(cache, new int[] {s1, s1}, new int[][] {{1}, {2}}, false));
      assertEquals(10, cache.length(s1));
    }
  }

  @Test
  void samplingIsSeededAndTopPNarrowsToTheBest() throws IOException {
    try (Model m = load("mistral", ModelOptions.defaults().withThreads(1))) {
      List<int[]> prompts = List.of(PROMPT, new int[] {0, 90, 91});
      List<int[]> x = m.generate(prompts, 12, Sampler.of(1.0f, 0.9f, 42));
      List<int[]> y = m.generate(prompts, 12, Sampler.of(1.0f, 0.9f, 42));
      List<int[]> z = m.generate(prompts, 12, Sampler.of(1.0f, 0.9f, 43));
      assertArrayEquals(x.get(0), y.get(0));
      assertArrayEquals(x.get(1), y.get(1));
      assertFalse(
          java.util.Arrays.equals(x.get(0), z.get(0))
              && java.util.Arrays.equals(x.get(1), z.get(1)));
      // a sequence samples the same tokens alone as in the batch (its own generator)
      assertArrayEquals(
          x.get(0), m.generate(List.of(PROMPT), 12, Sampler.of(1.0f, 0.9f, 42)).get(0));
      // top-p so small that only the best token is left: greedy
      assertArrayEquals(
          m.generate(prompts, 12, Sampler.greedy()).get(1),
          m.generate(prompts, 12, Sampler.of(0.7f, 1e-6f, 5)).get(1));
    }
    assertThrows(IllegalArgumentException.class, () -> Sampler.of(-1, 0.5f, 1));
    assertThrows(IllegalArgumentException.class, () -> Sampler.of(1, 0, 1));
  }

  @Test
  void textStreamsInPiecesThatAddUpToTheWhole() throws IOException {
    try (Model m = load("llama", ModelOptions.defaults().withThreads(1))) {
      String text = "Sphinx of black quartz, judge my vow: naïve café, 東京 ✓ " + "x".repeat(3000);
      int[] ids = m.tokenizer().encode(text, false);
      assertTrue(ids.length > 1000, "no truncation: " + ids.length + " tokens");
      TextStream stream = new TextStream(m.tokenizer());
      StringBuilder sb = new StringBuilder();
      for (int id : ids) {
        sb.append(stream.add(id));
      }
      assertEquals(text, sb.toString());
      assertEquals(text, stream.text());
      assertNotEquals(0, m.tokenizer().encode("", true).length, "BOS is added");
    }
  }
}
