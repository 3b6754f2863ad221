/**
 * Packed variable-length batches (FlashAttention's {@code flash_attn_varlen_func}): sequences of
 * different lengths in one tensor, located by cumulative offsets, with no padding.
 */
package dev.flashattn4j.kernel.varlen;
