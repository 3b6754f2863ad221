/**
 * A paged key/value cache for inference (vLLM's PagedAttention layout): K and V of every layer live
 * in fixed-size pages drawn from one pool, and each sequence owns a block table of pages. Sequences
 * grow, are freed (their pages go back to the pool) and fork (the two share their prefix pages,
 * copied on write). {@link dev.flashattn4j.kernel.decode.DecodeAttention} attends over it.
 */
package dev.flashattn4j.cache;
