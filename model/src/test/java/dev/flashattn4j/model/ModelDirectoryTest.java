package dev.flashattn4j.model;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.cache.PagedKvCache;
import dev.flashattn4j.tensor.Safetensors;
import dev.flashattn4j.tensor.SafetensorsEntry;
import dev.flashattn4j.tensor.SafetensorsFiles;
import dev.flashattn4j.tensor.SafetensorsFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Model directories that cannot run give one clear line, naming the file, before any weight. */
class ModelDirectoryTest {

  @TempDir Path tmp;

  /** A copy of the llama fixture's checkpoint files. */
  private Path copy() throws IOException {
    Path d = Files.createTempDirectory(tmp, "model");
    for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json"}) {
      Files.copy(Fixtures.dir("llama").resolve(f), d.resolve(f));
    }
    return d;
  }

  private static void assertOneLine(Exception e, String... fragments) {
    String m = e.getMessage();
    assertTrue(m.lines().count() == 1, m);
    for (String f : fragments) {
      assertTrue(m.contains(f), "'" + f + "' not in: " + m);
    }
  }

  private static Model load(Path d) throws IOException {
    return Model.load(d, ModelOptions.defaults().withThreads(1));
  }

  @Test
  void missingFiles() throws IOException {
    for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json"}) {
      Path d = copy();
      Files.delete(d.resolve(f));
      NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> load(d));
      assertOneLine(e, f);
    }
    assertThrows(NoSuchFileException.class, () -> load(tmp.resolve("nowhere")));
  }

  @Test
  void aTruncatedCheckpointIsRefusedByTheReader() throws IOException {
    Path d = copy();
    Path st = d.resolve("model.safetensors");
    byte[] bytes = Files.readAllBytes(st);
    Files.write(st, java.util.Arrays.copyOf(bytes, bytes.length - 100));
    SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> load(d));
    assertOneLine(e, "model.safetensors", "truncated");
  }

  /** Rewrites the checkpoint with one tensor replaced (or dropped, when bytes is null). */
  private static void rewrite(Path d, String name, String dtype, byte[] bytes, long... shape)
      throws IOException {
    Path st = d.resolve("model.safetensors");
    SafetensorsFiles w = new SafetensorsFiles();
    try (Safetensors in = Safetensors.open(st)) {
      for (SafetensorsEntry e : in.entries()) {
        if (!e.name().equals(name)) {
          w.f32(e.name(), in.floats(e.name()), e.shape());
        } else if (bytes != null) {
          w.raw(name, dtype, bytes, shape);
        }
      }
      if (!in.contains(name) && bytes != null) {
        w.raw(name, dtype, bytes, shape);
      }
    }
    w.write(st);
  }

  @Test
  void aWrongDtypeIsNamed() throws IOException {
    Path d = copy();
    rewrite(d, "model.norm.weight", "I32", new byte[64 * 4], 64);
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> load(d));
    assertOneLine(e, "model.norm.weight", "i32", "f32, bf16 or f16");
  }

  @Test
  void aCheckpointThatDoesNotMatchItsConfig() throws IOException {
    // a missing tensor
    Path d = copy();
    rewrite(d, "model.layers.1.mlp.up_proj.weight", null, null);
    assertOneLine(
        assertThrows(ModelFormatException.class, () -> load(d)),
        "model.layers.1.mlp.up_proj.weight",
        "do not match");
    // a tensor of another shape
    Path d2 = copy();
    rewrite(d2, "model.layers.0.self_attn.k_proj.weight", "F32", new byte[16 * 64 * 4], 16, 64);
    assertOneLine(
        assertThrows(ModelFormatException.class, () -> load(d2)), "k_proj", "[16, 64]", "[32, 64]");
    // a config with one layer fewer than the checkpoint
    Path d3 = copy();
    editConfig(d3, "\"num_hidden_layers\": 2", "\"num_hidden_layers\": 1");
    assertOneLine(
        assertThrows(ModelFormatException.class, () -> load(d3)),
        "num_hidden_layers is 1",
        "weights hold 2 layers");
    // a config with more heads than the tensors hold
    Path d4 = copy();
    editConfig(d4, "\"num_key_value_heads\": 2", "\"num_key_value_heads\": 4");
    assertOneLine(assertThrows(ModelFormatException.class, () -> load(d4)), "k_proj", "[64, 64]");
  }

  private static void editConfig(Path d, String from, String to) throws IOException {
    Path c = d.resolve("config.json");
    String s = Files.readString(c);
    assertTrue(s.contains(from), from);
    Files.writeString(c, s.replace(from, to));
  }

  @Test
  void configsThisModuleCannotRun() throws IOException {
    Stream.of(
            new String[] {"\"model_type\": \"llama\"", "\"model_type\": \"gpt2\"", "gpt2"},
            new String[] {"\"rope_type\": \"llama3\"", "\"rope_type\": \"yarn\"", "yarn"},
            new String[] {"\"vocab_size\": 320", "\"vocab_size\": -3", "vocab_size"},
            new String[] {"\"hidden_act\": \"silu\"", "\"hidden_act\": \"relu2\"", "relu2"},
            new String[] {"\"num_attention_heads\": 4", "\"num_attention_heads\": 3", "multiple"},
            new String[] {"{", "{,", "not valid JSON"},
            // issue 19: trailing garbage was accepted; 2^31 − 1 layers ran out of memory and 10^9
            // took 2.1 GB and 4.8 s before the error: now both against the weights' 2 layers
            new String[] {"\"model_type\"", "\"model_type\"", "not valid JSON", "} trailing"},
            new String[] {
              "\"num_hidden_layers\": 2",
              "\"num_hidden_layers\": 2147483647",
              "weights hold 2 layers"
            },
            new String[] {
              "\"num_hidden_layers\": 2",
              "\"num_hidden_layers\": 1000000000",
              "weights hold 2 layers"
            },
            new String[] {
              "\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3", "num_hidden_layers is 3"
            })
        .forEach(
            c -> {
              try {
                Path d = copy();
                editConfig(d, c[0], c[1]);
                if (c.length > 3) {
                  Files.writeString(
                      d.resolve("config.json"), c[3], java.nio.file.StandardOpenOption.APPEND);
                }
                assertOneLine(
                    assertThrows(ModelFormatException.class, () -> load(d)), "config.json", c[2]);
              } catch (IOException e) {
                throw new AssertionError(e);
              }
            });
  }

  @Test
  void aShardedCheckpointLoadsAsTheSingleFile() throws IOException {
    Path d = copy();
    Path single = d.resolve("model.safetensors");
    SafetensorsFiles a = new SafetensorsFiles();
    SafetensorsFiles b = new SafetensorsFiles();
    StringBuilder map = new StringBuilder("{\"metadata\": {}, \"weight_map\": {");
    try (Safetensors in = Safetensors.open(single)) {
      int i = 0;
      for (SafetensorsEntry e : in.entries()) {
        boolean first = e.name().contains("layers.0.") || e.name().contains("embed");
        (first ? a : b).f32(e.name(), in.floats(e.name()), e.shape());
        map.append(i++ > 0 ? ", " : "")
            .append('"')
            .append(e.name())
            .append("\": \"")
            .append(first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors")
            .append('"');
      }
    }
    a.write(d.resolve("model-00001-of-00002.safetensors"));
    b.write(d.resolve("model-00002-of-00002.safetensors"));
    Files.writeString(d.resolve("model.safetensors.index.json"), map.append("}}").toString());
    Files.delete(single);
    int[] prompt = {0, 5, 6, 7, 8};
    float[] sharded;
    float[] whole;
    try (Model m = load(d)) {
      PagedKvCache cache = m.newCache(8);
      sharded = m.forward(cache, new int[] {cache.newSequence()}, new int[][] {prompt}, true);
    }
    try (Model m = load(Fixtures.dir("llama"))) {
      PagedKvCache cache = m.newCache(8);
      whole = m.forward(cache, new int[] {cache.newSequence()}, new int[][] {prompt}, true);
    }
    org.junit.jupiter.api.Assertions.assertArrayEquals(whole, sharded);
    // an index that points outside the directory
    Files.writeString(
        d.resolve("model.safetensors.index.json"),
        "{\"weight_map\": {\"model.norm.weight\": \"../elsewhere.safetensors\"}}");
    assertOneLine(assertThrows(ModelFormatException.class, () -> load(d)), "not a file here");
    // issue 19: a shard that is a directory threw "Is a directory" (a trace through the CLI), one
    // that is a FIFO hung until killed; a missing one is named too
    Path index = d.resolve("model.safetensors.index.json");
    String oneShard = "{\"weight_map\": {\"model.norm.weight\": \"shard.safetensors\"}}";
    Files.writeString(index, oneShard);
    assertOneLine(
        assertThrows(ModelFormatException.class, () -> load(d)), "shard.safetensors", "not in");
    Files.createDirectory(d.resolve("shard.safetensors"));
    assertOneLine(assertThrows(ModelFormatException.class, () -> load(d)), "not a regular file");
    Files.delete(d.resolve("shard.safetensors"));
    Process p = new ProcessBuilder("mkfifo", d.resolve("shard.safetensors").toString()).start();
    org.junit.jupiter.api.Assumptions.assumeTrue(
        waitFor(p) && p.exitValue() == 0, "no mkfifo here");
    assertOneLine(
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
            java.time.Duration.ofSeconds(20),
            () -> assertThrows(ModelFormatException.class, () -> load(d))),
        "not a regular file");
  }

  @Test
  void aTiedHeadMustBeTheEmbedding() throws IOException {
    // issue 19: with tie_word_embeddings true, a present lm_head.weight was ignored silently
    Path d = copy();
    editConfig(d, "\"tie_word_embeddings\": false", "\"tie_word_embeddings\": true");
    assertOneLine(
        assertThrows(ModelFormatException.class, () -> load(d)),
        "lm_head.weight differs from model.embed_tokens.weight",
        "tie_word_embeddings");
    // the same bytes as the embedding (as transformers saves a tied head): loads
    float[] embed;
    long[] shape;
    try (Safetensors in = Safetensors.open(d.resolve("model.safetensors"))) {
      embed = in.floats("model.embed_tokens.weight");
      shape = in.entry("model.embed_tokens.weight").shape();
    }
    java.nio.ByteBuffer bytes =
        java.nio.ByteBuffer.allocate(embed.length * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (float x : embed) {
      bytes.putFloat(x);
    }
    rewrite(d, "lm_head.weight", "F32", bytes.array(), shape);
    try (Model m = load(d)) {
      assertTrue(m.config().tieEmbeddings());
    }
  }

  @Test
  void nonFiniteWeightsAreNamed() throws IOException {
    // issue 19: all-NaN or all-inf weights loaded and generated nothing, without a word
    for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
      Path d = copy();
      float[] w = new float[32 * 64];
      w[77] = bad;
      java.nio.ByteBuffer bytes =
          java.nio.ByteBuffer.allocate(w.length * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      for (float x : w) {
        bytes.putFloat(x);
      }
      rewrite(d, "model.layers.1.self_attn.k_proj.weight", "F32", bytes.array(), 32, 64);
      for (ModelOptions o :
          new ModelOptions[] {
            ModelOptions.defaults().withThreads(1),
            ModelOptions.defaults().withThreads(1).withWeights(WeightFormat.BFLOAT16)
          }) {
        assertOneLine(
            assertThrows(ModelFormatException.class, () -> Model.load(d, o)),
            "model.layers.1.self_attn.k_proj.weight",
            "index 77",
            "must be finite");
      }
    }
  }

  @Test
  void gemmaSoftCapsMustBePositive() throws IOException {
    // issue 19: a cap of 0 was accepted (no cap here, a division by zero in transformers)
    for (String bad : new String[] {"0", "0.0", "-2"}) {
      Path d = Files.createTempDirectory(tmp, "gemma");
      for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json"}) {
        Files.copy(Fixtures.dir("gemma2").resolve(f), d.resolve(f));
      }
      editConfig(d, "\"attn_logit_softcapping\": 2.0", "\"attn_logit_softcapping\": " + bad);
      assertOneLine(
          assertThrows(ModelFormatException.class, () -> load(d)),
          "config.json",
          "attn_logit_softcapping");
    }
  }

  @Test
  void aTokenizerWhoseIdsPassTheVocabularyIsRefusedAtLoad() throws IOException {
    // issue 19: an IllegalStateException (a trace through the CLI) at the first encode
    Path d = copy();
    Path t = d.resolve("tokenizer.json");
    String s = Files.readString(t);
    assertTrue(s.contains("\"id\": 0,"));
    Files.writeString(t, s.replaceFirst("\"id\": 0,", "\"id\": 5000,"));
    assertOneLine(
        assertThrows(ModelFormatException.class, () -> load(d)),
        "tokenizer.json",
        "token id 5000",
        "vocabulary of 320");
  }

  private static boolean waitFor(Process p) {
    try {
      return p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
