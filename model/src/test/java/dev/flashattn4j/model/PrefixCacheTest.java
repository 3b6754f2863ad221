package dev.flashattn4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.cache.PagedKvCache;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/**
 * Issue 21: a prompt served with prefix caching gives the same tokens as without (its logits within
 * 1e-4 of the largest: the prompt's new rows attend through the decode kernel over the cached
 * prefix, not the forward kernel), and shares the prefix's pages instead of computing and storing
 * them again.
 */
class PrefixCacheTest {

  private static final int[] SYSTEM = {1, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23};

  private static int[] prompt(int... question) {
    int[] p = java.util.Arrays.copyOf(SYSTEM, SYSTEM.length + question.length);
    System.arraycopy(question, 0, p, SYSTEM.length, question.length);
    return p;
  }

  @Test
  void aSharedPrefixIsReusedAndChangesNoBit() throws IOException {
    for (String family : new String[] {"llama", "gemma2"}) {
      try (Model m = Model.load(Fixtures.dir(family), ModelOptions.defaults().withThreads(2))) {
        PagedKvCache cache = m.newCache(1024);
        try (PrefixCache prefixes = new PrefixCache(m, cache, 4)) {
          int[][] prompts = {prompt(40, 41), prompt(50), prompt(40, 41, 42, 43), SYSTEM};
          for (int[] p : prompts) {
            int before = cache.freePages();
            try (Session cached = prefixes.start(p);
                Session alone = m.newSession(256)) {
              alone.append(p);
              // the new rows attend through the decode kernel over the cached prefix instead of
              // the forward kernel over the whole prompt: the same keys, another summation order
              float[] x = alone.lastLogits();
              float[] y = cached.lastLogits();
              double max = 0;
              double err = 0;
              for (int i = 0; i < x.length; i++) {
                max = Math.max(max, Math.abs(x[i]));
                err = Math.max(err, Math.abs(x[i] - y[i]));
              }
              assertTrue(
                  err <= 1e-4 * max, family + ": logits " + err + " apart (max " + max + ")");
              int[] a = alone.generate(6, Sampler.greedy(), t -> {});
              int[] b = cached.generate(6, Sampler.greedy(), t -> {});
              assertArrayEquals(a, b, family + ": the greedy continuation");
              assertTrue(cache.freePages() <= before, "the cache only holds more");
            }
          }
          // every prompt after the first shares the 14-token system prompt (the last one all but
          // its last token)
          assertEquals(3, prefixes.hits());
          assertTrue(prefixes.reusedTokens() >= 3 * 13, "reused: " + prefixes.reusedTokens());
        }
        assertEquals(cache.capacityPages(), cache.freePages(), "closing it frees every page");
      }
    }
  }

  @Test
  void theLeastRecentlyUsedPromptIsLetGoAndBadArgumentsAreRefused() throws IOException {
    try (Model m = Model.load(Fixtures.dir("llama"), ModelOptions.defaults().withThreads(1))) {
      PagedKvCache cache = m.newCache(512);
      try (PrefixCache prefixes = new PrefixCache(m, cache, 2)) {
        for (int i = 0; i < 5; i++) {
          prefixes.start(new int[] {1, 100 + i, 101 + i}).close();
        }
        assertEquals(2, prefixes.size());
        assertThrows(IllegalArgumentException.class, () -> prefixes.start(new int[0]));
        assertThrows(IllegalArgumentException.class, () -> prefixes.remember(m.newSession(16)));
      }
      assertThrows(IllegalArgumentException.class, () -> new PrefixCache(m, cache, 0));
      assertEquals(cache.capacityPages(), cache.freePages());
    }
  }
}
