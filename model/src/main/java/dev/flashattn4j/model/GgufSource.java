package dev.flashattn4j.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

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
 * checked against config.json ({@link #check}); config.json and tokenizer.json still come from the
 * directory.
 */
final class GgufSource implements TensorSource {

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
    Gguf.Tensor t = t(name);
    float[] a = gguf.floats(t);
    int[] from = rowOrder(name);
    if (from == null) {
      return a;
    }
    int cols = a.length / from.length;
    float[] out = new float[a.length];
    for (int o = 0; o < from.length; o++) {
      System.arraycopy(a, from[o] * cols, out, o * cols, cols);
    }
    return out;
  }

  @Override
  public short[] bits16(String name) {
    short[] a = gguf.bits16(t(name));
    int[] from = rowOrder(name);
    if (from == null) {
      return a;
    }
    int cols = a.length / from.length;
    short[] out = new short[a.length];
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

  @Override
  public void close() {
    gguf.close();
  }

  @Override
  public String toString() {
    return gguf.file() + " " + Arrays.toString(byName.keySet().toArray());
  }
}
