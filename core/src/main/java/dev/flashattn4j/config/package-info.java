/**
 * How an engine runs: {@link dev.flashattn4j.config.KernelConfig} (threads, tiles, vectors, decode
 * chunks), the register block of the matrix products ({@link dev.flashattn4j.config.MicroKernel},
 * chosen per CPU from {@link dev.flashattn4j.config.CpuId}), the cache sizes the tiles are sized
 * from ({@link dev.flashattn4j.config.CacheInfo}) and the vector width ({@link
 * dev.flashattn4j.config.Vectors}). Pass a configuration to {@link
 * dev.flashattn4j.api.AttentionEngine#create(KernelConfig)}.
 */
package dev.flashattn4j.config;
