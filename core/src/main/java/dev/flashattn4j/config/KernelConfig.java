package dev.flashattn4j.config;

import dev.flashattn4j.internal.VectorModule;

/**
 * How an engine's kernels run, forward and backward: threads, tile sizes (or 0 to size them from
 * the caches: the kernel layer's {@code Tiles}), whether the vector paths are used, the caches and
 * the register block of the matrix products.
 *
 * @param threads worker threads (the caller's thread counts as one), at least 1
 * @param blockRows B_r, query rows per work item, or 0 to size from the cache (see the kernel
 *     layer's {@code Tiles}); rounded up to a multiple of the vector lane count
 * @param blockCols B_c, keys per tile, or 0 to size from the cache (see {@code Tiles})
 * @param vectorized false forces the scalar twins even when vectors are on (as {@code
 *     flashattn.vector.bits=0} does for the whole JVM)
 * @param cache the cache sizes the automatic tiles are derived from
 * @param microKernel the register block of the matrix products (see {@link MicroKernel})
 * @param decodeChunkKeys keys per split of the decode step's split-KV work, or 0 for the default
 *     (1,024)
 */
public record KernelConfig(
    int threads,
    int blockRows,
    int blockCols,
    boolean vectorized,
    CacheInfo cache,
    MicroKernel microKernel,
    int decodeChunkKeys) {

  /**
   * Checks the configuration.
   *
   * @throws IllegalArgumentException naming the value out of range
   */
  public KernelConfig {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, not " + threads);
    }
    if (blockRows > MAX_BLOCK || blockCols > MAX_BLOCK) {
      throw new IllegalArgumentException(
          "block sizes must be at most "
              + MAX_BLOCK
              + ", not B_r = "
              + blockRows
              + ", B_c = "
              + blockCols);
    }
    if (blockRows < 0 || blockCols < 0) {
      throw new IllegalArgumentException(
          "block sizes must be positive (or 0 for automatic), not B_r = "
              + blockRows
              + ", B_c = "
              + blockCols);
    }
    if (cache == null) {
      throw new IllegalArgumentException("cache must not be null");
    }
    if (microKernel == null) {
      throw new IllegalArgumentException("microKernel must not be null");
    }
    if (decodeChunkKeys < 0) {
      throw new IllegalArgumentException(
          "decodeChunkKeys must be positive (or 0 for the default), not " + decodeChunkKeys);
    }
  }

  /** A configuration with the decode step's default chunks. */
  public KernelConfig(
      int threads,
      int blockRows,
      int blockCols,
      boolean vectorized,
      CacheInfo cache,
      MicroKernel microKernel) {
    this(threads, blockRows, blockCols, vectorized, cache, microKernel, 0);
  }

  /**
   * The largest B_r or B_c a configuration takes: the tiles are scratch arrays of B_r·B_c floats.
   */
  public static final int MAX_BLOCK = 1 << 14;

  /** A configuration with this JVM's micro-kernel ({@link MicroKernel#chosen()}). */
  public KernelConfig(
      int threads, int blockRows, int blockCols, boolean vectorized, CacheInfo cache) {
    this(threads, blockRows, blockCols, vectorized, cache, MicroKernel.chosen());
  }

  /**
   * All cores, automatic tiles, vectors as the JVM allows, this machine's caches and micro-kernel.
   */
  public static KernelConfig defaults() {
    return new KernelConfig(
        Runtime.getRuntime().availableProcessors(), 0, 0, true, CacheInfo.detect());
  }

  /** The same configuration with {@code threads} threads. */
  public KernelConfig withThreads(int threads) {
    return new KernelConfig(
        threads, blockRows, blockCols, vectorized, cache, microKernel, decodeChunkKeys);
  }

  /** The same configuration with fixed tiles (0 = automatic). */
  public KernelConfig withTiles(int blockRows, int blockCols) {
    return new KernelConfig(
        threads, blockRows, blockCols, vectorized, cache, microKernel, decodeChunkKeys);
  }

  /** The same configuration with the vector paths on or off. */
  public KernelConfig withVectorized(boolean vectorized) {
    return new KernelConfig(
        threads, blockRows, blockCols, vectorized, cache, microKernel, decodeChunkKeys);
  }

  /** The same configuration with decode chunks of {@code keys} keys (0: the default). */
  public KernelConfig withDecodeChunkKeys(int keys) {
    return new KernelConfig(threads, blockRows, blockCols, vectorized, cache, microKernel, keys);
  }

  /** The same configuration with another register block. */
  public KernelConfig withMicroKernel(MicroKernel microKernel) {
    return new KernelConfig(
        threads, blockRows, blockCols, vectorized, cache, microKernel, decodeChunkKeys);
  }

  /**
   * True when this configuration runs the vector paths: {@code vectorized}, and this JVM has the
   * module {@code jdk.incubator.vector} with vectors not turned off by {@code
   * flashattn.vector.bits=0}. Without the module the scalar twins run, and the first call says
   * once, on standard error, how to get the SIMD speed ({@code --add-modules
   * jdk.incubator.vector}).
   */
  public boolean usesVectors() {
    return vectorized && VectorModule.vectorsEnabled();
  }
}
