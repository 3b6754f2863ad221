package dev.flashattn4j.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A model's {@code config.json}, as transformers reads it for the families of {@link ModelFamily}:
 * sizes, RoPE, norms, biases, activation, sliding windows, soft-caps, special tokens. Absent keys
 * take transformers' defaults for the family; keys this module cannot honour (a RoPE type other
 * than default and llama3, a partial rotary factor) are refused.
 *
 * @param family the family ({@code model_type})
 * @param vocabSize V, rows of the embedding
 * @param hidden the model width
 * @param intermediate the MLP's inner width
 * @param layers decoder layers
 * @param heads H_q
 * @param kvHeads H_kv (GQA when fewer than H_q)
 * @param headDim d
 * @param rmsNormEps ε of RMSNorm
 * @param rope RoPE's frequencies
 * @param tieEmbeddings the LM head is the embedding matrix
 * @param qkvBias biases on the q, k and v projections
 * @param oBias a bias on the output projection
 * @param mlpBias biases on the MLP's projections
 * @param activation the MLP's gate activation
 * @param slidingWindow W of the sliding layers (a token sees itself and the W − 1 before), 0 for
 *     none
 * @param slidingLayers per layer, true when it uses the sliding window
 * @param attnSoftcap soft cap on the attention scores, 0 for none
 * @param finalSoftcap soft cap on the logits, 0 for none
 * @param queryScale the factor on q·k (1/√d, or query_pre_attn_scalar^−½)
 * @param bosToken the BOS token id, −1 for none
 * @param eosTokens the token ids that end generation (possibly none)
 * @param maxPositions max_position_embeddings
 */
public record ModelConfig(
    ModelFamily family,
    int vocabSize,
    int hidden,
    int intermediate,
    int layers,
    int heads,
    int kvHeads,
    int headDim,
    float rmsNormEps,
    RopeScaling rope,
    boolean tieEmbeddings,
    boolean qkvBias,
    boolean oBias,
    boolean mlpBias,
    Activation activation,
    int slidingWindow,
    boolean[] slidingLayers,
    float attnSoftcap,
    float finalSoftcap,
    float queryScale,
    int bosToken,
    int[] eosTokens,
    int maxPositions) {

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  public ModelConfig {
    slidingLayers = slidingLayers.clone();
    eosTokens = eosTokens.clone();
  }

  @Override
  public boolean[] slidingLayers() {
    return slidingLayers.clone();
  }

  @Override
  public int[] eosTokens() {
    return eosTokens.clone();
  }

  /** True when layer l attends through the sliding window. */
  public boolean isSliding(int layer) {
    return slidingLayers[layer];
  }

  /** True when the token ends generation. */
  public boolean isEos(int token) {
    for (int e : eosTokens) {
      if (e == token) {
        return true;
      }
    }
    return false;
  }

  /** Parameters of the model (weights and biases; a tied LM head counted once). */
  public long parameters() {
    long attn = (long) hidden * headDim * (2L * heads + 2L * kvHeads);
    long mlp = 3L * hidden * intermediate;
    long norms = (family.gemmaNorms() ? 4L : 2L) * hidden;
    long biases =
        (qkvBias ? (long) headDim * (heads + 2L * kvHeads) : 0)
            + (oBias ? hidden : 0)
            + (mlpBias ? 2L * intermediate + hidden : 0);
    long embed = (long) vocabSize * hidden;
    return layers * (attn + mlp + norms + biases) + embed + hidden + (tieEmbeddings ? 0 : embed);
  }

  /**
   * Reads and checks a config.json.
   *
   * @throws ModelFormatException naming the file and the key when it is not a config this module
   *     runs
   * @throws NoSuchFileException when there is no such file
   */
  public static ModelConfig read(Path file) throws IOException {
    return read(file, -1);
  }

  /**
   * As {@link #read(Path)}, with num_hidden_layers checked against the layers the weights hold
   * before anything is sized by it (issue 19: 2^31 − 1 layers ran the JVM out of memory, which
   * blamed the heap instead of the config).
   *
   * @param layersPresent the layers of the weights (model.layers.0 … N − 1), or −1 for no check
   */
  public static ModelConfig read(Path file, int layersPresent) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new NoSuchFileException(file.toString(), null, "no config.json");
    }
    JsonNode root;
    try {
      root = JSON.readTree(file.toFile());
    } catch (JsonProcessingException e) {
      throw new ModelFormatException(
          file, "not valid JSON: " + e.getOriginalMessage().lines().findFirst().orElse(""), e);
    }
    if (root == null || !root.isObject()) {
      throw new ModelFormatException(file, "not a JSON object");
    }
    ModelConfig config = new Reader(file, root, layersPresent).config();
    // generate() stops at generation_config.json's EOS tokens too (an instruct model's end of turn,
    // <|eot_id|> or <|im_end|>, is often only there)
    Path generation = file.resolveSibling("generation_config.json");
    if (Files.isRegularFile(generation)) {
      JsonNode g;
      try {
        g = JSON.readTree(generation.toFile());
      } catch (JsonProcessingException e) {
        throw new ModelFormatException(
            generation,
            "not valid JSON: " + e.getOriginalMessage().lines().findFirst().orElse(""),
            e);
      }
      if (g != null && g.isObject()) {
        int[] more = new Reader(generation, g, -1).tokenIds("eos_token_id");
        int[] eos =
            java.util.stream.IntStream.concat(
                    java.util.Arrays.stream(config.eosTokens), java.util.Arrays.stream(more))
                .distinct()
                .toArray();
        config = config.withEosTokens(eos);
      }
    }
    return config;
  }

  /** This config with other EOS tokens. */
  ModelConfig withEosTokens(int[] eos) {
    return new ModelConfig(
        family,
        vocabSize,
        hidden,
        intermediate,
        layers,
        heads,
        kvHeads,
        headDim,
        rmsNormEps,
        rope,
        tieEmbeddings,
        qkvBias,
        oBias,
        mlpBias,
        activation,
        slidingWindow,
        slidingLayers,
        attnSoftcap,
        finalSoftcap,
        queryScale,
        bosToken,
        eos,
        maxPositions);
  }

  /**
   * A config given as JSON (a GGUF file's metadata turned into config.json's keys), checked as
   * {@link #read(Path, int)} checks a file; errors name {@code source}.
   */
  static ModelConfig fromJson(Path source, JsonNode root, int layersPresent) {
    return new Reader(source, root, layersPresent).config();
  }

  /** Reads the keys of one config.json, naming the file and the key in every error. */
  private record Reader(Path file, JsonNode root, int layersPresent) {

    ModelConfig config() {
      String type = string("model_type", null);
      if (type == null) {
        throw error("has no model_type (llama, mistral, qwen2 or gemma2 expected)");
      }
      ModelFamily family = ModelFamily.of(type);
      if (family == null) {
        throw error(
            "model_type \""
                + type
                + "\" is not one this module runs (llama, mistral, qwen2, gemma2)");
      }
      int vocab = positive("vocab_size", -1);
      int hidden = positive("hidden_size", -1);
      int intermediate = positive("intermediate_size", -1);
      int layers = positive("num_hidden_layers", -1);
      if (layersPresent >= 0 && layers != layersPresent) {
        throw error(
            "num_hidden_layers is "
                + layers
                + ", but the weights hold "
                + layersPresent
                + " layers (model.layers.0 to model.layers."
                + (layersPresent - 1)
                + ")");
      }
      int heads = positive("num_attention_heads", -1);
      int kvHeads = positive("num_key_value_heads", heads);
      if (heads % kvHeads != 0) {
        throw error(
            "num_attention_heads "
                + heads
                + " is not a multiple of num_key_value_heads "
                + kvHeads);
      }
      int defaultHeadDim = family == ModelFamily.GEMMA2 ? 256 : hidden / heads;
      int headDim = positive("head_dim", defaultHeadDim);
      if (headDim % 2 != 0) {
        throw error("head_dim " + headDim + " is odd: RoPE rotates pairs");
      }
      float eps = (float) number("rms_norm_eps", 1e-6);
      if (!(eps >= 0)) {
        throw error("rms_norm_eps must be non-negative, not " + eps);
      }
      RopeScaling rope = rope(family);
      boolean tie = bool("tie_word_embeddings", family == ModelFamily.GEMMA2);
      boolean attentionBias = bool("attention_bias", false);
      boolean qkvBias = family == ModelFamily.QWEN2 || attentionBias;
      boolean oBias = family != ModelFamily.QWEN2 && attentionBias;
      boolean mlpBias = family == ModelFamily.LLAMA && bool("mlp_bias", false);
      String act =
          family == ModelFamily.GEMMA2
              ? string("hidden_activation", string("hidden_act", "gelu_pytorch_tanh"))
              : string("hidden_act", "silu");
      Activation activation = Activation.of(act);
      if (activation == null) {
        throw error("activation \"" + act + "\" is not supported (silu, gelu_pytorch_tanh)");
      }
      int window = slidingWindow(family);
      boolean[] sliding = layerTypes(family, layers, window);
      float attnCap = 0;
      float finalCap = 0;
      float scale = (float) (1 / Math.sqrt(headDim));
      if (family == ModelFamily.GEMMA2) {
        attnCap = (float) number("attn_logit_softcapping", 50.0);
        finalCap = (float) number("final_logit_softcapping", 30.0);
        double scalar = number("query_pre_attn_scalar", 256);
        if (!(scalar > 0)) {
          throw error("query_pre_attn_scalar must be positive, not " + scalar);
        }
        scale = (float) Math.pow(scalar, -0.5);
      }
      // 0 is no cap in the kernels but a division by zero in transformers: refused, as are NaN
      // and ∞ (issue 19: 0 was accepted silently)
      if (family == ModelFamily.GEMMA2
          && (!(attnCap > 0) || !(finalCap > 0) || Float.isInfinite(attnCap + finalCap))) {
        throw error(
            "attn_logit_softcapping and final_logit_softcapping must be finite and positive, not "
                + attnCap
                + " and "
                + finalCap);
      }
      int bos = tokenId("bos_token_id");
      int[] eos = tokenIds("eos_token_id");
      int maxPositions = positive("max_position_embeddings", 2048);
      return new ModelConfig(
          family,
          vocab,
          hidden,
          intermediate,
          layers,
          heads,
          kvHeads,
          headDim,
          eps,
          rope,
          tie,
          qkvBias,
          oBias,
          mlpBias,
          activation,
          window,
          sliding,
          attnCap,
          finalCap,
          scale,
          bos,
          eos,
          maxPositions);
    }

    private RopeScaling rope(ModelFamily family) {
      JsonNode params = root.get("rope_parameters");
      JsonNode legacy = root.get("rope_scaling");
      double defaultTheta = 10000.0;
      JsonNode p;
      double theta;
      if (params != null && !params.isNull()) {
        if (!params.isObject()) {
          throw error("rope_parameters must be an object");
        }
        if (params.has("full_attention") || params.has("sliding_attention")) {
          throw error("per-layer-type rope_parameters are not supported");
        }
        p = params;
        theta =
            numberIn(
                p, "rope_parameters.rope_theta", "rope_theta", number("rope_theta", defaultTheta));
      } else {
        p = legacy != null && !legacy.isNull() ? legacy : null;
        theta = number("rope_theta", defaultTheta);
      }
      if (!(theta > 0) || Double.isInfinite(theta)) {
        throw error("rope_theta must be positive, not " + theta);
      }
      if (root.has("partial_rotary_factor") && number("partial_rotary_factor", 1) != 1) {
        throw error("partial_rotary_factor is not supported");
      }
      if (p == null) {
        return RopeScaling.plain(theta);
      }
      if (!p.isObject()) {
        throw error("rope_scaling must be an object or null");
      }
      if (p.has("partial_rotary_factor") && p.get("partial_rotary_factor").asDouble() != 1) {
        throw error("partial_rotary_factor is not supported");
      }
      JsonNode typeNode = p.has("rope_type") ? p.get("rope_type") : p.get("type");
      String type = typeNode == null || typeNode.isNull() ? "default" : typeNode.asText();
      switch (type) {
        case "default" -> {
          return RopeScaling.plain(theta);
        }
        case "llama3" -> {
          double factor = numberIn(p, "rope llama3 factor", "factor", Double.NaN);
          double low = numberIn(p, "rope llama3 low_freq_factor", "low_freq_factor", Double.NaN);
          double high = numberIn(p, "rope llama3 high_freq_factor", "high_freq_factor", Double.NaN);
          double original =
              p.has("original_max_position_embeddings")
                  ? numberIn(
                      p,
                      "rope llama3 original_max_position_embeddings",
                      "original_max_position_embeddings",
                      Double.NaN)
                  : number("max_position_embeddings", Double.NaN);
          if (!(factor > 0 && low > 0 && high > low && original >= 1)) {
            throw error(
                "rope llama3 needs factor > 0, 0 < low_freq_factor < high_freq_factor and"
                    + " original_max_position_embeddings ≥ 1, not factor "
                    + factor
                    + ", low "
                    + low
                    + ", high "
                    + high
                    + ", original "
                    + original);
          }
          return new RopeScaling(theta, "llama3", factor, low, high, (int) original);
        }
        default ->
            throw error("rope type \"" + type + "\" is not supported (default and llama3 are)");
      }
    }

    /** The window of the sliding layers: absent means transformers' default 4096, null none. */
    private int slidingWindow(ModelFamily family) {
      JsonNode w = root.get("sliding_window");
      boolean used =
          switch (family) {
            case LLAMA -> false;
            case MISTRAL, GEMMA2 -> w == null || !w.isNull();
            case QWEN2 -> bool("use_sliding_window", false) && (w == null || !w.isNull());
          };
      return used ? positive("sliding_window", 4096) : 0;
    }

    private boolean[] layerTypes(ModelFamily family, int layers, int window) {
      boolean[] sliding = new boolean[layers];
      JsonNode types = root.get("layer_types");
      if (types != null && !types.isNull() && family != ModelFamily.MISTRAL) {
        if (!types.isArray() || types.size() != layers) {
          throw error("layer_types must list the type of each of the " + layers + " layers");
        }
        for (int l = 0; l < layers; l++) {
          String t = types.get(l).asText();
          switch (t) {
            case "full_attention" -> sliding[l] = false;
            case "sliding_attention" -> sliding[l] = true;
            default ->
                throw error(
                    "layer_types["
                        + l
                        + "] is \""
                        + t
                        + "\" (full_attention or sliding_attention expected)");
          }
        }
      } else {
        int maxWindowLayers =
            family == ModelFamily.QWEN2 ? positiveOrZero("max_window_layers", 28) : 0;
        for (int l = 0; l < layers; l++) {
          sliding[l] =
              switch (family) {
                case LLAMA -> false;
                case MISTRAL -> true;
                case QWEN2 -> l >= maxWindowLayers;
                case GEMMA2 -> (l + 1) % 2 == 1;
              };
        }
      }
      if (window == 0) {
        Arrays.fill(sliding, false);
      } else if (family == ModelFamily.MISTRAL) {
        Arrays.fill(sliding, true);
      }
      return sliding;
    }

    private int tokenId(String key) {
      JsonNode n = root.get(key);
      if (n == null || n.isNull()) {
        return -1;
      }
      if (n.isArray() && n.size() > 0) {
        n = n.get(0);
      }
      if (!n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() < 0) {
        throw error(key + " must be a token id, not " + n);
      }
      return n.asInt();
    }

    private int[] tokenIds(String key) {
      JsonNode n = root.get(key);
      if (n == null || n.isNull()) {
        return new int[0];
      }
      if (!n.isArray()) {
        return new int[] {tokenId(key)};
      }
      int[] ids = new int[n.size()];
      for (int i = 0; i < ids.length; i++) {
        JsonNode e = n.get(i);
        if (!e.isIntegralNumber() || !e.canConvertToInt() || e.asInt() < 0) {
          throw error(key + "[" + i + "] must be a token id, not " + e);
        }
        ids[i] = e.asInt();
      }
      return ids;
    }

    private String string(String key, String dflt) {
      JsonNode n = root.get(key);
      if (n == null || n.isNull()) {
        return dflt;
      }
      if (!n.isTextual()) {
        throw error(key + " must be a string, not " + n);
      }
      return n.asText();
    }

    private boolean bool(String key, boolean dflt) {
      JsonNode n = root.get(key);
      if (n == null || n.isNull()) {
        return dflt;
      }
      if (!n.isBoolean()) {
        throw error(key + " must be true or false, not " + n);
      }
      return n.asBoolean();
    }

    private double number(String key, double dflt) {
      return numberIn(root, key, key, dflt);
    }

    private double numberIn(JsonNode node, String name, String key, double dflt) {
      JsonNode n = node.get(key);
      if (n == null || n.isNull()) {
        if (Double.isNaN(dflt)) {
          throw error("has no " + name);
        }
        return dflt;
      }
      if (!n.isNumber()) {
        throw error(name + " must be a number, not " + n);
      }
      return n.asDouble();
    }

    private int positive(String key, int dflt) {
      int v = positiveOrZero(key, dflt);
      if (v < 1) {
        throw error(key + " must be at least 1, not " + v);
      }
      return v;
    }

    private int positiveOrZero(String key, int dflt) {
      JsonNode n = root.get(key);
      if (n == null || n.isNull()) {
        if (dflt < 0) {
          throw error("has no " + key);
        }
        return dflt;
      }
      if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < 0) {
        throw error(key + " must be a non-negative integer, not " + n);
      }
      return n.asInt();
    }

    private ModelFormatException error(String problem) {
      return new ModelFormatException(file, problem);
    }
  }
}
