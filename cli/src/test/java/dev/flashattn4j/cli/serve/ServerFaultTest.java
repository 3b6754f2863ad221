package dev.flashattn4j.cli.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.model.Model;
import dev.flashattn4j.model.ModelOptions;
import dev.flashattn4j.model.Scheduler;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Issue 21: nothing lost under load and faults. 64 streaming clients of 4 requests each, a third of
 * the requests hung up at a random token: every response read to its end is whole (its events, one
 * finish reason, [DONE], the usage's token count), and once the clients are gone every page is back
 * in the free list (all of them once the kept prompts are let go). The minute-long run on the bench
 * model is {@code ./flashattn bench-serve --clients 64 --seconds 60 --disconnect 0.3} (see
 * docs/SERVING.md).
 */
class ServerFaultTest {

  @Test
  void sixtyFourClientsThatHangUpAtRandomLoseNothing() throws Exception {
    try (Model model =
            Model.load(
                Path.of("../model/src/test/resources/models/llama"),
                ModelOptions.defaults().withThreads(2));
        OpenAiServer server =
            new OpenAiServer(
                model,
                "tiny",
                Scheduler.Options.defaults().withCacheTokens(4096).withMaxRunning(24),
                "127.0.0.1",
                0)) {
      server.start();
      LoadTest.Result r =
          LoadTest.run(new LoadTest.Plan(server.baseUri(), "tiny", 64, 4, 0, 12, 48, 0.3, 21));
      assertEquals(0, r.failed(), "problems: " + r.problems());
      assertEquals(64 * 4, r.completed() + r.disconnected(), "every request ended one way");
      assertTrue(r.disconnected() > 30, "hung up " + r.disconnected());
      Scheduler.Stats st = OpenAiServerTest.awaitIdle(server.scheduler());
      assertEquals(0, st.running());
      assertEquals(0, st.waiting());
      assertEquals(st.capacityPages() - st.prefixPages(), st.freePages());
      server.scheduler().forgetPrefixes();
      long end = System.nanoTime() + 10_000_000_000L;
      while (server.scheduler().stats().freePages() != st.capacityPages()
          && System.nanoTime() < end) {
        Thread.sleep(10);
      }
      assertEquals(st.capacityPages(), server.scheduler().stats().freePages(), "every page");
    }
  }
}
