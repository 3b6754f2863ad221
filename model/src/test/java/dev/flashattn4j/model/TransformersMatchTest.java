package dev.flashattn4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.cache.PagedKvCache;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every family against transformers 5.18 (float32, eager attention), from the checkpoints of
 * scripts/make_model_fixtures.py: the tokenizer's ids, the logits at every position (the prompt's
 * through prefill, the continuation's through decoding steps on the paged cache), greedy
 * continuations of 32 tokens, and a batch of prompts of different lengths.
 */
class TransformersMatchTest {

  private static Model load(String family) throws IOException {
    return Model.load(Fixtures.dir(family), ModelOptions.defaults().withThreads(2));
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama", "mistral", "qwen2", "gemma2"})
  void tokenizerGivesThePythonTokenizersIds(String family) throws IOException {
    try (Model model = load(family)) {
      for (Fixtures.Case c : Fixtures.expected(family).cases()) {
        assertArrayEquals(c.ids(), model.tokenizer().encode(c.prompt(), true), c.prompt());
        String text = model.tokenizer().decode(c.ids(), true);
        assertEquals(c.prompt(), text);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama", "mistral", "qwen2", "gemma2"})
  void logitsMatchAtEveryPositionOfPrefillAndDecode(String family) throws IOException {
    try (Model model = load(family)) {
      int vocab = model.config().vocabSize();
      int checked = 0;
      for (Fixtures.Case c : Fixtures.expected(family).cases()) {
        float[] want = Fixtures.logits(family, c.index());
        int n = c.ids().length;
        assertEquals((n + c.greedy().length) * vocab, want.length);
        PagedKvCache cache = model.newCache(n + c.greedy().length);
        int seq = cache.newSequence();
        float[] prefill = model.forward(cache, new int[] {seq}, new int[][] {c.ids()}, true);
        double worst = compare(prefill, 0, want, 0, n * vocab, c, "prefill");
        // teacher forcing: transformers' own continuation, one decoding step per token
        for (int i = 0; i < c.greedy().length; i++) {
          float[] step =
              model.forward(cache, new int[] {seq}, new int[][] {{c.greedy()[i]}}, false);
          worst = Math.max(worst, compare(step, 0, want, (n + i) * vocab, vocab, c, "step " + i));
          checked++;
        }
        assertTrue(worst <= c.tolerance());
        checked += n;
      }
      assertTrue(checked > 200, checked + " positions");
    }
  }

  private static double compare(
      float[] got, int gotAt, float[] want, int wantAt, int count, Fixtures.Case c, String where) {
    double worst = 0;
    for (int i = 0; i < count; i++) {
      double err = Math.abs((double) got[gotAt + i] - want[wantAt + i]);
      if (!(err <= c.tolerance())) {
        throw new AssertionError(
            "prompt "
                + c.index()
                + " "
                + where
                + ": logit "
                + i
                + " is "
                + got[gotAt + i]
                + ", transformers "
                + want[wantAt + i]
                + " (error "
                + err
                + " > "
                + c.tolerance()
                + ")");
      }
      worst = Math.max(worst, err);
    }
    return worst;
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama", "mistral", "qwen2", "gemma2"})
  void greedyContinuationsMatchFor32Tokens(String family) throws IOException {
    try (Model model = load(family)) {
      for (Fixtures.Case c : Fixtures.expected(family).cases()) {
        assertTrue(c.gap() >= 1e-3, "the fixture's top-1/top-2 gap " + c.gap());
        Session s = model.newSession(c.ids().length + 40);
        s.append(c.ids());
        List<Integer> streamed = new ArrayList<>();
        int[] got = s.generate(c.greedy().length, Sampler.greedy(), streamed::add);
        int eos = indexOfEos(model, c.greedy());
        // Session.generate stops after an EOS; transformers was run without one
        int[] want = eos < 0 ? c.greedy() : java.util.Arrays.copyOf(c.greedy(), eos + 1);
        assertArrayEquals(want, got, "prompt " + c.index());
        assertEquals(want.length, streamed.size());
        assertEquals(c.ids().length + want.length, s.length());
      }
    }
  }

  private static int indexOfEos(Model model, int[] tokens) {
    for (int i = 0; i < tokens.length; i++) {
      if (model.config().isEos(tokens[i])) {
        return i;
      }
    }
    return -1;
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama", "mistral", "qwen2", "gemma2"})
  void aBatchOfPromptsIsTheirRunsOneByOne(String family) throws IOException {
    try (Model model = load(family)) {
      Fixtures.Expected e = Fixtures.expected(family);
      List<int[]> prompts = new ArrayList<>();
      for (int i : e.batchPrompts()) {
        prompts.add(e.cases().get(i).ids());
      }
      // transformers' padded batch, and our packed one (varlen prefill, batched decode)
      List<int[]> batch = model.generate(prompts, 32, Sampler.greedy());
      for (int b = 0; b < prompts.size(); b++) {
        int[] want = e.batchGreedy().get(b);
        int eos = indexOfEos(model, want);
        assertArrayEquals(
            eos < 0 ? want : java.util.Arrays.copyOf(want, eos + 1), batch.get(b), "sequence " + b);
        List<int[]> alone = model.generate(List.of(prompts.get(b)), 32, Sampler.greedy());
        assertArrayEquals(alone.get(0), batch.get(b));
      }
      // the same bits: every logit of a packed prefill equals the one of each prompt alone
      PagedKvCache cache = model.newCache(1024);
      int[] ids = new int[prompts.size()];
      for (int b = 0; b < ids.length; b++) {
        ids[b] = cache.newSequence();
      }
      float[] packed = model.forward(cache, ids, prompts.toArray(new int[0][]), true);
      int vocab = model.config().vocabSize();
      int row = 0;
      for (int[] p : prompts) {
        PagedKvCache one = model.newCache(p.length);
        int seq = one.newSequence();
        float[] alone = model.forward(one, new int[] {seq}, new int[][] {p}, true);
        for (int i = 0; i < alone.length; i++) {
          assertEquals(
              Float.floatToRawIntBits(alone[i]),
              Float.floatToRawIntBits(packed[row * vocab + i]),
              "row " + (row + i / vocab));
        }
        row += p.length;
      }
    }
  }
}
