package dev.flashattn4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 21: continuous batching. Requests that join and leave between steps, prefilled in chunks
 * beside the others' decoding tokens, get the greedy tokens they get alone; a cancelled request and
 * a finished one give back every page; a request the model cannot hold is refused at once.
 */
class SchedulerTest {

  /** What a listener heard. */
  static class Collected implements Scheduler.Listener {
    final List<Integer> tokens = new ArrayList<>();
    final CompletableFuture<Scheduler.Finish> finish = new CompletableFuture<>();

    @Override
    public void onToken(int token) {
      tokens.add(token);
    }

    @Override
    public void onFinish(Scheduler.Finish f) {
      finish.complete(f);
    }

    int[] tokens() throws Exception {
      finish.get(60, TimeUnit.SECONDS);
      return tokens.stream().mapToInt(Integer::intValue).toArray();
    }
  }

  private static int[] randomPrompt(SplittableRandom r, int length, int vocab) {
    int[] p = new int[length];
    p[0] = 1;
    for (int i = 1; i < length; i++) {
      p[i] = 3 + r.nextInt(vocab - 3);
    }
    return p;
  }

  /**
   * Twelve requests of 1 to 90 prompt tokens arrive over time into a batch of at most 5 with 24
   * tokens a step (so prompts are prefilled in chunks beside decoding tokens): each gets the tokens
   * greedy decoding gives it alone.
   */
  @ParameterizedTest
  @ValueSource(strings = {"llama", "qwen2", "gemma2"})
  void requestsServedTogetherGetTheirOwnTokens(String family) throws Exception {
    try (Model m = Model.load(Fixtures.dir(family), ModelOptions.defaults().withThreads(2))) {
      SplittableRandom r = new SplittableRandom(family.hashCode());
      int vocab = m.config().vocabSize();
      int n = 12;
      int[][] prompts = new int[n][];
      int[] maxNew = new int[n];
      for (int i = 0; i < n; i++) {
        prompts[i] = randomPrompt(r, 1 + r.nextInt(90), vocab);
        maxNew[i] = 1 + r.nextInt(12);
      }
      Scheduler.Options o =
          Scheduler.Options.defaults()
              .withCacheTokens(2048)
              .withMaxRunning(5)
              .withStepTokens(24)
              .withPrefixEntries(0);
      Collected[] heard = new Collected[n];
      try (Scheduler s = new Scheduler(m, o)) {
        for (int i = 0; i < n; i++) {
          heard[i] = new Collected();
          s.submit(new Scheduler.Request(prompts[i], maxNew[i], Sampler.greedy(), true), heard[i]);
          if (i % 3 == 2) {
            Thread.sleep(5); // some join while others run
          }
        }
        for (int i = 0; i < n; i++) {
          int[] alone = m.generate(List.of(prompts[i]), maxNew[i], Sampler.greedy()).get(0);
          // generate stops at EOS; the request ignores it: compare up to the first EOS
          int[] got = heard[i].tokens();
          assertArrayEquals(
              alone, java.util.Arrays.copyOf(got, alone.length), family + " request " + i);
          Scheduler.Finish f = heard[i].finish.get();
          assertEquals(Scheduler.FinishReason.LENGTH, f.reason());
          assertEquals(maxNew[i], f.generatedTokens());
        }
        Scheduler.Stats st = awaitIdle(s);
        assertEquals(st.capacityPages(), st.freePages(), "every page is back");
        assertTrue(st.steps() > 0);
      }
    }
  }

  /**
   * Lets the kept prompts go and returns the stats once the scheduler's thread has done it (its
   * prefix entries at 0), or after 30 s.
   */
  static Scheduler.Stats forgotten(Scheduler s) throws InterruptedException {
    s.forgetPrefixes();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (s.stats().prefixEntries() > 0 && System.nanoTime() < end) {
      Thread.sleep(2);
    }
    return s.stats();
  }

  /** The scheduler's thread publishes its stats after the step; wait for the last one. */
  static Scheduler.Stats awaitIdle(Scheduler s) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    Scheduler.Stats st = s.stats();
    while ((st.running() > 0 || st.waiting() > 0) && System.nanoTime() < end) {
      Thread.sleep(2);
      st = s.stats();
    }
    Thread.sleep(20);
    return s.stats();
  }

  @Test
  void aRepeatedPromptPrefixIsComputedOnceAndGivesTheSameTokens() throws Exception {
    try (Model m = Model.load(Fixtures.dir("llama"), ModelOptions.defaults().withThreads(2))) {
      int[] system = randomPrompt(new SplittableRandom(7), 40, m.config().vocabSize());
      int[] a = java.util.Arrays.copyOf(system, 44);
      int[] b = java.util.Arrays.copyOf(system, 47);
      a[40] = 100;
      b[40] = 200;
      try (Scheduler s = new Scheduler(m, Scheduler.Options.defaults().withCacheTokens(1024))) {
        Collected first = new Collected();
        s.submit(new Scheduler.Request(a, 8, Sampler.greedy(), true), first);
        first.tokens();
        Collected second = new Collected();
        s.submit(new Scheduler.Request(b, 8, Sampler.greedy(), true), second);
        int[] got = second.tokens();
        assertEquals(40, second.finish.get().cachedTokens(), "the shared 40 tokens");
        int[] alone = m.generate(List.of(b), 8, Sampler.greedy()).get(0);
        assertArrayEquals(alone, java.util.Arrays.copyOf(got, alone.length));
        Collected again = new Collected();
        s.submit(new Scheduler.Request(b, 8, Sampler.greedy(), true), again);
        assertArrayEquals(got, again.tokens());
        assertEquals(b.length - 1, again.finish.get().cachedTokens(), "all but the last token");
        Scheduler.Stats st = awaitIdle(s);
        assertEquals(2, st.prefixEntries());
        assertEquals(st.capacityPages() - st.prefixPages(), st.freePages(), "only kept pages held");
        assertEquals(st.capacityPages(), forgotten(s).freePages(), "forgotten, every page is back");
      }
    }
  }

  /**
   * Requests cancelled at random moments, listeners that throw, and a cache so small that most
   * requests wait for pages: every request ends once, the others' tokens are still their own, and
   * every page comes back.
   */
  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3})
  void cancelledAndFailingRequestsGiveBackTheirPages(int seed) throws Exception {
    try (Model m = Model.load(Fixtures.dir("llama"), ModelOptions.defaults().withThreads(2))) {
      SplittableRandom r = new SplittableRandom(seed);
      int vocab = m.config().vocabSize();
      Scheduler.Options o =
          Scheduler.Options.defaults().withCacheTokens(320).withMaxRunning(4).withStepTokens(32);
      int n = 24;
      try (Scheduler s = new Scheduler(m, o)) {
        List<Collected> kept = new ArrayList<>();
        List<int[]> keptPrompts = new ArrayList<>();
        List<CompletableFuture<Scheduler.Finish>> all = new ArrayList<>();
        AtomicInteger thrown = new AtomicInteger();
        for (int i = 0; i < n; i++) {
          int[] p = randomPrompt(r, 1 + r.nextInt(60), vocab);
          int kind = r.nextInt(3);
          Collected c =
              kind != 2
                  ? new Collected()
                  : new Collected() {
                    @Override
                    public void onToken(int token) {
                      super.onToken(token);
                      if (tokens.size() == 3) {
                        thrown.incrementAndGet();
                        throw new IllegalStateException("the client went away");
                      }
                    }
                  };
          Scheduler.Handle h = s.submit(new Scheduler.Request(p, 10, Sampler.greedy(), true), c);
          all.add(c.finish);
          if (kind == 1) {
            Thread.sleep(r.nextInt(4));
            h.cancel();
          } else if (kind == 0) {
            kept.add(c);
            keptPrompts.add(p);
          }
        }
        for (CompletableFuture<Scheduler.Finish> f : all) {
          f.get(60, TimeUnit.SECONDS);
        }
        for (int i = 0; i < kept.size(); i++) {
          int[] alone = m.generate(List.of(keptPrompts.get(i)), 10, Sampler.greedy()).get(0);
          int[] got = kept.get(i).tokens();
          assertEquals(10, got.length);
          assertArrayEquals(alone, java.util.Arrays.copyOf(got, alone.length));
        }
        Scheduler.Stats st = awaitIdle(s);
        assertEquals(n, st.finished());
        assertEquals(st.capacityPages(), forgotten(s).freePages(), "every page is back");
      }
    }
  }

  /**
   * A cache too small for the running requests' answers: the youngest are preempted (their pages
   * freed, their prompt and tokens prefilled again later), and every request still gets the greedy
   * tokens it gets alone.
   */
  @ParameterizedTest
  @ValueSource(ints = {11, 12, 13})
  void preemptedRequestsResumeWithTheirOwnTokens(int seed) throws Exception {
    try (Model m = Model.load(Fixtures.dir("llama"), ModelOptions.defaults().withThreads(2))) {
      SplittableRandom r = new SplittableRandom(seed);
      int vocab = m.config().vocabSize();
      int page = m.options().pageSize();
      // room for two or three requests' answers at once, six asked
      Scheduler.Options o =
          Scheduler.Options.defaults()
              .withCacheTokens(12 * page)
              .withMaxRunning(6)
              .withStepTokens(40)
              .withPrefixEntries(2)
              .withHorizonTokens(page / 2);
      int n = 6;
      int[][] prompts = new int[n][];
      Collected[] heard = new Collected[n];
      int maxNew = 3 * page;
      try (Scheduler s = new Scheduler(m, o)) {
        for (int i = 0; i < n; i++) {
          prompts[i] = randomPrompt(r, 1 + r.nextInt(page), vocab);
          heard[i] = new Collected();
          s.submit(new Scheduler.Request(prompts[i], maxNew, Sampler.greedy(), true), heard[i]);
        }
        for (int i = 0; i < n; i++) {
          int[] alone = m.generate(List.of(prompts[i]), maxNew, Sampler.greedy()).get(0);
          int[] got = heard[i].tokens();
          assertEquals(maxNew, got.length);
          assertArrayEquals(alone, java.util.Arrays.copyOf(got, alone.length), "request " + i);
        }
        Scheduler.Stats st = awaitIdle(s);
        assertTrue(st.preempted() > 0, "the cache was too small: someone was preempted");
        assertEquals(st.capacityPages(), forgotten(s).freePages(), "every page is back");
      }
    }
  }

  /**
   * A kept prompt that fills most of the cache is reused, not let go, by a request that repeats it:
   * only the pages it does not share are needed.
   */
  @Test
  void aLongKeptPromptIsReusedInAFullCache() throws Exception {
    try (Model m = Model.load(Fixtures.dir("llama"), ModelOptions.defaults().withThreads(2))) {
      int page = m.options().pageSize();
      int[] prompt = randomPrompt(new SplittableRandom(5), 13 * page - 3, m.config().vocabSize());
      try (Scheduler s =
          new Scheduler(m, Scheduler.Options.defaults().withCacheTokens(20 * page))) {
        Collected first = new Collected();
        s.submit(new Scheduler.Request(prompt, 4, Sampler.greedy(), true), first);
        int[] a = first.tokens();
        Collected again = new Collected();
        s.submit(new Scheduler.Request(prompt, 4, Sampler.greedy(), true), again);
        assertArrayEquals(a, again.tokens());
        assertEquals(prompt.length - 1, again.finish.get().cachedTokens(), "the kept prompt");
      }
    }
  }

  @Test
  void requestsTheModelCannotHoldAreRefusedAtOnce() throws IOException {
    try (Model m = Model.load(Fixtures.dir("llama"), ModelOptions.defaults().withThreads(1));
        Scheduler s = new Scheduler(m, Scheduler.Options.defaults().withCacheTokens(256))) {
      int positions = m.config().maxPositions();
      Collected c = new Collected();
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  s.submit(
                      new Scheduler.Request(new int[positions], 1, Sampler.greedy(), false), c));
      assertTrue(e.getMessage().contains("max_position_embeddings"), e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () -> s.submit(new Scheduler.Request(new int[200], 50, Sampler.greedy(), false), c));
      assertTrue(e.getMessage().contains("pages"), e.getMessage());
      assertThrows(
          IllegalArgumentException.class,
          () -> s.submit(new Scheduler.Request(new int[] {-1}, 1, Sampler.greedy(), false), c));
      assertThrows(
          IllegalArgumentException.class, () -> new Scheduler.Request(new int[0], 1, null, false));
      assertThrows(
          IllegalArgumentException.class, () -> Scheduler.Options.defaults().withMaxRunning(600));
    }
  }

  @Test
  void closingEndsEveryRequestAndRefusesNewOnes() throws Exception {
    try (Model m = Model.load(Fixtures.dir("llama"), ModelOptions.defaults().withThreads(1))) {
      Scheduler s = new Scheduler(m, Scheduler.Options.defaults().withCacheTokens(4096));
      List<Collected> heard = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        Collected c = new Collected();
        s.submit(new Scheduler.Request(new int[] {1, 5 + i}, 200, Sampler.greedy(), true), c);
        heard.add(c);
      }
      s.close();
      for (Collected c : heard) {
        assertTrue(c.finish.isDone(), "every request heard its end");
      }
      assertEquals(s.stats().capacityPages(), s.stats().freePages());
      assertThrows(
          IllegalStateException.class,
          () ->
              s.submit(
                  new Scheduler.Request(new int[] {1}, 1, Sampler.greedy(), false), heard.get(0)));
      s.close();
    }
  }
}
