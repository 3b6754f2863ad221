/**
 * FlashAttention4j: exact, IO-aware attention for the JVM.
 *
 * <p>The public API: {@link dev.flashattn4j.api.Attention} and {@link
 * dev.flashattn4j.api.AttentionEngine} (forward, decode, varlen), their options and results;
 * tensors and .npy files; the paged KV cache; the float64 oracle and error budget; the paper's
 * Algorithm 1 with its I/O counts; the kernels' configuration. The SIMD helpers, the thread team
 * and the math behind the kernels ({@code dev.flashattn4j.internal}) are not exported.
 */
module dev.flashattn4j {
  requires transitive jdk.incubator.vector;

  exports dev.flashattn4j.api;
  exports dev.flashattn4j.tensor;
  exports dev.flashattn4j.cache;
  exports dev.flashattn4j.reference;
  exports dev.flashattn4j.paper;
  exports dev.flashattn4j.kernel;
  exports dev.flashattn4j.kernel.decode;
  exports dev.flashattn4j.kernel.varlen;
}
