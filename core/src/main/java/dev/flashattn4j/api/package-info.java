/**
 * The front door: {@link dev.flashattn4j.api.Attention}, static methods on one shared engine, and
 * {@link dev.flashattn4j.api.AttentionEngine}, an engine with its own threads that the caller
 * closes. Both run the forward pass, the backward pass, the decode step over a {@link
 * dev.flashattn4j.cache.PagedKvCache} and packed (varlen) batches, every one exact, in O(N) extra
 * memory, with the semantics of docs/SEMANTICS.md. A call is described with the values of {@link
 * dev.flashattn4j.values} and answered with an {@link dev.flashattn4j.values.AttentionResult} or
 * {@link dev.flashattn4j.values.AttentionGradients}.
 *
 * <pre>{@code
 * Tensor q = Tensor.of(qData, 1, 8, 1024, 64);   // (B, H, N, d)
 * AttentionResult r = Attention.forward(q, k, v,
 *     AttentionOptions.builder().causal(Causal.TOP_LEFT).build());
 * }</pre>
 */
package dev.flashattn4j.api;
