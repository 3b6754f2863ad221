package dev.flashattn4j.kernel;

/**
 * How the forward kernel runs: threads, tile sizes and whether the vector paths are used.
 *
 * @param threads worker threads (the caller's thread counts as one), at least 1
 * @param blockRows B_r, query rows per work item, or 0 to size from the cache (see {@link
 *     #tileRows}); rounded up to a multiple of the vector lane count
 * @param blockCols B_c, keys per tile, or 0 to size from the cache (see {@link #tileCols})
 * @param vectorized false forces the scalar twins even when vectors are on (as {@code
 *     flashattn.vector.bits=0} does for the whole JVM)
 * @param cache the cache sizes the automatic tiles are derived from
 */
public record KernelConfig(
    int threads, int blockRows, int blockCols, boolean vectorized, CacheInfo cache) {

  public KernelConfig {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, not " + threads);
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
  }

  /** All cores, automatic tiles, vectors as the JVM allows, this machine's caches. */
  public static KernelConfig defaults() {
    return new KernelConfig(
        Runtime.getRuntime().availableProcessors(), 0, 0, true, CacheInfo.detect());
  }

  /** The same configuration with {@code threads} threads. */
  public KernelConfig withThreads(int threads) {
    return new KernelConfig(threads, blockRows, blockCols, vectorized, cache);
  }

  /** The same configuration with fixed tiles (0 = automatic). */
  public KernelConfig withTiles(int blockRows, int blockCols) {
    return new KernelConfig(threads, blockRows, blockCols, vectorized, cache);
  }

  /** The same configuration with the vector paths on or off. */
  public KernelConfig withVectorized(boolean vectorized) {
    return new KernelConfig(threads, blockRows, blockCols, vectorized, cache);
  }

  /** True when this configuration runs the vector paths. */
  public boolean usesVectors() {
    return vectorized && Simd.ENABLED;
  }

  /** The lane count rows are padded to: the vector length, or 1 for the scalar path. */
  int lanes() {
    return usesVectors() ? Simd.LANES : 1;
  }

  /**
   * B_r for a call: the Qᵀ and Oᵀ panels of a block (B_r·(d + d_v) floats) fill about half of L1,
   * rounded up to a multiple of 4 vectors (the micro-kernel's register block), between 4 vectors
   * and 256 rows, and never more than N_q rounded up to the lane count. (On a 48 KiB L1 with 16
   * lanes: 64 rows for d = d_v = 64 and for d = d_v = 128.)
   */
  int tileRows(int nq, int d, int dv) {
    int lanes = lanes();
    int step = 4 * lanes;
    int br;
    if (blockRows > 0) {
      br = blockRows;
    } else {
      int fit = cache.l1Bytes() / 2 / (Float.BYTES * Math.max(1, d + dv));
      br = Math.clamp((fit + step - 1) / step * step, step, Math.max(step, 256));
    }
    br = Math.min(br, Math.max(1, nq));
    return (br + lanes - 1) / lanes * lanes;
  }

  /**
   * B_c for a call: the tile of scores (B_c·B_r floats), which the softmax passes over three times,
   * fills a third of L1, so that it stays there next to the Qᵀ panel while K and V stream by; a
   * multiple of 8 keys between 8 and 512. (On a 48 KiB L1 with B_r = 64: 64 keys, which measured
   * best for both d = 64 and d = 128.)
   */
  int tileCols(int br, int d, int dv) {
    if (blockCols > 0) {
      return blockCols;
    }
    int fit = cache.l1Bytes() / 3 / (Float.BYTES * br);
    return Math.clamp(fit / 8 * 8, 8, 512);
  }
}
