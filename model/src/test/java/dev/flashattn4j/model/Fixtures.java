package dev.flashattn4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flashattn4j.tensor.Npy;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The model directories of scripts/make_model_fixtures.py and what transformers computed. */
final class Fixtures {

  static final List<String> FAMILIES = List.of("llama", "mistral", "qwen2", "gemma2");

  static Path dir(String family) {
    return Path.of("src/test/resources/models", family);
  }

  /** One prompt: its ids, transformers' greedy continuation and tolerance. */
  record Case(int index, String prompt, int[] ids, int[] greedy, double tolerance, double gap) {}

  record Expected(List<Case> cases, int[] batchPrompts, List<int[]> batchGreedy) {}

  static Expected expected(String family) throws IOException {
    JsonNode root = new ObjectMapper().readTree(dir(family).resolve("expected.json").toFile());
    List<Case> cases = new ArrayList<>();
    int i = 0;
    for (JsonNode c : root.get("cases")) {
      cases.add(
          new Case(
              i++,
              c.get("prompt").asText(),
              ints(c.get("ids")),
              ints(c.get("greedy")),
              c.get("tolerance").asDouble(),
              c.get("min_gap").asDouble()));
    }
    List<int[]> batch = new ArrayList<>();
    for (JsonNode g : root.get("batch").get("greedy")) {
      batch.add(ints(g));
    }
    return new Expected(cases, ints(root.get("batch").get("prompts")), batch);
  }

  /** transformers' logits of prompt i followed by its continuation: (n + 32) × V, row-major. */
  static float[] logits(String family, int index) throws IOException {
    return Npy.read(dir(family).resolve("logits_" + index + ".npy")).toFloatArray();
  }

  static int[] ints(JsonNode array) {
    int[] out = new int[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asInt();
    }
    return out;
  }

  private Fixtures() {}
}
