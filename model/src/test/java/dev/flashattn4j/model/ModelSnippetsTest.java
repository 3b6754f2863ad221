package dev.flashattn4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The examples in the model module's javadoc and in docs/FIRST_HOUR.md ({@code {@snippet file=...}}
 * pulls the regions of this file in), compiled by the build and run here.
 */
class ModelSnippetsTest {

  @Test
  void generate() throws IOException {
    Path dir = Fixtures.dir("llama");
    List<Integer> streamed = new ArrayList<>();
    // @start region="generate"
    try (Model model = Model.load(dir, ModelOptions.defaults().withThreads(2));
        Session chat = model.newSession(model.config().maxPositions())) {
      int[] prompt = model.tokenizer().encode("Hello, world", true);
      chat.append(prompt); // the prefill: the whole prompt in one forward pass
      int[] reply = chat.generate(8, Sampler.greedy(), streamed::add); // one decode step a token
      String text = model.tokenizer().decode(reply, true);
      // @end
      assertEquals(streamed.size(), reply.length);
      assertTrue(reply.length >= 1 && reply.length <= 8);
      assertTrue(text != null);
    }
  }

  @Test
  void forkedSessionsShareTheirPrefix() throws IOException {
    Path dir = Fixtures.dir("llama");
    try (Model model = Model.load(dir, ModelOptions.defaults().withThreads(1))) {
      // @start region="fork"
      Session base = model.newSession(256);
      base.append(model.tokenizer().encode("Once upon a time", true));
      Session a = base.fork(); // shares the prompt's pages: nothing is copied
      Session b = base.fork();
      int[] first = a.generate(4, Sampler.greedy(), token -> {});
      int[] second = b.generate(4, Sampler.greedy(), token -> {});
      // @end
      assertArrayEquals(first, second, "greedy continuations of one prefix are equal");
      a.close();
      b.close();
      base.close();
    }
  }

  @Test
  void schedulerServesManyRequestsTogether() throws Exception {
    Path dir = Fixtures.dir("llama");
    try (Model model = Model.load(dir, ModelOptions.defaults().withThreads(2))) {
      List<java.util.concurrent.CompletableFuture<String>> replies = new ArrayList<>();
      // @start region="scheduler"
      try (Scheduler scheduler = new Scheduler(model, Scheduler.Options.defaults())) {
        for (String prompt : List.of("Hello", "Once upon a time", "The weather today")) {
          var reply = new java.util.concurrent.CompletableFuture<String>();
          TextStream text = new TextStream(model.tokenizer());
          StringBuilder out = new StringBuilder();
          int[] ids = model.tokenizer().encode(prompt, true);
          scheduler.submit(
              new Scheduler.Request(ids, 16, Sampler.greedy(), false),
              new Scheduler.Listener() { // called between steps: hand the token on, never block
                @Override
                public void onToken(int token) {
                  out.append(text.add(token));
                }

                @Override
                public void onFinish(Scheduler.Finish finish) {
                  reply.complete(out.append(text.finish()).toString());
                }
              });
          replies.add(reply);
        }
        for (var reply : replies) {
          System.out.println(reply.get()); // the three were generated in the same steps
        }
      }
      // @end
      assertEquals(3, replies.size());
    }
  }
}
