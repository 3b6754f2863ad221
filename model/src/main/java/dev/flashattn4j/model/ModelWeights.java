package dev.flashattn4j.model;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The weights of a model, read from a {@link TensorSource} ({@code model.safetensors}, the shards a
 * {@code model.safetensors.index.json} lists, or a GGUF file) under transformers' names, checked
 * against the config before any is read: every tensor present with the shape the config implies and
 * a floating-point (or GGUF Q8_0/Q4_0) type, no tensor the config does not explain. Matrices are
 * packed for {@link MatMul} (float32, bfloat16 or Q8_0, as the {@link WeightFormat} says), vectors
 * (norms, biases) are float32.
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
  static ModelWeights load(TensorSource source, ModelConfig config, WeightFormat format) {
    Loader loader = new Loader(config, format, source);
    loader.checkAll();
    return loader.read();
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

  /** Checks then reads the tensors of one model. */
  private static final class Loader {
    private final ModelConfig c;
    private final WeightFormat format;
    private final TensorSource src;
    private final Map<String, Path> files;
    private final Set<String> used = new HashSet<>();

    Loader(ModelConfig c, WeightFormat format, TensorSource src) {
      this.c = c;
      this.format = format;
      this.src = src;
      this.files = src.files();
    }

    /** Whether two tensors hold the same dtype, shape and bytes (read from the mapped files). */
    private boolean sameData(String a, String b) {
      return src.sameData(a, b);
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
      TensorSource.Kind kind = src.kind(name);
      if (kind == TensorSource.Kind.OTHER) {
        throw new ModelFormatException(
            file,
            "tensor \""
                + name
                + "\" is "
                + src.describe(name)
                + ": weights must be f32, bf16 or f16 (or, in a GGUF file, Q8_0 or Q4_0)");
      }
      if (kind == TensorSource.Kind.Q8_0 && shape.length != 2) {
        throw new ModelFormatException(
            file,
            "tensor \""
                + name
                + "\" is "
                + src.describe(name)
                + ": only matrices may be quantised");
      }
      if (!Arrays.equals(src.shape(name), shape)) {
        throw new ModelFormatException(
            file,
            "tensor \""
                + name
                + "\" is "
                + src.describe(name)
                + " but config.json implies "
                + Arrays.toString(shape)
                + " (the checkpoint and its config do not match)");
      }
      used.add(name);
    }

    private float[] vector(String name) {
      return floats(name);
    }

    /**
     * A tensor's values as floats, refused when one is NaN or ±∞ (issue 19: all-NaN weights loaded
     * and generated nothing, without a word). A real checkpoint holds none; a damaged one is named.
     */
    private float[] floats(String name) {
      float[] a = src.floats(name);
      for (int i = 0; i < a.length; i++) {
        if (!Float.isFinite(a[i])) {
          throw nonFinite(name, i, a[i]);
        }
      }
      return a;
    }

    /** bfloat16 patterns, refused as {@link #floats} when one is NaN or ±∞ (exponent all ones). */
    private short[] bits16(String name) {
      short[] a = src.bits16(name);
      for (int i = 0; i < a.length; i++) {
        if ((a[i] & 0x7F80) == 0x7F80) {
          throw nonFinite(name, i, Float.intBitsToFloat(a[i] << 16));
        }
      }
      return a;
    }

    /** A Q8_0 matrix as stored, refused as {@link #floats} when a scale is NaN or ±∞. */
    private Q8Rows q8(String name) {
      Q8Rows q = src.q8(name);
      short[] d = q.d();
      for (int i = 0; i < d.length; i++) {
        if ((d[i] & 0x7C00) == 0x7C00) {
          throw nonFinite(name, i * Q8Rows.BLOCK, Float.float16ToFloat(d[i]));
        }
      }
      return q;
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
      String wn = name + ".weight";
      long[] shape = src.shape(wn);
      int out = (int) shape[0];
      int in = (int) shape[1];
      TensorSource.Kind kind = src.kind(wn);
      boolean keep16 =
          (format == WeightFormat.AS_STORED && kind == TensorSource.Kind.BF16)
              || format == WeightFormat.BFLOAT16;
      boolean keepQ8 =
          kind == TensorSource.Kind.Q8_0
              && (format == WeightFormat.AS_STORED || format == WeightFormat.Q8_0);
      PackedMatrix w;
      if (keepQ8) {
        w = PackedMatrix.ofQ8(q8(wn));
      } else if (format == WeightFormat.Q8_0) {
        w = PackedMatrix.ofQ8(Q8Rows.quantize(floats(wn), out, in));
      } else if (keep16 && kind == TensorSource.Kind.BF16) {
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
      if (c.family().gemmaNorms() && !src.gemmaNormsIncludeOne()) {
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
      TensorSource.Kind kind = src.kind("model.embed_tokens.weight");
      if (format == WeightFormat.Q8_0
          || (format == WeightFormat.AS_STORED && kind == TensorSource.Kind.Q8_0)) {
        PackedMatrix embed = linear("model.embed_tokens", false).w();
        return new ModelWeights(c, layers, finalNorm, head, null, null, embed);
      }
      String e = "model.embed_tokens.weight";
      boolean keep16 =
          (format == WeightFormat.AS_STORED && kind == TensorSource.Kind.BF16)
              || format == WeightFormat.BFLOAT16;
      if (keep16) {
        short[] bits = kind == TensorSource.Kind.BF16 ? bits16(e) : toBf16(floats(e));
        return new ModelWeights(c, layers, finalNorm, head, null, bits, null);
      }
      return new ModelWeights(c, layers, finalNorm, head, floats(e), null, null);
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
