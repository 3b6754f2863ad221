package dev.flashattn4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * The tensors of a GGUF file under transformers' names: GGML's names mapped ({@code token_embd} →
 * {@code model.embed_tokens}, {@code blk.N.attn_q} → {@code model.layers.N.self_attn.q_proj}, …),
 * GGML's dimensions reversed ([K, O] → [O, K]), and what llama.cpp's converter changes undone:
 *
 * <ul>
 *   <li>architecture {@code llama} (Llama, Mistral): the rows of q_proj and k_proj (weights and
 *       biases) are permuted per head from transformers' "half" rotary layout into GGML's
 *       interleaved one, row h·hd + 2i + s of the file being row h·hd + s·hd/2 + i of transformers;
 *       this source permutes them back (whole rows, so a Q8_0 or Q4_0 matrix stays exact);
 *   <li>architecture {@code gemma2}: norm weights are stored as 1 + w ({@link
 *       #gemmaNormsIncludeOne()});
 *   <li>{@code rope_freqs.weight} (llama3 rope scaling) is ignored: the frequencies come from
 *       config.json, as transformers computes them.
 * </ul>
 *
 * <p>The metadata the model's shape depends on ({@code ARCH.block_count}, {@code embedding_length},
 * {@code feed_forward_length}, {@code attention.head_count}, {@code attention.head_count_kv}) is
 * checked against config.json ({@link #check}).
 *
 * <p>Without a config.json beside the file, {@link #config} builds one from the metadata (llama and
 * qwen2 architectures, RoPE without scaling); without a tokenizer.json, {@link #tokenizer} builds
 * one from {@code tokenizer.ggml.*} when it is GPT-2's byte-level BPE. Anything else the metadata
 * cannot say (Llama 3's RoPE scaling, which llama.cpp keeps only as a {@code rope_freqs} tensor;
 * Gemma 2's query scale and layer types; Mistral's sliding window; SentencePiece and other
 * pre-tokenizers) is refused with a message asking for the file.
 */
final class GgufSource implements TensorSource {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Gguf gguf;
  private final String arch;
  private final Map<String, Gguf.Tensor> byName;
  private final Map<String, Path> files = new LinkedHashMap<>();

  private GgufSource(Gguf gguf, String arch, Map<String, Gguf.Tensor> byName) {
    this.gguf = gguf;
    this.arch = arch;
    this.byName = byName;
    for (String n : byName.keySet()) {
      files.put(n, gguf.file());
    }
  }

  static GgufSource open(Path file) throws IOException {
    Gguf g = Gguf.open(file);
    try {
      String arch = g.metaString("general.architecture");
      if (arch == null) {
        throw new ModelFormatException(file, "has no general.architecture string");
      }
      if (!arch.equals("llama") && !arch.equals("qwen2") && !arch.equals("gemma2")) {
        throw new ModelFormatException(
            file,
            "GGUF architecture \"" + arch + "\" is not supported (llama, qwen2 and gemma2 are)");
      }
      Map<String, Gguf.Tensor> byName = new LinkedHashMap<>();
      for (Gguf.Tensor t : g.tensors().values()) {
        if (t.name().equals("rope_freqs.weight")) {
          continue;
        }
        String hf = hfName(t.name(), arch.equals("gemma2"));
        byName.put(hf == null ? t.name() : hf, t);
      }
      return new GgufSource(g, arch, byName);
    } catch (RuntimeException | Error e) {
      g.close();
      throw e;
    }
  }

  /** transformers' name of a GGML tensor name, or null when it has none. */
  static String hfName(String ggml, boolean gemma) {
    switch (ggml) {
      case "token_embd.weight":
        return "model.embed_tokens.weight";
      case "output_norm.weight":
        return "model.norm.weight";
      case "output.weight":
        return "lm_head.weight";
      default:
        break;
    }
    if (!ggml.startsWith("blk.")) {
      return null;
    }
    int dot = ggml.indexOf('.', 4);
    int last = ggml.lastIndexOf('.');
    if (dot < 0 || last <= dot) {
      return null;
    }
    String layer = ggml.substring(4, dot);
    if (layer.isEmpty() || !layer.chars().allMatch(Character::isDigit) || layer.length() > 6) {
      return null;
    }
    String part = ggml.substring(dot + 1, last);
    String kind = ggml.substring(last + 1);
    if (!kind.equals("weight") && !kind.equals("bias")) {
      return null;
    }
    String hf =
        switch (part) {
          case "attn_q" -> "self_attn.q_proj";
          case "attn_k" -> "self_attn.k_proj";
          case "attn_v" -> "self_attn.v_proj";
          case "attn_output" -> "self_attn.o_proj";
          case "ffn_gate" -> "mlp.gate_proj";
          case "ffn_up" -> "mlp.up_proj";
          case "ffn_down" -> "mlp.down_proj";
          case "attn_norm" -> "input_layernorm";
          case "ffn_norm" -> gemma ? "pre_feedforward_layernorm" : "post_attention_layernorm";
          case "post_attention_norm" -> gemma ? "post_attention_layernorm" : null;
          case "post_ffw_norm" -> gemma ? "post_feedforward_layernorm" : null;
          default -> null;
        };
    return hf == null ? null : "model.layers." + Integer.parseInt(layer) + "." + hf + "." + kind;
  }

  @Override
  public Map<String, Path> files() {
    return files;
  }

  private Gguf.Tensor t(String name) {
    return byName.get(name);
  }

  @Override
  public Kind kind(String name) {
    Gguf.Type type = t(name).type();
    if (type == null) {
      return Kind.OTHER;
    }
    return switch (type) {
      case F32 -> Kind.F32;
      case F16 -> Kind.F16;
      case BF16 -> Kind.BF16;
      case Q8_0, Q4_0 -> Kind.Q8_0;
    };
  }

  @Override
  public long[] shape(String name) {
    long[] ne = t(name).ne();
    long[] shape = new long[ne.length];
    for (int i = 0; i < ne.length; i++) {
      shape[i] = ne[ne.length - 1 - i];
    }
    return shape;
  }

  @Override
  public String describe(String name) {
    return t(name).describe() + " (GGUF tensor \"" + t(name).name() + "\")";
  }

  @Override
  public float[] floats(String name) {
    float[] a = gguf.floats(t(name));
    return permuteRows(a, a.length, rowOrder(name), float[]::new);
  }

  @Override
  public short[] bits16(String name) {
    short[] a = gguf.bits16(t(name));
    return permuteRows(a, a.length, rowOrder(name), short[]::new);
  }

  /**
   * Row o of the result is row from[o] of a (length elements in all); a itself when from is null.
   */
  private static <A> A permuteRows(A a, int length, int[] from, IntFunction<A> allocate) {
    if (from == null) {
      return a;
    }
    int cols = length / from.length;
    A out = allocate.apply(length);
    for (int o = 0; o < from.length; o++) {
      System.arraycopy(a, from[o] * cols, out, o * cols, cols);
    }
    return out;
  }

  @Override
  public Q8Rows q8(String name) {
    Q8Rows q = gguf.q8(t(name));
    int[] from = rowOrder(name);
    return from == null ? q : q.permuteRows(from);
  }

  /**
   * For llama's q_proj and k_proj: transformers' row o is the file's row from[o] (the inverse of
   * llama.cpp's {@code permute}); null for every other tensor.
   */
  private int[] rowOrder(String name) {
    if (!arch.equals("llama")) {
      return null;
    }
    boolean q = name.contains(".self_attn.q_proj.");
    boolean k = name.contains(".self_attn.k_proj.");
    if (!q && !k) {
      return null;
    }
    long heads = gguf.metaLong(arch + (q ? ".attention.head_count" : ".attention.head_count_kv"));
    if (k && heads < 0) {
      heads = gguf.metaLong(arch + ".attention.head_count");
    }
    int rows = (int) shape(name)[0];
    if (heads < 1 || rows % heads != 0 || (rows / heads) % 2 != 0) {
      throw new ModelFormatException(
          gguf.file(),
          "tensor \""
              + t(name).name()
              + "\" has "
              + rows
              + " rows, not a whole number of heads of even size ("
              + heads
              + " heads): cannot undo llama.cpp's rotary permutation");
    }
    int hd = (int) (rows / heads);
    int half = hd / 2;
    int[] from = new int[rows];
    for (int h = 0; h < heads; h++) {
      for (int s = 0; s < 2; s++) {
        for (int i = 0; i < half; i++) {
          from[h * hd + s * half + i] = h * hd + 2 * i + s;
        }
      }
    }
    return from;
  }

  @Override
  public boolean sameData(String a, String b) {
    return gguf.sameData(t(a), t(b));
  }

  @Override
  public boolean gemmaNormsIncludeOne() {
    return arch.equals("gemma2");
  }

  @Override
  public void check(ModelConfig c) {
    String family = c.family().modelType();
    boolean fits =
        switch (arch) {
          case "llama" -> family.equals("llama") || family.equals("mistral");
          case "qwen2" -> family.equals("qwen2");
          default -> family.equals("gemma2");
        };
    if (!fits) {
      throw new ModelFormatException(
          gguf.file(),
          "is a GGUF \"" + arch + "\" model, but config.json says model_type \"" + family + "\"");
    }
    Object[][] keys = {
      {".block_count", c.layers()},
      {".embedding_length", c.hidden()},
      {".feed_forward_length", c.intermediate()},
      {".attention.head_count", c.heads()},
      {".attention.head_count_kv", c.kvHeads()},
    };
    for (Object[] k : keys) {
      String key = arch + k[0];
      long v = gguf.metaLong(key);
      if (gguf.meta(key) != null && v != ((Integer) k[1]).longValue()) {
        throw new ModelFormatException(
            gguf.file(),
            key
                + " is "
                + gguf.meta(key)
                + " but config.json says "
                + k[1]
                + " (the GGUF file and the config do not match)");
      }
    }
  }

  private long required(String key) {
    long v = gguf.metaLong(key);
    if (v < 1 || v > Integer.MAX_VALUE) {
      throw new ModelFormatException(
          gguf.file(),
          (gguf.meta(key) == null ? "has no " + key : key + " is " + gguf.meta(key))
              + ": without a config.json beside it the model's shape comes from the metadata");
    }
    return v;
  }

  private ModelFormatException needs(String file, String why) {
    return new ModelFormatException(
        gguf.file(), why + ": put the model's " + file + " beside the .gguf file");
  }

  /**
   * config.json's keys from the metadata, checked as config.json is ({@link ModelConfig#fromJson}):
   * llama and qwen2 only, RoPE without scaling.
   */
  ModelConfig config(int layersPresent) {
    if (arch.equals("gemma2")) {
      throw needs(
          "config.json",
          "a gemma2 GGUF file does not keep query_pre_attn_scalar nor the layer types");
    }
    if (gguf.tensors().containsKey("rope_freqs.weight")
        || gguf.meta(arch + ".rope.scaling.type") != null) {
      throw needs(
          "config.json",
          "it scales RoPE (rope_freqs, Llama 3's scaling), which GGUF's metadata does not describe");
    }
    ObjectNode c = JSON.createObjectNode();
    c.put("model_type", arch);
    c.put("hidden_size", required(arch + ".embedding_length"));
    c.put("intermediate_size", required(arch + ".feed_forward_length"));
    c.put("num_hidden_layers", required(arch + ".block_count"));
    long heads = required(arch + ".attention.head_count");
    c.put("num_attention_heads", heads);
    c.put(
        "num_key_value_heads",
        gguf.meta(arch + ".attention.head_count_kv") == null
            ? heads
            : required(arch + ".attention.head_count_kv"));
    if (gguf.meta(arch + ".attention.key_length") != null) {
      c.put("head_dim", required(arch + ".attention.key_length"));
    }
    long vocab = gguf.metaLong(arch + ".vocab_size");
    if (vocab < 1 && gguf.metaStrings("tokenizer.ggml.tokens") != null) {
      vocab = gguf.metaStrings("tokenizer.ggml.tokens").length;
    }
    Gguf.Tensor embed = byName.get("model.embed_tokens.weight");
    if (vocab < 1 && embed != null && embed.ne().length == 2) {
      vocab = embed.ne()[1];
    }
    c.put("vocab_size", vocab);
    double eps = gguf.metaDouble(arch + ".attention.layer_norm_rms_epsilon");
    if (!Double.isNaN(eps)) {
      c.put("rms_norm_eps", (float) eps);
    }
    double theta = gguf.metaDouble(arch + ".rope.freq_base");
    if (!Double.isNaN(theta)) {
      c.put("rope_theta", (float) theta);
    }
    if (gguf.metaLong(arch + ".context_length") > 0) {
      c.put("max_position_embeddings", gguf.metaLong(arch + ".context_length"));
    }
    c.put("tie_word_embeddings", !byName.containsKey("lm_head.weight"));
    if (arch.equals("llama")) {
      c.put("attention_bias", byName.containsKey("model.layers.0.self_attn.q_proj.bias"));
      c.put("mlp_bias", byName.containsKey("model.layers.0.mlp.gate_proj.bias"));
    }
    for (String t : new String[] {"bos", "eos"}) {
      long id = gguf.metaLong("tokenizer.ggml." + t + "_token_id");
      if (id >= 0) {
        c.put(t + "_token_id", id);
      }
    }
    return ModelConfig.fromJson(gguf.file(), c, layersPresent);
  }

  /**
   * tokenizer.json's JSON from {@code tokenizer.ggml.*}, for GPT-2's byte-level BPE ({@code model}
   * "gpt2", {@code pre} absent, "default" or "gpt-2"): the vocabulary, the merges, control tokens
   * (type 3) as special tokens, BOS added when {@code add_bos_token} says so.
   */
  /**
   * The chat template of the file's {@code tokenizer.chat_template} (llama.cpp's converter copies
   * it from tokenizer_config.json), with the texts of its BOS and EOS tokens; null when it has
   * none.
   */
  ChatTemplate chatTemplate() {
    String source = gguf.metaString("tokenizer.chat_template");
    if (source == null || source.isBlank()) {
      return null;
    }
    String[] tokens = gguf.metaStrings("tokenizer.ggml.tokens");
    return ChatTemplate.of(
        source,
        tokenText(tokens, gguf.metaLong("tokenizer.ggml.bos_token_id")),
        tokenText(tokens, gguf.metaLong("tokenizer.ggml.eos_token_id")));
  }

  private static String tokenText(String[] tokens, long id) {
    return tokens != null && id >= 0 && id < tokens.length ? tokens[(int) id] : null;
  }

  JsonNode tokenizer() {
    String model = gguf.metaString("tokenizer.ggml.model");
    String pre = gguf.metaString("tokenizer.ggml.pre");
    if (!"gpt2".equals(model)) {
      throw needs(
          "tokenizer.json",
          "its tokenizer is "
              + (model == null ? "not described" : "\"" + model + "\"")
              + " (only GPT-2's byte-level BPE is built from GGUF metadata)");
    }
    if (pre != null && !pre.equals("default") && !pre.equals("gpt-2")) {
      throw needs(
          "tokenizer.json",
          "tokenizer.ggml.pre \"" + pre + "\" splits text by a regex this reader does not know");
    }
    String[] tokens = gguf.metaStrings("tokenizer.ggml.tokens");
    String[] merges = gguf.metaStrings("tokenizer.ggml.merges");
    long[] types = gguf.metaLongs("tokenizer.ggml.token_type");
    if (tokens == null || merges == null) {
      throw needs("tokenizer.json", "it has no tokenizer.ggml.tokens or tokenizer.ggml.merges");
    }
    ObjectNode root = JSON.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    ObjectNode vocab = JSON.createObjectNode();
    for (int i = 0; i < tokens.length; i++) {
      vocab.put(tokens[i], i);
      if (types != null && i < types.length && types[i] == 3) {
        ObjectNode t = added.addObject();
        t.put("id", i);
        t.put("content", tokens[i]);
        t.put("single_word", false);
        t.put("lstrip", false);
        t.put("rstrip", false);
        t.put("normalized", false);
        t.put("special", true);
      }
    }
    root.putNull("normalizer");
    ObjectNode byteLevel = JSON.createObjectNode();
    byteLevel.put("type", "ByteLevel");
    byteLevel.put("add_prefix_space", false);
    byteLevel.put("trim_offsets", true);
    byteLevel.put("use_regex", true);
    root.set("pre_tokenizer", byteLevel);
    long bos = gguf.metaLong("tokenizer.ggml.bos_token_id");
    if (Boolean.TRUE.equals(gguf.meta("tokenizer.ggml.add_bos_token"))
        && bos >= 0
        && bos < tokens.length) {
      String b = tokens[(int) bos];
      ObjectNode post = root.putObject("post_processor");
      post.put("type", "TemplateProcessing");
      ArrayNode single = post.putArray("single");
      single.addObject().putObject("SpecialToken").put("id", b).put("type_id", 0);
      single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
      ArrayNode pair = post.putArray("pair");
      pair.addObject().putObject("SpecialToken").put("id", b).put("type_id", 0);
      pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
      pair.addObject().putObject("SpecialToken").put("id", b).put("type_id", 1);
      pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
      ObjectNode special = post.putObject("special_tokens").putObject(b);
      special.put("id", b);
      special.putArray("ids").add(bos);
      special.putArray("tokens").add(b);
    } else {
      root.putNull("post_processor");
    }
    ObjectNode decoder = byteLevel.deepCopy();
    decoder.put("add_prefix_space", true);
    root.set("decoder", decoder);
    ObjectNode m = root.putObject("model");
    m.put("type", "BPE");
    m.putNull("dropout");
    m.putNull("unk_token");
    m.putNull("continuing_subword_prefix");
    m.putNull("end_of_word_suffix");
    m.put("fuse_unk", false);
    m.put("byte_fallback", false);
    m.put("ignore_merges", false);
    m.set("vocab", vocab);
    ArrayNode mergeList = m.putArray("merges");
    for (String merge : merges) {
      mergeList.add(merge);
    }
    return root;
  }

  @Override
  public void close() {
    gguf.close();
  }

  @Override
  public String toString() {
    return gguf.file() + " " + Arrays.toString(byName.keySet().toArray());
  }
}
