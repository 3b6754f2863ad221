package dev.flashattn4j.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flashattn4j.tensor.Safetensors;
import dev.flashattn4j.tensor.SafetensorsDtype;
import dev.flashattn4j.tensor.SafetensorsEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The weights of a model, read from {@code model.safetensors} (or the shards a {@code
 * model.safetensors.index.json} lists) under transformers' names, checked against the config before
 * any is read: every tensor present with the shape the config implies and a floating-point dtype,
 * no tensor the config does not explain. Matrices are packed for {@link MatMul} (float32, or
 * bfloat16 kept as stored), vectors (norms, biases) are float32.
 */
final class ModelWeights {

  /** A linear layer: y = x·Wᵀ + b. */
  record Linear(PackedMatrix w, float[] bias) {}

  /**
   * One decoder layer. Norm weights are stored as the factor applied to x̂: w for Llama, 1 + w for
   * Gemma (as {@code Gemma2RMSNorm} computes it in float32).
   */
  record Layer(
      float[] inputNorm,
      float[] postAttentionNorm,
      float[] preFeedforwardNorm,
      float[] postFeedforwardNorm,
      Linear q,
      Linear k,
      Linear v,
      Linear o,
      Linear gate,
      Linear up,
      Linear down) {}

  final ModelConfig config;
  final Layer[] layers;
  final float[] finalNorm;

  /** The LM head (V × hidden); also the embedding when the embeddings are tied. */
  final PackedMatrix lmHead;

  /** The embedding, row-major V × hidden (float32 or bf16 patterns), when not tied. */
  private final float[] embed32;

  private final short[] embed16;

  /** The embedding as Q8_0 (packed; a lookup widens one row), when not tied. */
  private final PackedMatrix embedQ8;

  private ModelWeights(
      ModelConfig config,
      Layer[] layers,
      float[] finalNorm,
      PackedMatrix lmHead,
      float[] embed32,
      short[] embed16,
      PackedMatrix embedQ8) {
    this.config = config;
    this.layers = layers;
    this.finalNorm = finalNorm;
    this.lmHead = lmHead;
    this.embed32 = embed32;
    this.embed16 = embed16;
    this.embedQ8 = embedQ8;
  }

  /** Row {@code token} of the embedding into dst from offset (hidden floats). */
  void embed(int token, float[] dst, int offset) {
    int h = config.hidden();
    if (embed32 != null) {
      System.arraycopy(embed32, token * h, dst, offset, h);
    } else if (embed16 != null) {
      for (int i = 0; i < h; i++) {
        dst[offset + i] = Float.intBitsToFloat(embed16[token * h + i] << 16);
      }
    } else if (embedQ8 != null) {
      embedQ8.row(token, dst, offset);
    } else {
      lmHead.row(token, dst, offset);
    }
  }

  /** Bytes of the weights in memory. */
  long bytes() {
    long b = lmHead.bytes() + 4L * finalNorm.length;
    b += embed32 != null ? 4L * embed32.length : embed16 != null ? 2L * embed16.length : 0;
    b += embedQ8 != null ? embedQ8.bytes() : 0;
    for (Layer l : layers) {
      for (Linear lin : List.of(l.q, l.k, l.v, l.o, l.gate, l.up, l.down)) {
        b += lin.w().bytes() + (lin.bias() == null ? 0 : 4L * lin.bias().length);
      }
      b += 4L * l.inputNorm.length * (l.preFeedforwardNorm == null ? 2 : 4);
    }
    return b;
  }

  /** True when some matrix is kept as bfloat16. */
  boolean hasBf16() {
    return lmHead.isBf16() || embed16 != null || layers[0].q.w().isBf16();
  }

  /** True when some matrix is kept as Q8_0. */
  boolean hasQ8() {
    return lmHead.isQ8() || embedQ8 != null || layers[0].q.w().isQ8();
  }

  // ---------------------------------------------------------------------------------------------
  // Loading

  /**
   * Reads the weights of a model directory.
   *
   * @throws ModelFormatException when the tensors do not match the config, naming the file and the
   *     tensor
   * @throws NoSuchFileException when the directory has no model.safetensors (nor an index)
   */
  static ModelWeights load(Map<String, Path> files, ModelConfig config, WeightFormat format)
      throws IOException {
    Map<Path, Safetensors> open = new LinkedHashMap<>();
    try {
      for (Path f : new HashSet<>(files.values())) {
        open.put(f, Safetensors.open(f));
      }
      Loader loader = new Loader(config, format, files, open);
      loader.checkAll();
      return loader.read();
    } finally {
      for (Safetensors s : open.values()) {
        s.close();
      }
    }
  }

  /**
   * The layers the weights hold: one more than the largest N of a tensor named model.layers.N.…,
   * read from the headers alone (before the config sizes anything by its num_hidden_layers).
   */
  static int layersPresent(Map<String, Path> files) {
    int layers = 0;
    for (String name : files.keySet()) {
      if (name.startsWith("model.layers.")) {
        int end = name.indexOf('.', "model.layers.".length());
        try {
          int n =
              Integer.parseInt(
                  name.substring("model.layers.".length(), end < 0 ? name.length() : end));
          layers = Math.max(layers, n + 1);
        } catch (NumberFormatException e) {
          // not a layer's tensor: checkAll names it as unexplained
        }
      }
    }
    return layers;
  }

  /** Which file holds each tensor: the one model.safetensors, or the index's weight_map. */
  static Map<String, Path> tensorFiles(Path dir) throws IOException {
    Path single = dir.resolve("model.safetensors");
    Path index = dir.resolve("model.safetensors.index.json");
    Map<String, Path> files = new LinkedHashMap<>();
    if (Files.isRegularFile(single)) {
      try (Safetensors st = Safetensors.open(single)) {
        for (String name : st.names()) {
          files.put(name, single);
        }
      }
      return files;
    }
    if (!Files.isRegularFile(index)) {
      throw new NoSuchFileException(
          single.toString(), null, "no model.safetensors (nor model.safetensors.index.json)");
    }
    JsonNode root;
    try {
      root =
          new ObjectMapper()
              .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
              .readTree(index.toFile());
    } catch (JsonProcessingException e) {
      throw new ModelFormatException(index, "not valid JSON", e);
    }
    JsonNode map = root == null ? null : root.get("weight_map");
    if (map == null || !map.isObject()) {
      throw new ModelFormatException(index, "has no weight_map object");
    }
    for (Map.Entry<String, JsonNode> e : map.properties()) {
      String file = e.getValue().asText();
      Path shard = dir.resolve(file).normalize();
      if (!e.getValue().isTextual() || !shard.getParent().equals(dir.normalize())) {
        throw new ModelFormatException(
            index, "weight_map maps " + e.getKey() + " to " + e.getValue() + ", not a file here");
      }
      files.put(e.getKey(), shard);
    }
    // every shard a regular file (a link to one is fine, as in Hugging Face's cache) before any is
    // opened: a directory threw "Is a directory", and a FIFO blocked the open until killed
    for (Path shard : new java.util.LinkedHashSet<>(files.values())) {
      if (!Files.exists(shard)) {
        throw new ModelFormatException(
            index, "weight_map names " + shard.getFileName() + ", which is not in " + dir);
      }
      if (!Files.isRegularFile(shard)) {
        throw new ModelFormatException(
            index,
            "weight_map names "
                + shard.getFileName()
                + ", which is not a regular file (a directory, a FIFO or a device)");
      }
    }
    return files;
  }

  /** Checks then reads the tensors of one model. */
  private static final class Loader {
    private final ModelConfig c;
    private final WeightFormat format;
    private final Map<String, Path> files;
    private final Map<Path, Safetensors> open;
    private final Set<String> used = new HashSet<>();

    Loader(
        ModelConfig c, WeightFormat format, Map<String, Path> files, Map<Path, Safetensors> open) {
      this.c = c;
      this.format = format;
      this.files = files;
      this.open = open;
    }

    /** Whether two tensors hold the same dtype, shape and bytes (read from the mapped files). */
    private boolean sameData(String a, String b) {
      Safetensors sa = open.get(files.get(a));
      Safetensors sb = open.get(files.get(b));
      SafetensorsEntry ea = sa.entry(a);
      SafetensorsEntry eb = sb.entry(b);
      return ea.dtype() == eb.dtype()
          && java.util.Arrays.equals(ea.shape(), eb.shape())
          && sa.segment(a).mismatch(sb.segment(b)) == -1;
    }

    /** Every tensor's presence, dtype and shape, and no unexplained tensor: before any read. */
    void checkAll() {
      int h = c.hidden();
      long q = (long) c.heads() * c.headDim();
      long kv = (long) c.kvHeads() * c.headDim();
      long in = c.intermediate();
      expect("model.embed_tokens.weight", c.vocabSize(), h);
      for (int l = 0; l < c.layers(); l++) {
        String p = "model.layers." + l + ".";
        expect(p + "input_layernorm.weight", h);
        expect(p + "post_attention_layernorm.weight", h);
        if (c.family().gemmaNorms()) {
          expect(p + "pre_feedforward_layernorm.weight", h);
          expect(p + "post_feedforward_layernorm.weight", h);
        }
        expect(p + "self_attn.q_proj.weight", q, h);
        expect(p + "self_attn.k_proj.weight", kv, h);
        expect(p + "self_attn.v_proj.weight", kv, h);
        expect(p + "self_attn.o_proj.weight", h, q);
        if (c.qkvBias()) {
          expect(p + "self_attn.q_proj.bias", q);
          expect(p + "self_attn.k_proj.bias", kv);
          expect(p + "self_attn.v_proj.bias", kv);
        }
        if (c.oBias()) {
          expect(p + "self_attn.o_proj.bias", h);
        }
        expect(p + "mlp.gate_proj.weight", in, h);
        expect(p + "mlp.up_proj.weight", in, h);
        expect(p + "mlp.down_proj.weight", h, in);
        if (c.mlpBias()) {
          expect(p + "mlp.gate_proj.bias", in);
          expect(p + "mlp.up_proj.bias", in);
          expect(p + "mlp.down_proj.bias", h);
        }
      }
      expect("model.norm.weight", h);
      if (!c.tieEmbeddings()) {
        expect("lm_head.weight", c.vocabSize(), h);
      } else if (files.containsKey("lm_head.weight")) {
        // saved although tied (transformers does so): used only if it is the embedding; another
        // head would be ignored silently and change the output (issue 19), so it is refused
        expect("lm_head.weight", c.vocabSize(), h);
        if (!sameData("lm_head.weight", "model.embed_tokens.weight")) {
          throw new ModelFormatException(
              files.get("lm_head.weight"),
              "lm_head.weight differs from model.embed_tokens.weight, but config.json ties them"
                  + " (tie_word_embeddings): the head would be ignored");
        }
      }
      for (String name : files.keySet()) {
        if (!used.contains(name) && !name.endsWith("rotary_emb.inv_freq")) {
          throw new ModelFormatException(
              files.get(name),
              "tensor \""
                  + name
                  + "\" is not part of a "
                  + c.family().modelType()
                  + " model with this config.json ("
                  + c.layers()
                  + " layers"
                  + (c.qkvBias() ? "" : ", no q/k/v biases")
                  + "): the checkpoint and its config do not match");
        }
      }
    }

    private void expect(String name, long... shape) {
      Path file = files.get(name);
      if (file == null) {
        throw new ModelFormatException(
            files.isEmpty() ? Path.of("model.safetensors") : files.values().iterator().next(),
            "has no tensor \""
                + name
                + "\", which a "
                + c.family().modelType()
                + " model with this config.json needs (the checkpoint and its config do not"
                + " match)");
      }
      Safetensors st = open.get(file);
      if (!st.contains(name)) {
        throw new ModelFormatException(
            file, "has no tensor \"" + name + "\" (the index says it is there)");
      }
      SafetensorsEntry e = st.entry(name);
      if (!(e.dtype() == SafetensorsDtype.F32
          || e.dtype() == SafetensorsDtype.BF16
          || e.dtype() == SafetensorsDtype.F16)) {
        throw new ModelFormatException(
            file,
            "tensor \"" + name + "\" is " + e.describe() + ": weights must be f32, bf16 or f16");
      }
      if (!Arrays.equals(e.shape(), shape)) {
        throw new ModelFormatException(
            file,
            "tensor \""
                + name
                + "\" is "
                + e.describe()
                + " but config.json implies "
                + Arrays.toString(shape)
                + " (the checkpoint and its config do not match)");
      }
      used.add(name);
    }

    private SafetensorsEntry entry(String name) {
      return open.get(files.get(name)).entry(name);
    }

    private float[] vector(String name) {
      return floats(name);
    }

    /**
     * A tensor's values as floats, refused when one is NaN or ±∞ (issue 19: all-NaN weights loaded
     * and generated nothing, without a word). A real checkpoint holds none; a damaged one is named.
     */
    private float[] floats(String name) {
      float[] a = open.get(files.get(name)).floats(name);
      for (int i = 0; i < a.length; i++) {
        if (!Float.isFinite(a[i])) {
          throw nonFinite(name, i, a[i]);
        }
      }
      return a;
    }

    /** bfloat16 patterns, refused as {@link #floats} when one is NaN or ±∞ (exponent all ones). */
    private short[] bits16(String name) {
      short[] a = open.get(files.get(name)).bits16(name);
      for (int i = 0; i < a.length; i++) {
        if ((a[i] & 0x7F80) == 0x7F80) {
          throw nonFinite(name, i, Float.intBitsToFloat(a[i] << 16));
        }
      }
      return a;
    }

    private ModelFormatException nonFinite(String name, int index, float value) {
      return new ModelFormatException(
          files.get(name),
          "tensor \""
              + name
              + "\" holds "
              + value
              + " at index "
              + index
              + ": weights must be finite");
    }

    private Linear linear(String name, boolean bias) {
      SafetensorsEntry e = entry(name + ".weight");
      int out = (int) e.dim(0);
      int in = (int) e.dim(1);
      boolean keep16 =
          (format == WeightFormat.AS_STORED && e.dtype() == SafetensorsDtype.BF16)
              || format == WeightFormat.BFLOAT16;
      PackedMatrix w;
      if (format == WeightFormat.Q8_0) {
        w = PackedMatrix.ofQ8(Q8Rows.quantize(floats(name + ".weight"), out, in));
      } else if (keep16 && e.dtype() == SafetensorsDtype.BF16) {
        w = PackedMatrix.ofBf16(bits16(name + ".weight"), out, in);
      } else if (keep16) {
        w = PackedMatrix.ofBf16(toBf16(floats(name + ".weight")), out, in);
      } else {
        w = PackedMatrix.of(floats(name + ".weight"), out, in);
      }
      return new Linear(w, bias ? vector(name + ".bias") : null);
    }

    private float[] norm(String name) {
      float[] w = vector(name);
      if (c.family().gemmaNorms()) {
        for (int i = 0; i < w.length; i++) {
          w[i] = 1f + w[i];
        }
      }
      return w;
    }

    ModelWeights read() {
      Layer[] layers = new Layer[c.layers()];
      for (int l = 0; l < layers.length; l++) {
        String p = "model.layers." + l + ".";
        boolean g = c.family().gemmaNorms();
        layers[l] =
            new Layer(
                norm(p + "input_layernorm.weight"),
                norm(p + "post_attention_layernorm.weight"),
                g ? norm(p + "pre_feedforward_layernorm.weight") : null,
                g ? norm(p + "post_feedforward_layernorm.weight") : null,
                linear(p + "self_attn.q_proj", c.qkvBias()),
                linear(p + "self_attn.k_proj", c.qkvBias()),
                linear(p + "self_attn.v_proj", c.qkvBias()),
                linear(p + "self_attn.o_proj", c.oBias()),
                linear(p + "mlp.gate_proj", c.mlpBias()),
                linear(p + "mlp.up_proj", c.mlpBias()),
                linear(p + "mlp.down_proj", c.mlpBias()));
      }
      float[] finalNorm = norm("model.norm.weight");
      if (c.tieEmbeddings()) {
        PackedMatrix head = linear("model.embed_tokens", false).w();
        return new ModelWeights(c, layers, finalNorm, head, null, null, null);
      }
      PackedMatrix head = linear("lm_head", false).w();
      if (format == WeightFormat.Q8_0) {
        PackedMatrix embed = linear("model.embed_tokens", false).w();
        return new ModelWeights(c, layers, finalNorm, head, null, null, embed);
      }
      SafetensorsEntry e = entry("model.embed_tokens.weight");
      boolean keep16 =
          (format == WeightFormat.AS_STORED && e.dtype() == SafetensorsDtype.BF16)
              || format == WeightFormat.BFLOAT16;
      if (keep16) {
        short[] bits =
            e.dtype() == SafetensorsDtype.BF16 ? bits16(e.name()) : toBf16(floats(e.name()));
        return new ModelWeights(c, layers, finalNorm, head, null, bits, null);
      }
      return new ModelWeights(c, layers, finalNorm, head, floats(e.name()), null, null);
    }
  }

  /** float32 → bfloat16 patterns, round to nearest even (PyTorch's {@code .to(torch.bfloat16)}). */
  static short[] toBf16(float[] v) {
    short[] out = new short[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = dev.flashattn4j.cache.KvStorage.BFLOAT16.encode(v[i]);
    }
    return out;
  }
}
