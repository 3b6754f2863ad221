/**
 * FlashAttention4j: exact, IO-aware attention for the JVM.
 *
 * <p>The doors are {@link dev.flashattn4j.api.Attention} (static, on a shared engine) and {@link
 * dev.flashattn4j.api.AttentionEngine} (closeable, with its own threads): forward, backward, decode
 * over the paged KV cache, varlen. What a call is described and answered with lives in {@code
 * values} (options, mask, shape, causal, window, dropout, result, gradients) and {@code config}
 * (threads, tiles, micro-kernel, caches); tensors and the .npy and safetensors readers in {@code
 * tensor}; the paged KV cache in {@code cache}; the float64 oracle and error budget in {@code
 * reference}; the paper's Algorithm 1 and Algorithm 4 with their I/O counts in {@code paper}.
 *
 * <p>The kernels ({@code kernel}, {@code kernel.decode}, {@code kernel.varlen}) and the SIMD
 * helpers and thread team ({@code internal}) are not exported: they are reached through the engine.
 * Arrows point one way: api → kernel → values and config, never back (docs/ARCHITECTURE.md; a test
 * checks it).
 */
module dev.flashattn4j {
  requires transitive jdk.incubator.vector;

  exports dev.flashattn4j.api;
  exports dev.flashattn4j.values;
  exports dev.flashattn4j.config;
  exports dev.flashattn4j.tensor;
  exports dev.flashattn4j.cache;
  exports dev.flashattn4j.reference;
  exports dev.flashattn4j.paper;
}
