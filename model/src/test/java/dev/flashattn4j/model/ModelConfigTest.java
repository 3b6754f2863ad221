package dev.flashattn4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config.json in the forms transformers 4 and 5 write, with the families' defaults. */
class ModelConfigTest {

  @TempDir Path tmp;

  private ModelConfig read(String json) throws IOException {
    Path f = Files.writeString(tmp.resolve("config.json"), json);
    return ModelConfig.read(f);
  }

  private static final String SIZES =
      "\"vocab_size\": 100, \"hidden_size\": 32, \"intermediate_size\": 64,"
          + " \"num_hidden_layers\": 4, \"num_attention_heads\": 4";

  @Test
  void transformers4LlamaWithLlama3RopeScalingAndAnEosList() throws IOException {
    ModelConfig c =
        read(
            "{\"model_type\": \"llama\", "
                + SIZES
                + ", \"num_key_value_heads\": 2, \"rope_theta\": 500000.0, \"rope_scaling\":"
                + " {\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0,"
                + " \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192},"
                + " \"eos_token_id\": [7, 9], \"bos_token_id\": 3}");
    assertEquals(ModelFamily.LLAMA, c.family());
    assertEquals(8, c.headDim());
    assertTrue(c.rope().isLlama3());
    assertEquals(500000.0, c.rope().theta());
    assertEquals(8192, c.rope().originalMaxPositions());
    assertArrayEquals(new int[] {7, 9}, c.eosTokens());
    assertTrue(c.isEos(9));
    assertEquals(3, c.bosToken());
    assertFalse(c.tieEmbeddings());
    assertEquals((float) (1 / Math.sqrt(8)), c.queryScale());
  }

  /** generation_config.json's EOS tokens (an instruct model's end of turn) stop generation too. */
  @Test
  void generationConfigAddsItsEosTokens() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("gen"));
    Files.copy(Fixtures.dir("llama").resolve("config.json"), dir.resolve("config.json"));
    int[] before = ModelConfig.read(dir.resolve("config.json")).eosTokens();
    Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": [2, 7, 9]}");
    ModelConfig c = ModelConfig.read(dir.resolve("config.json"));
    assertTrue(c.isEos(7) && c.isEos(9));
    for (int e : before) {
      assertTrue(c.isEos(e), "the config's own stay");
    }
    Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": \"x\"}");
    org.junit.jupiter.api.Assertions.assertThrows(
        ModelFormatException.class, () -> ModelConfig.read(dir.resolve("config.json")));
  }

  @Test
  void llama3ScalingDividesLowFrequenciesAndKeepsHighOnes() {
    RopeScaling plain = RopeScaling.plain(500000);
    RopeScaling l3 = new RopeScaling(500000, "llama3", 8, 1, 4, 64);
    float[] p = plain.inverseFrequencies(16);
    float[] s = l3.inverseFrequencies(16);
    int kept = 0;
    int divided = 0;
    int smoothed = 0;
    for (int i = 0; i < p.length; i++) {
      double wavelen = 2 * Math.PI / p[i];
      if (wavelen < 16) {
        assertEquals(p[i], s[i]);
        kept++;
      } else if (wavelen > 64) {
        assertEquals(p[i] / 8, s[i], 1e-7 * p[i]);
        divided++;
      } else {
        assertTrue(s[i] < p[i] && s[i] > p[i] / 8);
        smoothed++;
      }
    }
    assertTrue(kept > 0 && divided > 0 && smoothed > 0, kept + " " + divided + " " + smoothed);
  }

  @Test
  void familyDefaults() throws IOException {
    ModelConfig gemma = read("{\"model_type\": \"gemma2\", " + SIZES + ", \"head_dim\": 16}");
    assertTrue(gemma.tieEmbeddings());
    assertEquals(Activation.GELU_TANH, gemma.activation());
    assertEquals(4096, gemma.slidingWindow());
    assertArrayEquals(new boolean[] {true, false, true, false}, gemma.slidingLayers());
    assertEquals(50f, gemma.attnSoftcap());
    assertEquals(30f, gemma.finalSoftcap());
    assertEquals((float) Math.pow(256, -0.5), gemma.queryScale());

    ModelConfig qwen =
        read(
            "{\"model_type\": \"qwen2\", "
                + SIZES
                + ", \"use_sliding_window\": true, \"sliding_window\": 32, \"max_window_layers\": 2}");
    assertTrue(qwen.qkvBias());
    assertFalse(qwen.oBias());
    assertArrayEquals(new boolean[] {false, false, true, true}, qwen.slidingLayers());

    ModelConfig mistral =
        read("{\"model_type\": \"mistral\", " + SIZES + ", \"sliding_window\": null}");
    assertEquals(0, mistral.slidingWindow());
    assertArrayEquals(new boolean[4], mistral.slidingLayers());
    assertEquals(10000.0, mistral.rope().theta());
  }
}
