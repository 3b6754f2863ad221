/**
 * The decode step of inference: attention of a few new query tokens per sequence over the keys and
 * values a {@link dev.flashattn4j.cache.PagedKvCache} holds, for a batch of sequences of different
 * lengths ({@link dev.flashattn4j.kernel.decode.DecodeAttention}).
 *
 * <p>A decode step reads every cached K and V row once and does little arithmetic per byte, so
 * memory bandwidth bounds it ({@code dev.flashattn4j.bench.ReadBandwidth} measures the limit). The
 * kernel therefore (1) processes all query heads of a GQA group together, so each K/V row is read
 * once per group; (2) splits long sequences into fixed chunks of keys spread over threads and
 * merges the chunks' partial results by their log-sum-exp (flash-decoding), in chunk order, so that
 * the bits do not depend on the threads; (3) runs SIMD loops with scalar twins (system property
 * {@code flashattn.vector.bits}, 0 = scalar); (4) reads int8 and bfloat16 pages in place: the fused
 * kernels ({@link dev.flashattn4j.kernel.decode.DecodeFused}) widen each loaded vector of bytes or
 * shorts to float lanes in registers and apply int8's row scales once a row, with no float32 copy
 * of the block (float16 pages, which JDK 25's Vector API cannot convert, are widened block by
 * block).
 */
package dev.flashattn4j.kernel.decode;
