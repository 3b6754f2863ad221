package dev.flashattn4j.internal;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The keep bits of seeded dropout ({@code api.Dropout} defines them): Philox4x32-10 on the counter
 * (j / 8, i, h, b) with a key made of the seed and the offset; key j takes the 16-bit half j mod 2
 * (low half first) of word (j mod 8) / 2 and is kept when that half is below round((1 − p)·2¹⁶).
 * One block gives eight keys of a row.
 *
 * <p>{@link #tile} makes the factors of a whole tile with Philox run on as many rows at once as a
 * vector of longs holds (the 32 × 32 → 64-bit products are {@code vpmuludq} on x86), two blocks at
 * a time so that two chains of the ten rounds are in flight; rows that do not fill a vector take
 * the scalar twin, which gives the same bits. Not thread-safe: one per thread.
 */
public final class DropoutBits {

  private static final long MASK = 0xFFFFFFFFL;
  private static final long M0 = 0xD2511F53L;
  private static final long M1 = 0xCD9E8D57L;
  private static final int W0 = 0x9E3779B9;
  private static final int W1 = 0xBB67AE85;

  private static final VectorSpecies<Long> LONGS =
      Simd.ENABLED ? VectorSpecies.of(long.class, Simd.SPECIES.vectorShape()) : null;
  // as many floats as LONGS has lanes: the factors of one key for those rows
  private static final VectorSpecies<Float> FLOATS =
      Simd.ENABLED
          ? VectorSpecies.of(float.class, VectorShape.forBitSize(Simd.SPECIES.vectorBitSize() / 2))
          : null;
  private static final int LL = Simd.ENABLED ? LONGS.length() : 1;
  // Philox blocks in flight per pass
  private static final int CHAINS = 4;

  private float p;
  private long seed;
  private long offset;
  private int k0;
  private int k1;
  private int threshold;
  private float scale;
  private final int[] words = new int[4];
  private long[] rowI = new long[0];
  private long[] rowH = new long[0];
  private final long[] wordsOut = new long[4 * CHAINS * LL];
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
    if (vector && Simd.ENABLED && keys > 0 && rows >= LL) {
      if (rowI.length < rows) {
        rowI = new long[rows];
        rowH = new long[rows];
      }
      for (int x = 0; x < rows; x++) {
        rowI[x] = pos[x] & MASK;
        rowH[x] = head[x] & MASK;
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

  /** Rows [r, r + LL): the blocks of keys [j0, j0 + keys), four blocks per pass. */
  private void vectorRows(int b, int r, int j0, float[] z, int ld, int keys, boolean multiply) {
    int last = (j0 + keys - 1) >>> 3;
    for (int block = j0 >>> 3; block <= last; block += CHAINS) {
      rounds(b, r, block);
      emit(Math.min(CHAINS, last + 1 - block) * 4, (block << 3) - j0, r, z, ld, keys, multiply);
    }
  }

  /**
   * The words of counters (block + x, i, h, b), x &lt; {@value #CHAINS}, for rows [r, r + LL), into
   * {@code wordsOut} (word w of block x at (4x + w)·LL): four independent chains of the ten rounds,
   * to hide the multiplies' latency. The low halves of the products are not masked: only the low 32
   * bits of a lane enter a multiply ({@code vpmuludq} reads no more) and the emitting loop keeps 16
   * bits. No vector crosses the method's edges, so C2 compiles it whole whether or not it inlines
   * it.
   */
  private void rounds(int b, int r, int block) {
    LongVector i = LongVector.fromArray(LONGS, rowI, r);
    LongVector h = LongVector.fromArray(LONGS, rowH, r);
    LongVector batch = LongVector.broadcast(LONGS, b & MASK);
    LongVector m0 = LongVector.broadcast(LONGS, M0).and(MASK);
    LongVector m1 = LongVector.broadcast(LONGS, M1).and(MASK);
    LongVector a0 = LongVector.broadcast(LONGS, block & MASK);
    LongVector a1 = i;
    LongVector a2 = h;
    LongVector a3 = batch;
    LongVector b0 = LongVector.broadcast(LONGS, (block + 1) & MASK);
    LongVector b1 = i;
    LongVector b2 = h;
    LongVector b3 = batch;
    LongVector c0 = LongVector.broadcast(LONGS, (block + 2) & MASK);
    LongVector c1 = i;
    LongVector c2 = h;
    LongVector c3 = batch;
    LongVector d0 = LongVector.broadcast(LONGS, (block + 3) & MASK);
    LongVector d1 = i;
    LongVector d2 = h;
    LongVector d3 = batch;
    int ka = k0;
    int kb = k1;
    for (int round = 0; round < 10; round++) {
      LongVector x0 = LongVector.broadcast(LONGS, ka & MASK);
      LongVector x1 = LongVector.broadcast(LONGS, kb & MASK);
      // (hi, lo) = M0·c0 and M1·c2; c0 ← hi(M1·c2) ⊕ c1 ⊕ k0, c2 ← hi(M0·c0) ⊕ c3 ⊕ k1
      LongVector pa = a0.and(MASK).mul(m0);
      LongVector qa = a2.and(MASK).mul(m1);
      LongVector pb = b0.and(MASK).mul(m0);
      LongVector qb = b2.and(MASK).mul(m1);
      LongVector pc = c0.and(MASK).mul(m0);
      LongVector qc = c2.and(MASK).mul(m1);
      LongVector pd = d0.and(MASK).mul(m0);
      LongVector qd = d2.and(MASK).mul(m1);
      a0 =
          qa.lanewise(VectorOperators.LSHR, 32)
              .lanewise(VectorOperators.XOR, a1.lanewise(VectorOperators.XOR, x0));
      a2 =
          pa.lanewise(VectorOperators.LSHR, 32)
              .lanewise(VectorOperators.XOR, a3.lanewise(VectorOperators.XOR, x1));
      a1 = qa;
      a3 = pa;
      b0 =
          qb.lanewise(VectorOperators.LSHR, 32)
              .lanewise(VectorOperators.XOR, b1.lanewise(VectorOperators.XOR, x0));
      b2 =
          pb.lanewise(VectorOperators.LSHR, 32)
              .lanewise(VectorOperators.XOR, b3.lanewise(VectorOperators.XOR, x1));
      b1 = qb;
      b3 = pb;
      c0 =
          qc.lanewise(VectorOperators.LSHR, 32)
              .lanewise(VectorOperators.XOR, c1.lanewise(VectorOperators.XOR, x0));
      c2 =
          pc.lanewise(VectorOperators.LSHR, 32)
              .lanewise(VectorOperators.XOR, c3.lanewise(VectorOperators.XOR, x1));
      c1 = qc;
      c3 = pc;
      d0 =
          qd.lanewise(VectorOperators.LSHR, 32)
              .lanewise(VectorOperators.XOR, d1.lanewise(VectorOperators.XOR, x0));
      d2 =
          pd.lanewise(VectorOperators.LSHR, 32)
              .lanewise(VectorOperators.XOR, d3.lanewise(VectorOperators.XOR, x1));
      d1 = qd;
      d3 = pd;
      ka += W0;
      kb += W1;
    }
    long[] out = wordsOut;
    a0.intoArray(out, 0);
    a1.intoArray(out, LL);
    a2.intoArray(out, 2 * LL);
    a3.intoArray(out, 3 * LL);
    b0.intoArray(out, 4 * LL);
    b1.intoArray(out, 5 * LL);
    b2.intoArray(out, 6 * LL);
    b3.intoArray(out, 7 * LL);
    c0.intoArray(out, 8 * LL);
    c1.intoArray(out, 9 * LL);
    c2.intoArray(out, 10 * LL);
    c3.intoArray(out, 11 * LL);
    d0.intoArray(out, 12 * LL);
    d1.intoArray(out, 13 * LL);
    d2.intoArray(out, 14 * LL);
    d3.intoArray(out, 15 * LL);
  }

  /**
   * Tile keys jj + 2q and jj + 2q + 1 of rows [r, r + LL) from the two halves of word q of {@code
   * wordsOut}: the compare's lane bits pick the factors from {@code patterns}.
   */
  private void emit(int words, int jj, int r, float[] z, int ld, int keys, boolean multiply) {
    int lo = Math.max(0, -jj);
    int hi = Math.min(2 * words, keys - jj);
    for (int t = lo; t < hi; t++) {
      LongVector word = LongVector.fromArray(LONGS, wordsOut, (t >>> 1) * LL);
      LongVector half =
          ((t & 1) == 0 ? word : word.lanewise(VectorOperators.LSHR, 16)).and(0xFFFFL);
      int kept = (int) half.lt(threshold).toLong();
      FloatVector f = FloatVector.fromArray(FLOATS, patterns, kept * LL);
      int at = (jj + t) * ld + r;
      if (multiply) {
        f = f.mul(FloatVector.fromArray(FLOATS, z, at));
      }
      f.intoArray(z, at);
    }
  }
}
