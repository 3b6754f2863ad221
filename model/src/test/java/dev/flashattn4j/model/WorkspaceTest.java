package dev.flashattn4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.flashattn4j.cache.PagedKvCache;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The steps into a workspace and the caller's logits give the bits of the steps that allocate,
 * whatever the workspace held before; bad arrays change nothing; sessions on threads of their own
 * share a model.
 */
class WorkspaceTest {

  private static final int[] PROMPT = {0, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49};
  private static final int[] OTHER = {0, 7, 8, 9};

  private static Model load(int threads) throws IOException {
    return Model.load(Fixtures.dir("gemma2"), ModelOptions.defaults().withThreads(threads));
  }

  @Test
  void stepsIntoAWorkspaceGiveTheBitsOfFreshSteps() throws IOException {
    try (Model m = load(2)) {
      int v = m.config().vocabSize();
      PagedKvCache fresh = m.newCache(400);
      PagedKvCache reused = m.newCache(400);
      // keeps 4 rows: the prompts run on buffers of their own, the decoding steps on its own
      ForwardWorkspace workspace = m.newWorkspace(4);
      int[][][] steps = {
        {PROMPT, OTHER}, {{5, 6}, {7}}, {{8}, {9}}, {{10}, {11}}, {{12, 13, 14}, {15, 16, 17}}
      };
      int[] a = {fresh.newSequence(), fresh.newSequence()};
      int[] b = {reused.newSequence(), reused.newSequence()};
      float[] logits = new float[40 * v];
      for (int[][] step : steps) {
        for (boolean all : new boolean[] {true, false}) {
          if (!all) {
            step = new int[][] {{step[0][0] % 7 + 20}, {step[1][0] % 5 + 30}};
          }
          float[] want = m.forward(fresh, a, step, all);
          Arrays.fill(logits, 42f);
          m.forward(reused, b, step, all, logits, workspace);
          assertArrayEquals(want, Arrays.copyOf(logits, want.length));
          assertEquals(42f, logits[want.length], "past the rows: untouched");
        }
      }
    }
  }

  @Test
  void aShortLogitsArrayOrAnotherModelsWorkspaceChangeNothing() throws IOException {
    try (Model m = load(1);
        Model other = load(1)) {
      PagedKvCache cache = m.newCache(64);
      int seq = cache.newSequence();
      int v = m.config().vocabSize();
      int[] ids = {seq};
      int[][] tokens = {PROMPT};
      ForwardWorkspace mine = m.newWorkspace();
      assertThrows(
          IllegalArgumentException.class,
          () -> m.forward(cache, ids, tokens, true, new float[PROMPT.length * v - 1], mine));
      assertThrows(
          IllegalArgumentException.class, () -> m.forward(cache, ids, tokens, false, null, mine));
      assertThrows(
          IllegalArgumentException.class,
          () -> m.forward(cache, ids, tokens, false, new float[v], other.newWorkspace()));
      assertThrows(IllegalArgumentException.class, () -> m.newWorkspace(0));
      assertEquals(0, cache.length(seq));
      m.forward(cache, ids, tokens, false, new float[v], mine);
      assertEquals(PROMPT.length, cache.length(seq));
    }
  }

  @Test
  void nextPicksTheTokensOfGenerateAndSessionsRunOnThreadsOfTheirOwn() throws Exception {
    try (Model m = load(2)) {
      Session alone = m.newSession(256);
      alone.append(PROMPT);
      int[] want = alone.generate(20, Sampler.greedy(), t -> {});
      float[] wantLogits = alone.lastLogits();
      Thread[] threads = new Thread[3];
      Throwable[] failures = new Throwable[threads.length];
      for (int i = 0; i < threads.length; i++) {
        int index = i;
        threads[i] =
            Thread.ofPlatform()
                .start(
                    () -> {
                      try {
                        for (int round = 0; round < 5; round++) {
                          Session s = m.newSession(256);
                          s.append(PROMPT);
                          int[] got = new int[want.length];
                          for (int t = 0; t < got.length; t++) {
                            got[t] = s.next(Sampler.greedy());
                          }
                          assertArrayEquals(want, got);
                          assertArrayEquals(wantLogits, s.lastLogits());
                          s.close();
                        }
                      } catch (Throwable t) {
                        failures[index] = t;
                      }
                    });
      }
      for (int i = 0; i < threads.length; i++) {
        threads[i].join();
        if (failures[i] != null) {
          throw new AssertionError("thread " + i, failures[i]);
        }
      }
      // the batch generator: each prompt as alone
      List<int[]> batch = m.generate(List.of(PROMPT, OTHER), 20, Sampler.greedy());
      assertArrayEquals(want, batch.get(0));
    }
  }
}
