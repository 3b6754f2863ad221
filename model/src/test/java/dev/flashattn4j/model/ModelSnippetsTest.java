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
}
