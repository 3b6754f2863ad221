package dev.flashattn4j.model;

import java.util.Locale;

/**
 * The decoder-only families this module runs, as transformers defines them ({@code model_type} in
 * config.json). They share one loop (embed, N × (attention, MLP), norm, LM head) and differ in:
 *
 * <ul>
 *   <li>LLAMA: RMSNorm (w·x̂), SwiGLU, optional biases ({@code attention_bias}, {@code mlp_bias}),
 *       RoPE with {@code rope_theta} and optionally Llama 3's {@code llama3} frequency scaling.
 *   <li>MISTRAL: Llama with a sliding window on every layer ({@code sliding_window}).
 *   <li>QWEN2: Llama with biases on q, k and v (not o), sliding layers from {@code
 *       max_window_layers} on when {@code use_sliding_window}.
 *   <li>GEMMA2: RMSNorm ((1 + w)·x̂), norms before and after attention and MLP, embeddings times
 *       √hidden, GeGLU (tanh GELU), scores scaled by {@code query_pre_attn_scalar}^−½ and
 *       soft-capped, sliding and global layers alternating, final logits soft-capped.
 * </ul>
 */
public enum ModelFamily {
  LLAMA("llama"),
  MISTRAL("mistral"),
  QWEN2("qwen2"),
  GEMMA2("gemma2");

  private final String modelType;

  ModelFamily(String modelType) {
    this.modelType = modelType;
  }

  /** The {@code model_type} of config.json. */
  public String modelType() {
    return modelType;
  }

  /** The family of a {@code model_type}, or null. */
  static ModelFamily of(String modelType) {
    for (ModelFamily f : values()) {
      if (f.modelType.equals(modelType.toLowerCase(Locale.ROOT))) {
        return f;
      }
    }
    return null;
  }

  /** Gemma's norms scale by (1 + w) and come in pairs around attention and the MLP. */
  boolean gemmaNorms() {
    return this == GEMMA2;
  }
}
