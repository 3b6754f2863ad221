package example;

import dev.flashattn4j.model.Model;
import dev.flashattn4j.model.ModelOptions;
import dev.flashattn4j.model.Sampler;
import dev.flashattn4j.model.Session;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Uses the model module as a user's program would: loads a Hugging Face checkpoint, encodes a
 * prompt and generates greedy tokens. Sets no system property: the module is offline and quiet by
 * itself. Exits 1 when nothing was generated.
 */
public final class ModelConsumer {

  private ModelConsumer() {}

  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0]);
    try (Model model = Model.load(dir, ModelOptions.defaults().withThreads(2));
        Session chat = model.newSession(64)) {
      chat.append(model.tokenizer().encode("Hello", true));
      int[] reply = chat.generate(4, Sampler.greedy(), token -> {});
      if (reply.length == 0) {
        System.out.println("FAILED: no token");
        System.exit(1);
      }
      System.out.println(
          "OK: " + reply.length + " greedy tokens from " + model.config().layers() + " layers");
    }
  }
}
