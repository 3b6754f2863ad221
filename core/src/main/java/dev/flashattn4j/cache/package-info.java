/**
 * A paged key/value cache for inference (vLLM's PagedAttention layout): K and V of every layer live
 * in fixed-size pages drawn from one pool, and each sequence owns a block table of pages. Sequences
 * grow, are freed (their pages go back to the pool) and fork (the two share their prefix pages,
 * copied on write). The decode step ({@link dev.flashattn4j.api.AttentionEngine#decode}) attends
 * over it; the pool grows as tokens come.
 */
package dev.flashattn4j.cache;
