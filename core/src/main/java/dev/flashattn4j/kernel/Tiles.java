package dev.flashattn4j.kernel;

import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.config.MicroKernel;
import dev.flashattn4j.internal.Simd;

/**
 * The kernels' tile sizes from a {@link KernelConfig}: B_r and B_c of the forward and backward
 * passes, and how the backward groups its query blocks and splits its keys, from the caches and the
 * micro-kernel (or the sizes the configuration fixes).
 */
final class Tiles {

  private Tiles() {}

  /** The lane count rows are padded to: the vector length, or 1 for the scalar path. */
  static int lanes(KernelConfig c) {
    return c.usesVectors() ? Simd.LANES : 1;
  }

  /**
   * B_r for a call: the Qᵀ and Oᵀ panels of a block (B_r·(d + d_v) floats) fill about half of L1,
   * rounded up to a whole number of micro-kernel blocks ({@link MicroKernel#vectors()} vectors), at
   * least 64 rows and at most 256, and never more than N_q rounded up to the lane count. When one
   * head's K and V are larger than half the last-level cache, so that every block streams them from
   * memory, B_r is at least 128: each K/V tile then serves twice the rows for one trip from DRAM.
   * (32 KiB L1, 8 lanes, 6 × 2: 64 rows for d = d_v = 64 and 128, and 128 rows for N_k = 65,536 on
   * a 32 MiB L3; 48 KiB L1, 16 lanes, 4 × 4: 64.)
   *
   * @param nq the query rows of one K/V head (GQA's heads packed)
   * @param nk the keys of one head
   */
  static int tileRows(KernelConfig c, int nq, int nk, int d, int dv) {
    int lanes = lanes(c);
    int step = c.microKernel().vectors() * lanes;
    int br;
    if (c.blockRows() > 0) {
      br = c.blockRows();
    } else {
      int fit = c.cache().l1Bytes() / 2 / (Float.BYTES * Math.max(1, d + dv));
      int least = (64 + step - 1) / step * step;
      long kvBytes = (long) Float.BYTES * nk * (d + dv);
      if (kvBytes > c.cache().l3Bytes() / 2) {
        least = (128 + step - 1) / step * step;
      }
      br = Math.clamp((fit + step - 1) / step * step, least, Math.max(least, 256));
    }
    br = Math.min(br, Math.max(1, nq));
    return (br + lanes - 1) / lanes * lanes;
  }

  /**
   * B_c for a call: the tile of scores (B_c·B_r floats), which the softmax passes over three times,
   * fills a third of L1, so that it stays there next to the Qᵀ panel while K and V stream by; a
   * multiple of the micro-kernel's X and of 8 (24 keys for 6 × 2), at least 64 keys rounded up to
   * that (so that a tile's fixed costs, the rescale of Oᵀ and the softmax's α, stay small) and at
   * most 512. (32 KiB L1, 6 × 2: 72 keys; 48 KiB L1, B_r = 64, 4 × 4: 64 keys.)
   */
  static int tileCols(KernelConfig c, int br, int d, int dv) {
    if (c.blockCols() > 0) {
      return c.blockCols();
    }
    int unit = lcm(8, c.microKernel().x());
    int least = (64 + unit - 1) / unit * unit;
    int fit = c.cache().l1Bytes() / 3 / (Float.BYTES * br);
    return Math.clamp(fit / unit * unit, least, Math.max(least, 512 / unit * unit));
  }

  /**
   * The bytes of K, V, dK and dV (2·(d + d_v) floats a key) a backward item may sweep for each of
   * its query blocks: four times L2 (2 MiB on a 512 KiB L2). Beyond it the item groups its blocks
   * ({@link #backwardGroupBlocks}) and runs the keys in sub-chunks ({@link #backwardSubKeys}), so
   * that what a thread keeps hot in L3 stays near this size whatever N is.
   */
  static long backwardBudget(KernelConfig c) {
    return 4L * c.cache().l2Bytes();
  }

  /**
   * How many query blocks a backward item keeps the panels of at once (Qᵀ, Q, dOᵀ, dO and dQᵀ:
   * B_r·(3d + 2d_v) floats a block): 1 while the item's {@code keys} fit {@link #backwardBudget},
   * else as many as fill half of it, at most {@code blocks}. (N = 4096, d = 128, 512 KiB L2: 6 of
   * 64 blocks.)
   */
  static int backwardGroupBlocks(
      KernelConfig c, int br, int dPad, int dvPad, int blocks, int keys) {
    if (keys * keyBytes(dPad, dvPad) <= backwardBudget(c)) {
      return 1;
    }
    long perBlock = (long) Float.BYTES * br * (3L * dPad + 2L * dvPad + 2);
    long g = Math.max(1, backwardBudget(c) / 2 / perBlock);
    return (int) Math.max(1, Math.min(g, blocks));
  }

  /**
   * The keys of a backward sub-chunk, which every block of a group runs before the next: all of the
   * item's {@code keys} while they fit {@link #backwardBudget}, else as many whole tiles of B_c as
   * fill half of it (N = 4096, d = 128, B_c = 72, 512 KiB L2: 504 keys).
   */
  static int backwardSubKeys(KernelConfig c, int bc, int dPad, int dvPad, int keys) {
    if (keys * keyBytes(dPad, dvPad) <= backwardBudget(c)) {
      return Math.max(1, keys);
    }
    long fit = backwardBudget(c) / 2 / keyBytes(dPad, dvPad);
    return (int) Math.max(bc, fit / bc * bc);
  }

  private static long keyBytes(int dPad, int dvPad) {
    return Float.BYTES * 2L * (dPad + dvPad);
  }

  private static int lcm(int a, int b) {
    int g = a;
    for (int r = b; r != 0; ) {
      int t = g % r;
      g = r;
      r = t;
    }
    return a / g * b;
  }
}
