package dev.flashattn4j.kernel.decode;

import dev.flashattn4j.cache.KvStorage;
import dev.flashattn4j.cache.PagedKvCache;
import dev.flashattn4j.internal.Scratch;
import dev.flashattn4j.internal.Softmax;
import dev.flashattn4j.values.AttentionMask;
import java.util.Arrays;

/**
 * One thread of a decode step: takes tasks from the plan until none is left. For each task it
 * attends the R = G·N_q query rows of one KV group to a run of key chunks (reading every K and V
 * row once for the whole group), stores one partial result per chunk, and the last task of a group
 * merges the group's chunks in chunk order.
 *
 * <p>Its scratch is allocated when the sizes first grow and reused after: no allocation per step.
 */
final class DecodeWorker implements Scratch.Sized {

  /**
   * Keys whose scores are held at once (per query row). 128 rather than 64 (2026-12-05, 32K keys,
   * H_q = 32, H_kv = 8, d = 128, 2 threads, one JVM, alternating, docs/BENCHMARKS_DECODE.md): a
   * step 1.04-1.29× faster on int8 pages, 1.14× on bfloat16, 1.13× on float16 (widened) and 1.05×
   * on float32 (half as many blocks, each with its fetch, its softmax and its calls); 256 was no
   * better, and slower on bfloat16.
   */
  static final int BLOCK = 128;

  private DecodePlan plan; // the call of the task being run
  private int curB; // the sequence, K/V head and first key of the block being run (for ALiBi)
  private int curG;
  private int curJ0;
  private AttentionMask masked; // the call's mask, or null
  private final float[] pVisible = new float[BLOCK];
  private final int[] offVisible = new int[BLOCK];

  private float[] qs = new float[0]; // R·d: the group's query rows
  private final float[] s = new float[BLOCK]; // scores, then probabilities, of one row
  private final float[] s2 = new float[BLOCK]; // the same for the second row of a pair
  private final float[] s3 = new float[BLOCK]; // and for the third and fourth of a quad
  private final float[] s4 = new float[BLOCK];
  private final float[] lanes = new float[16]; // one vector of DecodeDots.scores4's sums
  private float[] m = new float[0]; // R: running max (NaN once a NaN or +∞ score was seen)
  private float[] l = new float[0]; // R: running sum of e^(s − m)
  private float[] acc = new float[0]; // R·d_v: Σ 2^(s − m) v
  private int[] first = new int[0]; // R: first visible key of the row in the chunk
  private int[] end = new int[0]; // R: one past the last
  private float[] merged = new float[0]; // d_v
  // The block as runs of keys in one page each: run u holds the block's keys [runEnd[u − 1],
  // runEnd[u]) (from 0 for u = 0), key j's rows at kOff[j] of its run's K array and vOff[j] of its
  // V array. One page reference a run, not a key: under G1 each reference store into these (old)
  // arrays runs the post-write barrier and its StoreLoad fence.
  private int runs;
  private final int[] runEnd = new int[BLOCK];
  private final float[][] runK = new float[BLOCK][]; // float32 pages, or the widened block
  private final float[][] runV = new float[BLOCK][];
  private final int[] kOff = new int[BLOCK];
  private final int[] vOff = new int[BLOCK];
  private int touched; // what touch() read, kept so that its loads are not optimised away
  private float[] kWide = new float[0]; // BLOCK·d: K rows widened (the unfused path only)
  private float[] vWide = new float[0]; // BLOCK·d_v
  // The fused path: the runs' narrow pages, and int8's row scales.
  private final byte[][] runK8 = new byte[BLOCK][];
  private final byte[][] runV8 = new byte[BLOCK][];
  private final short[][] runK16 = new short[BLOCK][];
  private final short[][] runV16 = new short[BLOCK][];
  private final float[] kScale = new float[BLOCK];
  private final float[] vScale = new float[BLOCK];

  /** Runs task {@code t} of a call. */
  void run(DecodePlan call, int t) {
    plan = call;
    masked = call.options.mask();
    try {
      ensureScratch();
      run(t);
    } finally {
      plan = null;
      masked = null;
    }
  }

  @Override
  public long bytes() {
    long floats =
        (long) qs.length
            + 4L * s.length
            + m.length
            + l.length
            + acc.length
            + merged.length
            + kWide.length
            + vWide.length
            + first.length
            + end.length;
    return Float.BYTES * floats;
  }

  private void ensureScratch() {
    int r = plan.maxRows;
    if (qs.length < r * plan.headDim) {
      qs = new float[r * plan.headDim];
    }
    if (m.length < r) {
      m = new float[r];
      l = new float[r];
      first = new int[r];
      end = new int[r];
    }
    if (acc.length < r * plan.valueDim) {
      acc = new float[r * plan.valueDim];
    }
    if (merged.length < plan.valueDim) {
      merged = new float[plan.valueDim];
    }
    if (plan.widened && kWide.length < BLOCK * plan.headDim) {
      kWide = new float[BLOCK * plan.headDim];
    }
    if (plan.widened && vWide.length < BLOCK * plan.valueDim) {
      vWide = new float[BLOCK * plan.valueDim];
    }
  }

  private void run(int t) {
    DecodePlan p = plan;
    int b = p.taskSeq[t];
    int g = p.taskHead[t];
    int d = p.headDim;
    // The group's query rows, row r = (new token r / G, query head g·G + r % G): the heads of one
    // token are neighbours, and see the same keys.
    int qb = p.qBatch(b);
    int q0 = p.qBase[b];
    for (int r = 0; r < p.rows(b); r++) {
      int h = g * p.group + r % p.group;
      System.arraycopy(p.q.data(), p.q.rowOffset(qb, h, q0 + r / p.group), qs, r * d, d);
    }
    for (int c = p.taskFrom[t]; c < p.taskTo[t]; c++) {
      chunk(b, g, c);
    }
    if (p.remaining.decrementAndGet(b * p.kvHeads + g) == 0) {
      merge(b, g);
    }
  }

  /** Online softmax over the keys of chunk c of sequence b for KV head g; stores (m, l, acc). */
  private void chunk(int b, int g, int c) {
    DecodePlan p = plan;
    boolean simd = p.simd;
    boolean quads = DecodeDots.scores4Applies(simd, p.headDim);
    int rows = p.rows(b);
    int dv = p.valueDim;
    int k0 = c * p.chunkKeys;
    int k1 = Math.min(p.length[b], k0 + p.chunkKeys);
    int lo = k1;
    int hi = k0;
    for (int r = 0; r < rows; r++) {
      int i = p.rowBase[b] + r / p.group;
      first[r] = Math.max(k0, p.rowStart[i]);
      end[r] = Math.min(k1, p.rowEnd[i]);
      if (first[r] < end[r]) {
        lo = Math.min(lo, first[r]);
        hi = Math.max(hi, end[r]);
      }
    }
    Arrays.fill(m, 0, rows, Float.NEGATIVE_INFINITY);
    Arrays.fill(l, 0, rows, 0f);
    Arrays.fill(acc, 0, rows * dv, 0f);
    curB = b;
    curG = g;
    for (int j0 = lo; j0 < hi; j0 += BLOCK) {
      curJ0 = j0;
      int j1 = Math.min(hi, j0 + BLOCK);
      gather(b, g, j0, j1 - j0);
      if (p.fused) {
        blockFused(rows, j0, j1);
        continue;
      }
      for (int r = 0; r < rows; ) {
        int a = Math.max(j0, first[r]) - j0;
        int e = Math.min(j1, end[r]) - j0;
        // Two (four) rows with the same key range share every load of a key.
        // (a mask may differ from row to row: then one row at a time)
        boolean pair = masked == null && r + 1 < rows && sameRange(r, r + 1);
        boolean quad = pair && quads && r + 3 < rows && sameRange(r, r + 2) && sameRange(r, r + 3);
        if (a < e && quad) {
          scores(r, 4, a, e);
          update4(r, a, e);
        } else if (a < e && pair) {
          scores(r, 2, a, e);
          update2(r, a, e);
        } else if (a < e) {
          scores(r, 1, a, e);
          if (softmax(r, s, a, e)) {
            if (masked == null) {
              accumulate(r, s, a, e);
            } else {
              accumulateVisible(r, a, e);
            }
          }
        }
        r += quad ? 4 : pair ? 2 : 1;
      }
    }
    int at = p.record(b, g, c);
    System.arraycopy(m, 0, p.partials, at, rows);
    System.arraycopy(l, 0, p.partials, at + rows, rows);
    System.arraycopy(acc, 0, p.partials, at + 2 * rows, rows * dv);
  }

  /**
   * The rows of one block of keys [j0, j1) from narrow pages, fused: the scores and P·V read the
   * int8 or 16-bit rows where the pages hold them (the rows that share a key range share its loads,
   * four at a time where {@link DecodeFused#scores4Applies}). int8: S = s_k · q·k_int8, one
   * multiply a key, and P·V adds (p · s_v)·v_int8.
   */
  private void blockFused(int rows, int j0, int j1) {
    DecodePlan p = plan;
    boolean simd = p.simd;
    KvStorage st = p.storage;
    boolean int8 = st == KvStorage.INT8;
    boolean quads = DecodeFused.scores4Applies(simd, st, p.headDim);
    int d = p.headDim;
    int dv = p.valueDim;
    for (int r = 0; r < rows; ) {
      int a = Math.max(j0, first[r]) - j0;
      int e = Math.min(j1, end[r]) - j0;
      boolean pair = masked == null && r + 1 < rows && sameRange(r, r + 1);
      boolean quad = pair && quads && r + 3 < rows && sameRange(r, r + 2) && sameRange(r, r + 3);
      int n = quad ? 4 : pair ? 2 : 1;
      if (a < e) {
        // S = q_r Kᵀ for the n rows (int8: the keys' scales after)
        if (quad) {
          scoresFused(r, 4, a, e, s);
        } else {
          for (int i = 0; i < n; i++) {
            scoresFused(r + i, 1, a, e, scoresOf(i));
          }
        }
        boolean all = true;
        int updates = 0;
        for (int i = 0; i < n; i++) {
          float[] sc = scoresOf(i);
          if (int8) {
            DecodeFused.multiply(sc, kScale, a, e);
          }
          if (softmax(r + i, sc, a, e)) {
            updates |= 1 << i;
            if (int8 && masked == null) {
              DecodeFused.multiply(sc, vScale, a, e); // P·V adds (p · s_v)·v_int8
            }
          } else {
            all = false;
          }
        }
        // acc += P V for the rows that saw a key
        if (quad && all) {
          accumulateFused(r, 4, s, a, e);
        } else {
          for (int i = 0; i < n; i++) {
            if ((updates & (1 << i)) == 0) {
              continue;
            }
            if (masked != null) {
              accumulateVisibleFused(r + i, scoresOf(i), a, e);
            } else {
              accumulateFused(r + i, 1, scoresOf(i), a, e);
            }
          }
        }
      }
      r += n;
    }
  }

  /** The scores of the i-th row of a pair or quad: s, s2, s3, s4. */
  private float[] scoresOf(int i) {
    return i == 0 ? s : i == 1 ? s2 : i == 2 ? s3 : s4;
  }

  // The kernels over the block's keys [a, e), run by run (a run: keys in one page). Splitting a
  // range at a run's end changes no bits: a key's score is the one-key kernel's bits whatever group
  // it is scored in (DecodeDotsTest), and each sum of P·V adds its keys in order.

  /** Where run u's keys end, cut at e. */
  private int runTo(int u, int e) {
    return Math.min(e, runEnd[u]);
  }

  /**
   * S = q Kᵀ over keys [a, e) for n query rows from r (n = 4: s..s4, where {@link
   * DecodeDots#scores4Applies}; 2: s, s2; 1: s), from float32 rows (pages or the widened block).
   */
  private void scores(int r, int n, int a, int e) {
    DecodePlan p = plan;
    int d = p.headDim;
    int x = 0;
    for (int u = 0; u < runs; x = runEnd[u++]) {
      int from = Math.max(a, x);
      int to = runTo(u, e);
      if (from >= to) {
        continue;
      }
      if (n == 4) {
        DecodeDots.scores4(qs, r * d, runK[u], kOff, from, to, d, s, s2, s3, s4, lanes);
      } else if (n == 2) {
        DecodeDots.scores2(p.simd, qs, r * d, (r + 1) * d, runK[u], kOff, from, to, d, s, s2);
      } else {
        DecodeDots.scores(p.simd, qs, r * d, runK[u], kOff, from, to, d, s);
      }
    }
  }

  /**
   * acc += P V over keys [a, e) for n query rows from r (n = 4: weights s..s4; 2: s, s2; 1: w),
   * from float32 rows.
   */
  private void accumulate(int r, int n, float[] w, int a, int e) {
    DecodePlan p = plan;
    int dv = p.valueDim;
    int x = 0;
    for (int u = 0; u < runs; x = runEnd[u++]) {
      int from = Math.max(a, x);
      int to = runTo(u, e);
      if (from >= to) {
        continue;
      }
      if (n == 4) {
        DecodeSimd.accumulate4(p.simd, acc, r * dv, dv, s, s2, s3, s4, from, to, runV[u], vOff);
      } else if (n == 2) {
        DecodeSimd.accumulate2(
            p.simd, acc, r * dv, (r + 1) * dv, s, s2, from, to, runV[u], vOff, dv);
      } else {
        DecodeSimd.accumulate(p.simd, acc, r * dv, w, from, to, runV[u], vOff, dv);
      }
    }
  }

  /** {@link #accumulate(int, int, float[], int, int)} for one row. */
  private void accumulate(int r, float[] w, int a, int e) {
    accumulate(r, 1, w, a, e);
  }

  /**
   * S = q Kᵀ over keys [a, e) from narrow pages, fused: n = 4 rows from r into s..s4 (where {@link
   * DecodeFused#scores4Applies}), or n = 1 into {@code out} (int8: unscaled).
   */
  private void scoresFused(int r, int n, int a, int e, float[] out) {
    DecodePlan p = plan;
    int d = p.headDim;
    boolean int8 = p.storage == KvStorage.INT8;
    int x = 0;
    for (int u = 0; u < runs; x = runEnd[u++]) {
      int from = Math.max(a, x);
      int to = runTo(u, e);
      if (from >= to) {
        continue;
      }
      if (n == 4 && int8) {
        DecodeFused.scores4of8(qs, r * d, runK8[u], kOff, from, to, d, s, s2, s3, s4, lanes);
      } else if (n == 4) {
        DecodeFused.scores4of16(qs, r * d, runK16[u], kOff, from, to, d, s, s2, s3, s4, lanes);
      } else if (int8) {
        DecodeFused.scores8(p.simd, qs, r * d, runK8[u], kOff, from, to, d, out);
      } else {
        DecodeFused.scores16(p.simd, qs, r * d, runK16[u], kOff, from, to, d, out);
      }
    }
  }

  /**
   * acc += P V over keys [a, e) from narrow pages, fused: n = 4 rows from r with weights s..s4, or
   * n = 1 with weights w (int8: the value scales already folded in).
   */
  private void accumulateFused(int r, int n, float[] w, int a, int e) {
    DecodePlan p = plan;
    int dv = p.valueDim;
    boolean int8 = p.storage == KvStorage.INT8;
    int x = 0;
    for (int u = 0; u < runs; x = runEnd[u++]) {
      int from = Math.max(a, x);
      int to = runTo(u, e);
      if (from >= to) {
        continue;
      }
      int ao = r * dv;
      if (n == 4 && int8) {
        DecodeFused.accumulate4of8(p.simd, acc, ao, dv, s, s2, s3, s4, from, to, runV8[u], vOff);
      } else if (n == 4) {
        DecodeFused.accumulate4of16(p.simd, acc, ao, dv, s, s2, s3, s4, from, to, runV16[u], vOff);
      } else if (int8) {
        DecodeFused.accumulate8(p.simd, acc, ao, w, from, to, runV8[u], vOff, dv);
      } else {
        DecodeFused.accumulate16(p.simd, acc, ao, w, from, to, runV16[u], vOff, dv);
      }
    }
  }

  /**
   * {@link #accumulateVisible} on narrow pages: the keys of weight ≠ 0 only (a key the mask hides
   * adds nothing, not even the NaN of a non-finite int8 row), int8's value scales folded into the
   * weights of the keys kept.
   */
  private void accumulateVisibleFused(int r, float[] w, int a, int e) {
    DecodePlan p = plan;
    boolean int8 = p.storage == KvStorage.INT8;
    int dv = p.valueDim;
    int x = 0;
    for (int u = 0; u < runs; x = runEnd[u++]) {
      int n = 0;
      for (int j = Math.max(a, x); j < runTo(u, e); j++) {
        if (w[j] != 0f) {
          pVisible[n] = int8 ? w[j] * vScale[j] : w[j];
          offVisible[n] = vOff[j];
          n++;
        }
      }
      if (n > 0 && int8) {
        DecodeFused.accumulate8(p.simd, acc, r * dv, pVisible, 0, n, runV8[u], offVisible, dv);
      } else if (n > 0) {
        DecodeFused.accumulate16(p.simd, acc, r * dv, pVisible, 0, n, runV16[u], offVisible, dv);
      }
    }
  }

  /**
   * P·V of row r over the keys of weight ≠ 0 only (with a mask): a key the mask hides adds nothing,
   * not even 0·NaN from a NaN in its V. The visible keys of each run are compacted first, so the
   * product stays SIMD.
   */
  private void accumulateVisible(int r, int a, int e) {
    DecodePlan p = plan;
    int dv = p.valueDim;
    int x = 0;
    for (int u = 0; u < runs; x = runEnd[u++]) {
      int n = 0;
      for (int j = Math.max(a, x); j < runTo(u, e); j++) {
        if (s[j] != 0f) {
          pVisible[n] = s[j];
          offVisible[n] = vOff[j];
          n++;
        }
      }
      if (n > 0) {
        DecodeSimd.accumulate(p.simd, acc, r * dv, pVisible, 0, n, runV[u], offVisible, dv);
      }
    }
  }

  private boolean sameRange(int r, int r2) {
    return first[r2] == first[r] && end[r2] == end[r];
  }

  /** Softmax and P·V of rows r to r + 3 (scores s, s2, s3, s4 over the block's keys [a, e)). */
  private void update4(int r, int a, int e) {
    boolean u0 = softmax(r, s, a, e);
    boolean u1 = softmax(r + 1, s2, a, e);
    boolean u2 = softmax(r + 2, s3, a, e);
    boolean u3 = softmax(r + 3, s4, a, e);
    if (u0 && u1 && u2 && u3) {
      accumulate(r, 4, s, a, e);
      return;
    }
    accumulateIf(u0, r, s, a, e);
    accumulateIf(u1, r + 1, s2, a, e);
    accumulateIf(u2, r + 2, s3, a, e);
    accumulateIf(u3, r + 3, s4, a, e);
  }

  private void accumulateIf(boolean update, int r, float[] w, int a, int e) {
    if (update) {
      accumulate(r, w, a, e);
    }
  }

  /** Softmax and P·V of rows r and r + 1 (scores s and s2 over the block's keys [a, e)). */
  private void update2(int r, int a, int e) {
    boolean u0 = softmax(r, s, a, e);
    boolean u1 = softmax(r + 1, s2, a, e);
    if (u0 && u1) {
      accumulate(r, 2, s, a, e);
    } else {
      accumulateIf(u0, r, s, a, e);
      accumulateIf(u1, r + 1, s2, a, e);
    }
  }

  /**
   * Folds the scores {@code sc[a, e)} (q_r · k_j of the block's visible keys) into row r's running
   * max and sum, rescales its accumulator, and turns the scores into P = 2^(S − m_new).
   *
   * @return true when the caller must add P·V to the accumulator (false: no key was visible)
   */
  private boolean softmax(int r, float[] sc, int a, int e) {
    DecodePlan p = plan;
    boolean simd = p.simd;
    int dv = p.valueDim;
    // S = scale · q_r Kᵀ (soft-capped), in natural units; m_new = max(m, rowmax S)
    float blockMax;
    if (!p.pipeline.scaleOnly()) {
      // one key at a time, the rule of every kernel (ScorePipeline); ALiBi's diagonal is
      // bottom-right: query i of the N_q new tokens sits at position L − N_q + i
      int h = curG * p.group + r % p.group;
      int i = r / p.group;
      int len = p.length[curB];
      blockMax = Float.NEGATIVE_INFINITY;
      for (int j = a; j < e; j++) {
        float x = p.pipeline.score(sc[j], curB, h, i, curJ0 + j, p.newTokens[curB], len);
        sc[j] = x;
        blockMax = Math.max(blockMax, x);
      }
    } else {
      blockMax = DecodeSimd.scaleMax(simd, sc, a, e, p.pipeline.scale);
    }
    float mNew = Math.max(m[r], blockMax);
    if (mNew == Float.NEGATIVE_INFINITY) {
      return false;
    }
    if (!(mNew < Float.POSITIVE_INFINITY)) {
      // a NaN or +∞ score: the row is NaN (merge sees m = NaN), as in PyTorch
      m[r] = Float.NaN;
      return false;
    }
    // P = e^(S − m_new); l = e^(m − m_new)·l + rowsum P; acc = e^(m − m_new)·acc (+ P V, after)
    float sum = DecodeSimd.expShiftSum(simd, sc, a, e, mNew);
    if (l[r] > 0) {
      float alpha = Softmax.expShift(m[r], mNew);
      if (alpha != 1f) {
        DecodeSimd.scale(simd, acc, r * dv, dv, alpha);
        l[r] *= alpha;
      }
    }
    l[r] += sum;
    m[r] = mNew;
    return true;
  }

  /**
   * Points the block's runs at keys [j0, j0 + n) of head g, a run a page: runK/runV at float32
   * pages (or at the block widened from narrow pages, unfused), runK8/runV8 or runK16/runV16 at
   * narrow pages (fused), with each key's row offsets and int8's row scales; and reads the block
   * into the cache ({@link #touch}). A page reference is stored a run, never a key: under G1 a
   * reference store into these (old) arrays runs the post-write barrier, whose StoreLoad fence cost
   * 13% of a float32 step and 21% of an int8 or bfloat16 one at 32K keys when every key stored its
   * page (measured against ParallelGC, which has no such barrier; docs/BENCHMARKS_DECODE.md).
   */
  private void gather(int b, int g, int j0, int n) {
    DecodePlan p = plan;
    PagedKvCache cache = p.cache;
    int ps = p.pageSize;
    int d = p.headDim;
    int dv = p.valueDim;
    boolean int8 = p.storage == KvStorage.INT8;
    runs = 0;
    int j = 0;
    while (j < n) {
      int pos = j0 + j;
      int page = p.tables[p.tableOffset[b] + pos / ps];
      int slot = pos % ps;
      int run = Math.min(n - j, ps - slot); // consecutive slots of one page are contiguous
      int kAt = (g * ps + slot) * d;
      int vAt = (g * ps + slot) * dv;
      int u = runs++;
      runEnd[u] = j + run;
      if (p.fused && int8) {
        byte[] kPage = cache.keyPage8(p.layer, page);
        byte[] vPage = cache.valuePage8(p.layer, page);
        touch(kPage, kAt, run * d, vPage, vAt, run * dv);
        runK8[u] = kPage;
        runV8[u] = vPage;
        float[] kScales = cache.keyScales(p.layer, page);
        float[] vScales = cache.valueScales(p.layer, page);
        System.arraycopy(kScales, g * ps + slot, kScale, j, run);
        System.arraycopy(vScales, g * ps + slot, vScale, j, run);
        offsets(j, run, kAt, vAt);
      } else if (p.fused) {
        short[] kPage = cache.keyPage16(p.layer, page);
        short[] vPage = cache.valuePage16(p.layer, page);
        touch(kPage, kAt, run * d, vPage, vAt, run * dv);
        runK16[u] = kPage;
        runV16[u] = vPage;
        offsets(j, run, kAt, vAt);
      } else if (int8) {
        byte[] kPage = cache.keyPage8(p.layer, page);
        byte[] vPage = cache.valuePage8(p.layer, page);
        float[] kScales = cache.keyScales(p.layer, page);
        float[] vScales = cache.valueScales(p.layer, page);
        for (int x = 0; x < run; x++) {
          int at = g * ps + slot + x;
          DecodeSimd.widen8(kPage, kAt + x * d, kScales[at], kWide, (j + x) * d, d);
          DecodeSimd.widen8(vPage, vAt + x * dv, vScales[at], vWide, (j + x) * dv, dv);
        }
        runK[u] = kWide;
        runV[u] = vWide;
        offsets(j, run, j * d, j * dv);
      } else if (p.halfWidth) {
        short[] kPage = cache.keyPage16(p.layer, page);
        short[] vPage = cache.valuePage16(p.layer, page);
        touch(kPage, kAt, run * d, vPage, vAt, run * dv);
        DecodeSimd.widen(p.storage, kPage, kAt, kWide, j * d, run * d);
        DecodeSimd.widen(p.storage, vPage, vAt, vWide, j * dv, run * dv);
        runK[u] = kWide;
        runV[u] = vWide;
        offsets(j, run, j * d, j * dv);
      } else {
        float[] kPage = cache.keyPage(p.layer, page);
        float[] vPage = cache.valuePage(p.layer, page);
        touch(kPage, kAt, run * d, vPage, vAt, run * dv);
        runK[u] = kPage;
        runV[u] = vPage;
        offsets(j, run, kAt, vAt);
      }
      j += run;
    }
  }

  /** Keys [j, j + n) of the block: K rows from kAt and V rows from vAt of their run's arrays. */
  private void offsets(int j, int n, int kAt, int vAt) {
    int d = plan.headDim;
    int dv = plan.valueDim;
    for (int x = 0; x < n; x++) {
      kOff[j + x] = kAt + x * d;
      vOff[j + x] = vAt + x * dv;
    }
  }

  /**
   * Reads one float of every cache line of {@code a[from, from + n)} and of {@code b[fromB, fromB +
   * nb)} (a block's K and V rows): the loads are independent, so the memory system fetches the
   * whole block at once, before the kernels need it (Java has no prefetch instruction). The two
   * runs are read side by side, not one after the other: two streams keep more line fetches in
   * flight (a float32 step 1.09× faster at 32K keys, int8 1.03–1.05×, bfloat16 1.02×; four streams,
   * each run's halves side by side, were no better; docs/BENCHMARKS_DECODE.md).
   */
  private void touch(float[] a, int from, int n, float[] b, int fromB, int nb) {
    int x = 0;
    int y = 0;
    int i = from;
    int k = fromB;
    int end = from + n;
    int endB = fromB + nb;
    for (; i < end && k < endB; i += 16, k += 16) {
      x |= Float.floatToRawIntBits(a[i]);
      y |= Float.floatToRawIntBits(b[k]);
    }
    for (; i < end; i += 16) {
      x |= Float.floatToRawIntBits(a[i]);
    }
    for (; k < endB; k += 16) {
      y |= Float.floatToRawIntBits(b[k]);
    }
    touched |= x | y;
  }

  /** {@link #touch(float[], int, int, float[], int, int)} for binary16 elements (32 a line). */
  private void touch(short[] a, int from, int n, short[] b, int fromB, int nb) {
    int x = 0;
    int y = 0;
    int i = from;
    int k = fromB;
    int end = from + n;
    int endB = fromB + nb;
    for (; i < end && k < endB; i += 32, k += 32) {
      x |= a[i];
      y |= b[k];
    }
    for (; i < end; i += 32) {
      x |= a[i];
    }
    for (; k < endB; k += 32) {
      y |= b[k];
    }
    touched |= x | y;
  }

  /** {@link #touch(float[], int, int, float[], int, int)} for int8 elements (64 a line). */
  private void touch(byte[] a, int from, int n, byte[] b, int fromB, int nb) {
    int x = 0;
    int y = 0;
    int i = from;
    int k = fromB;
    int end = from + n;
    int endB = fromB + nb;
    for (; i < end && k < endB; i += 64, k += 64) {
      x |= a[i];
      y |= b[k];
    }
    for (; i < end; i += 64) {
      x |= a[i];
    }
    for (; k < endB; k += 64) {
      y |= b[k];
    }
    touched |= x | y;
  }

  /**
   * O_r = Σ_c e^(m_c − M) acc_c / Σ_c e^(m_c − M) l_c and LSE_r = M + log Σ_c e^(m_c − M) l_c, with
   * M = max_c m_c, over the chunks of (b, g) in chunk order.
   */
  private void merge(int b, int g) {
    DecodePlan p = plan;
    int rows = p.rows(b);
    int dv = p.valueDim;
    int n = p.chunks[b];
    int rec = p.recordSize(b);
    int base = p.record(b, g, 0);
    int qb = p.qBatch(b);
    float[] part = p.partials;
    for (int r = 0; r < rows; r++) {
      int h = g * p.group + r % p.group;
      int i = p.qBase[b] + r / p.group; // the row of out and of the LSE
      int o = p.out.rowOffset(qb, h, i);
      int lseAt = (qb * p.queryHeads + h) * p.queryRows + i;
      // an attention sink joins the merge as one more chunk: m = sink, l = 1, no value
      float sink = p.options.sink(h);
      float max = sink;
      for (int c = 0; c < n; c++) {
        max = Math.max(max, part[base + c * rec + r]);
      }
      if (max == Float.NEGATIVE_INFINITY || Float.isNaN(max)) {
        // no key: O = 0, LSE = −∞; a NaN or +∞ score: O = NaN, LSE = NaN
        float fill = Float.isNaN(max) ? Float.NaN : 0f;
        Arrays.fill(p.out.data(), o, o + dv, fill);
        p.lse[lseAt] = Float.isNaN(max) ? Float.NaN : Float.NEGATIVE_INFINITY;
        continue;
      }
      Arrays.fill(merged, 0, dv, 0f);
      float sum = sink == Float.NEGATIVE_INFINITY ? 0f : Softmax.expShift(sink, max);
      for (int c = 0; c < n; c++) {
        int at = base + c * rec;
        float mc = part[at + r];
        if (mc == Float.NEGATIVE_INFINITY) {
          continue;
        }
        float w = Softmax.expShift(mc, max);
        sum += w * part[at + rows + r];
        DecodeSimd.axpy(p.simd, w, part, at + 2 * rows + r * dv, merged, 0, dv);
      }
      float inv = 1f / sum;
      float[] dst = p.out.data();
      for (int x = 0; x < dv; x++) {
        dst[o + x] = merged[x] * inv;
      }
      p.lse[lseAt] = Softmax.lse(max, sum);
    }
  }
}
