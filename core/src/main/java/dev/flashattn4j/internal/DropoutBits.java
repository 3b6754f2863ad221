package dev.flashattn4j.internal;

/**
 * The keep bits of seeded dropout ({@code api.Dropout} defines them): Philox4x32-10 on the counter
 * (j / 8, i, h, b) with a key made of the seed and the offset; key j takes the 16-bit half j mod 2
 * (low half first) of word (j mod 8) / 2 and is kept when that half is below round((1 − p)·2¹⁶).
 * One block gives eight keys of a row.
 *
 * <p>{@link #tile} makes the factors of a whole tile with Philox run on as many rows at once as a
 * vector of longs holds (the 32 × 32 → 64-bit products are {@code vpmuludq} on x86), {@value
 * #CHAINS} blocks at a time so that as many chains of the ten rounds are in flight ({@link
 * DropoutVectors}); rows that do not fill a vector take the scalar twin, which gives the same bits.
 * Not thread-safe: one per thread.
 */
public final class DropoutBits {

  static final long MASK = 0xFFFFFFFFL;
  static final long M0 = 0xD2511F53L;
  static final long M1 = 0xCD9E8D57L;
  static final int W0 = 0x9E3779B9;
  static final int W1 = 0xBB67AE85;

  // vectors on (and the Vector API module present): the SIMD rows live in DropoutVectors, touched
  // only then, so that this class loads without the module
  private static final boolean VECTOR = VectorModule.PRESENT && Simd.ENABLED;
  // rows per vector of longs
  private static final int LL = VECTOR ? DropoutVectors.LANES : 1;
  // Philox blocks in flight per pass
  static final int CHAINS = 4;

  private float p;
  private long seed;
  private long offset;
  private int k0;
  private int k1;
  private int threshold;
  private float scale;
  private final int[] words = new int[4];
  // the round keys k0 + round·W0 and k1 + round·W1, each shifted into the high half of a long
  private final long[] roundKeys = new long[20];
  private long[] rowI = new long[0];
  private long[] rowH = new long[0];
  private final long[] wordsOut = new long[4 * CHAINS * LL]; // two sets of two vectors a block
  // the factors of LL rows for each pattern of kept lanes: lane x of pattern m is kept if bit x is
  private final float[] patterns = new float[(1 << LL) * LL];
  private int cb = -1;
  private int ch;
  private int ci;
  private int cblock = -1;

  /**
   * The bits of dropout p with (seed, offset).
   *
   * @param p the probability of dropping, in (0, 1)
   */
  public DropoutBits(float p, long seed, long offset) {
    reset(p, seed, offset);
  }

  /** Whether these are the bits of dropout p with (seed, offset). */
  public boolean draws(float p, long seed, long offset) {
    return Float.floatToIntBits(p) == Float.floatToIntBits(this.p)
        && seed == this.seed
        && offset == this.offset;
  }

  /** Starts over with dropout p and (seed, offset), allocating nothing. */
  public void reset(float p, long seed, long offset) {
    this.p = p;
    this.seed = seed;
    this.offset = offset;
    cb = -1;
    cblock = -1;
    long key = seed + offset * 0x9E3779B97F4A7C15L;
    k0 = (int) key;
    k1 = (int) (key >>> 32);
    for (int round = 0; round < 10; round++) {
      roundKeys[2 * round] = (long) (k0 + round * W0) << 32;
      roundKeys[2 * round + 1] = (long) (k1 + round * W1) << 32;
    }
    threshold = (int) Math.round((1.0 - p) * 65536.0);
    scale = 1f / (1f - p);
    for (int m = 0; m < 1 << LL; m++) {
      for (int x = 0; x < LL; x++) {
        patterns[m * LL + x] = (m >>> x & 1) != 0 ? scale : 0f;
      }
    }
  }

  /** Whether P(b, h, i, j) is kept; reuses the last Philox block when it holds key j. */
  public boolean keep(int b, int h, int i, int j) {
    int block = j >>> 3;
    if (block != cblock || i != ci || h != ch || b != cb) {
      Philox.block(block, i, h, b, k0, k1, words);
      cb = b;
      ch = h;
      ci = i;
      cblock = block;
    }
    return (words[(j >>> 1) & 3] >>> ((j & 1) << 4) & 0xFFFF) < threshold;
  }

  /** 1/(1 − p) when P(b, h, i, j) is kept, else 0. */
  public float factor(int b, int h, int i, int j) {
    return keep(b, h, i, j) ? scale : 0f;
  }

  /**
   * The factors of a tile stored key-major: z[j·ld + r] for row r of (b, head[r], pos[r]) and key
   * j0 + j. With {@code multiply} the factors multiply z where it holds probabilities and padding
   * rows are left alone; otherwise they are written, and rows [rows, rowsPad) get 0.
   */
  public void tile(
      int b,
      int[] head,
      int[] pos,
      int j0,
      float[] z,
      int ld,
      int rows,
      int rowsPad,
      int keys,
      boolean vector,
      boolean multiply) {
    int r = 0;
    if (vector && VECTOR && keys > 0 && rows >= LL) {
      if (rowI.length < rows) {
        rowI = new long[rows];
        rowH = new long[rows];
      }
      // groups of 2·LL rows: the even rows first, then the odd ones, so that the two vectors of
      // longs of a group interleave into one vector of ints in row order (DropoutVectors.emit2)
      int x = 0;
      for (; x + 2 * LL <= rows; x += 2 * LL) {
        for (int k = 0; k < LL; k++) {
          rowI[x + k] = pos[x + 2 * k] & MASK;
          rowH[x + k] = head[x + 2 * k] & MASK;
          rowI[x + LL + k] = pos[x + 2 * k + 1] & MASK;
          rowH[x + LL + k] = head[x + 2 * k + 1] & MASK;
        }
      }
      for (; x < rows; x++) {
        rowI[x] = pos[x] & MASK;
        rowH[x] = head[x] & MASK;
      }
      for (; r + 2 * LL <= rows; r += 2 * LL) {
        vectorRowPairs(b, r, j0, z, ld, keys, multiply);
      }
      for (; r + LL <= rows; r += LL) {
        vectorRows(b, r, j0, z, ld, keys, multiply);
      }
    }
    for (; r < rows; r++) {
      int h = head[r];
      int i = pos[r];
      for (int j = 0; j < keys; j++) {
        float f = factor(b, h, i, j0 + j);
        z[j * ld + r] = multiply ? z[j * ld + r] * f : f;
      }
    }
    for (; !multiply && r < rowsPad; r++) {
      for (int j = 0; j < keys; j++) {
        z[j * ld + r] = 0f;
      }
    }
  }

  /** Rows [r, r + 2·LL): the blocks of keys [j0, j0 + keys), four blocks per pass. */
  private void vectorRowPairs(int b, int r, int j0, float[] z, int ld, int keys, boolean multiply) {
    int last = (j0 + keys - 1) >>> 3;
    int second = 2 * CHAINS * LL;
    for (int block = j0 >>> 3; block <= last; block += CHAINS) {
      int count = Math.min(CHAINS, last + 1 - block);
      if (count == CHAINS) {
        DropoutVectors.rounds(rowI, rowH, wordsOut, 0, b, r, block, roundKeys);
        DropoutVectors.rounds(rowI, rowH, wordsOut, second, b, r + LL, block, roundKeys);
      } else {
        // the tile's last blocks: no more rounds than they need
        for (int x = 0; x < count; x++) {
          DropoutVectors.roundsOne(rowI, rowH, wordsOut, 2 * x * LL, b, r, block + x, roundKeys);
          DropoutVectors.roundsOne(
              rowI, rowH, wordsOut, second + 2 * x * LL, b, r + LL, block + x, roundKeys);
        }
      }
      DropoutVectors.emit2(
          wordsOut,
          second,
          scale,
          threshold,
          count * 4,
          (block << 3) - j0,
          r,
          z,
          ld,
          keys,
          multiply);
    }
  }

  /** Rows [r, r + LL): the blocks of keys [j0, j0 + keys), four blocks per pass. */
  private void vectorRows(int b, int r, int j0, float[] z, int ld, int keys, boolean multiply) {
    int last = (j0 + keys - 1) >>> 3;
    for (int block = j0 >>> 3; block <= last; block += CHAINS) {
      DropoutVectors.rounds(rowI, rowH, wordsOut, 0, b, r, block, roundKeys);
      DropoutVectors.emit(
          wordsOut,
          patterns,
          threshold,
          Math.min(CHAINS, last + 1 - block) * 4,
          (block << 3) - j0,
          r,
          z,
          ld,
          keys,
          multiply);
    }
  }
}
