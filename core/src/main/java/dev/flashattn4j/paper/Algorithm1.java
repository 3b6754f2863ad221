package dev.flashattn4j.paper;

import dev.flashattn4j.internal.Softmax;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.AttentionShape;
import dev.flashattn4j.values.Dropout;
import java.util.Arrays;

/**
 * The paper's Algorithm 1 (Dao et al. 2022, "FlashAttention"), line by line, with the paper's names
 * and loop order: the outer loop runs over the T_c blocks K_j, V_j, the inner loop over the T_r
 * blocks Q_i, and the statistics m and ℓ of every row live in "HBM" between steps, so that O_i is
 * rescaled at every step. It is written to be read next to the paper (see docs/ALGORITHM.md), not
 * to be fast: the fast kernels are in {@code kernel/}.
 *
 * <p>Beyond the paper it supports every option of the oracle: the scale, soft-cap, masks, causal
 * (both alignments) and windows enter S_ij (line 9); GQA reads K/V head h / (H_q / H_kv); N_q ≠ N_k
 * and d_v ≠ d change the block counts and tile widths. A row whose every score is −∞ gives O_i = 0
 * and LSE = −∞: exp(−∞ − (−∞)) is never evaluated. The block sizes use d = max(d, d_v), so that
 * each of Q_i, K_j, V_j, O_i fits the paper's share M/4 of the SRAM. Causal tiles are not skipped
 * (the paper's Algorithm 1 does not skip them), so the HBM traffic is the paper's.
 */
public final class Algorithm1 {

  private Algorithm1() {}

  /**
   * Runs Algorithm 1 with an SRAM of {@code sram} floats.
   *
   * @param q (B, H_q, N_q, d)
   * @param k (B, H_kv, N_k, d)
   * @param v (B, H_kv, N_k, d_v)
   * @param sram M, the SRAM size in elements; at least {@link BlockSizes#minimumSram 4·max(d, d_v)}
   * @return O of shape (B, H_q, N_q, d_v) with the rank of q, and LSE = m + log ℓ per row
   * @throws IllegalArgumentException when the shapes don't fit or M is too small
   */
  public static AttentionResult compute(
      Tensor q, Tensor k, Tensor v, AttentionOptions options, int sram) {
    return compute(q, k, v, options, sram, null, null);
  }

  /**
   * Runs Algorithm 1, counting its HBM traffic and reporting each step.
   *
   * @param q (B, H_q, N_q, d)
   * @param k (B, H_kv, N_k, d)
   * @param v (B, H_kv, N_k, d_v)
   * @param sram M, the SRAM size in elements
   * @param counter counts the elements each line moves (lines 6, 8, 12, 13), or null
   * @param listener sees every step (with a counter of its own when {@code counter} is null), or
   *     null
   */
  public static AttentionResult compute(
      Tensor q,
      Tensor k,
      Tensor v,
      AttentionOptions options,
      int sram,
      IoCounter counter,
      StepListener listener) {
    AttentionShape shape = AttentionShape.of(q, k, v, options);
    BlockSizes sizes =
        BlockSizes.of(
            sram, Math.max(shape.headDim(), shape.valueDim()), shape.queryRows(), shape.keyRows());
    IoCounter io = counter == null && listener != null ? new IoCounter() : counter;
    if (listener != null) {
      listener.start(sizes, shape);
    }
    Tensor out = Tensor.zeros(shape.outputShape(q.rank()));
    float[] lse = new float[shape.outputRows()];
    Run run = new Run(q, k, v, options, shape, sizes, io, listener);
    for (int b = 0; b < shape.batch(); b++) {
      for (int h = 0; h < shape.queryHeads(); h++) {
        run.head(b, h, out, lse);
      }
    }
    AttentionResult result = new AttentionResult(out, lse);
    if (listener != null) {
      listener.finish(result, io.tally());
    }
    return result;
  }

  /** The state of one run: the inputs, the block sizes and the on-chip buffers. */
  private static final class Run {
    private final Tensor v;
    private final AttentionShape shape;
    private final BlockSizes sizes;
    private final IoCounter io;
    private final StepListener listener;
    private final Scores scores;
    private final Dropout.Rows drop;
    private final AttentionOptions options;
    private final int nq;
    private final int dv;
    // SRAM: S_ij / P̃_ij (B_r × B_c) and the row statistics of one step (B_r each)
    private final float[] sij;
    private final float[] mTilde;
    private final float[] lTilde;
    private final float[] mNew;
    private final float[] lNew;
    private final double[] pv;

    Run(
        Tensor q,
        Tensor k,
        Tensor v,
        AttentionOptions options,
        AttentionShape shape,
        BlockSizes sizes,
        IoCounter io,
        StepListener listener) {
      this.v = v;
      this.shape = shape;
      this.sizes = sizes;
      this.io = io;
      this.listener = listener;
      this.scores = new Scores(q, k, options);
      this.drop = options.dropout().active() ? new Dropout.Rows(options.dropout()) : null;
      this.options = options;
      this.nq = shape.queryRows();
      this.dv = shape.valueDim();
      this.sij = new float[sizes.br() * sizes.bc()];
      this.mTilde = new float[sizes.br()];
      this.lTilde = new float[sizes.br()];
      this.mNew = new float[sizes.br()];
      this.lNew = new float[sizes.br()];
      this.pv = new double[dv];
    }

    /** Algorithm 1 for batch b, query head h; writes O and LSE of its rows. */
    void head(int b, int h, Tensor out, float[] lse) {
      int hk = shape.kvHead(h);
      float sink = options.sink(h);
      int d = shape.headDim();
      // line 2: O = (0)_{N×d}, ℓ = (0)_N, m = (−∞)_N in HBM
      float[] o = new float[nq * dv];
      float[] l = new float[nq];
      float[] m = new float[nq];
      Arrays.fill(m, Float.NEGATIVE_INFINITY);
      if (sink != Float.NEGATIVE_INFINITY) {
        // an attention sink: one more logit in every row, without a value: m = sink, ℓ = e⁰
        Arrays.fill(m, sink);
        Arrays.fill(l, 1f);
      }
      // lines 3–4: Q, O, ℓ, m in T_r blocks of B_r rows; K, V in T_c blocks of B_c rows
      for (int j = 0; j < sizes.tc(); j++) { // line 5: for 1 ≤ j ≤ T_c
        int c0 = sizes.colStart(j);
        int c1 = sizes.colEnd(j);
        int bc = c1 - c0;
        // line 6: load K_j, V_j from HBM to SRAM
        count(6, (long) bc * (d + dv), 0);
        if (listener != null) {
          listener.blockLoaded(b, h, j, c0, c1, io.tally());
        }
        for (int i = 0; i < sizes.tr(); i++) { // line 7: for 1 ≤ i ≤ T_r
          int r0 = sizes.rowStart(i);
          int r1 = sizes.rowEnd(i);
          int br = r1 - r0;
          // line 8: load Q_i, O_i, ℓ_i, m_i from HBM to SRAM
          count(8, (long) br * (d + dv + 2), 0);
          step(b, h, hk, r0, r1, c0, c1, o, l, m);
          // lines 12–13: write O_i, ℓ_i, m_i to HBM
          count(12, 0, (long) br * dv);
          count(13, 0, 2L * br);
          if (io != null) {
            // K_j, V_j, Q_i, O_i, ℓ_i, m_i, S_ij (= P̃_ij), m̃_ij, ℓ̃_ij, m_i^new, ℓ_i^new
            io.holding((long) bc * (d + dv) + (long) br * (d + dv + 2) + (long) br * bc + 4L * br);
          }
          if (listener != null) {
            listener.step(snapshot(b, h, j, i, r0, r1, c0, c1, o, l, m));
          }
        }
      }
      // line 16: return O; the LSE of row r is m_r + log ℓ_r (−∞ for a row with no key)
      for (int r = 0; r < nq; r++) {
        System.arraycopy(o, r * dv, out.data(), out.rowOffset(b, h, r), dv);
        // (a row that saw a NaN or +∞ score has ℓ = NaN: its LSE is NaN too)
        lse[(b * shape.queryHeads() + h) * nq + r] = Softmax.lse(m[r], l[r]);
      }
    }

    /** Lines 9–13 for rows [r0, r1) of Q and keys [c0, c1), updating O, ℓ, m in place. */
    private void step(
        int b, int h, int hk, int r0, int r1, int c0, int c1, float[] o, float[] l, float[] m) {
      int bc = c1 - c0;
      for (int r = 0; r < r1 - r0; r++) {
        int row = r0 + r;
        // line 9: S_ij = Q_i K_jᵀ (scaled, soft-capped, masked)
        for (int c = 0; c < bc; c++) {
          sij[r * bc + c] = scores.score(b, h, hk, row, c0 + c);
        }
        // line 10: m̃_ij = rowmax(S_ij)
        float mt = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < bc; c++) {
          mt = Math.max(mt, sij[r * bc + c]);
        }
        // line 10: P̃_ij = exp(S_ij − m̃_ij) (0 for a row of −∞), ℓ̃_ij = rowsum(P̃_ij)
        float lt = 0;
        for (int c = 0; c < bc; c++) {
          float p = mt == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(sij[r * bc + c] - mt);
          sij[r * bc + c] = p;
          lt += p;
        }
        // line 11: m_i^new = max(m_i, m̃_ij)
        float mi = m[row];
        float mn = Math.max(mi, mt);
        // line 11: ℓ_i^new = e^{m_i − m_i^new} ℓ_i + e^{m̃_ij − m_i^new} ℓ̃_ij
        float alpha = expDiff(mi, mn); // α = e^{m_i − m_i^new}
        float beta = expDiff(mt, mn); // β = e^{m̃_ij − m_i^new}
        float ln = alpha * l[row] + beta * lt;
        // line 12: O_i = diag(ℓ_i^new)⁻¹ (diag(ℓ_i) α O_i + β P̃_ij V_j)
        Arrays.fill(pv, 0);
        for (int c = 0; c < bc; c++) {
          // dropout (the paper's Algorithm 2, line 11): P̃ ∘ Z / (1 − p)
          float p =
              drop == null ? sij[r * bc + c] : sij[r * bc + c] * drop.factor(b, h, row, c0 + c);
          if (p != 0) {
            int vo = v.rowOffset(b, hk, c0 + c);
            for (int e = 0; e < dv; e++) {
              pv[e] += (double) p * v.data()[vo + e];
            }
          }
        }
        float keep = l[row] * alpha;
        for (int e = 0; e < dv; e++) {
          float acc = keep * o[row * dv + e] + beta * (float) pv[e];
          o[row * dv + e] = ln == 0 ? 0f : acc / ln; // ℓ = NaN (a NaN or +∞ score): O = NaN
        }
        // line 13: ℓ_i = ℓ_i^new, m_i = m_i^new
        l[row] = ln;
        m[row] = mn;
        mTilde[r] = mt;
        lTilde[r] = lt;
        mNew[r] = mn;
        lNew[r] = ln;
      }
    }

    /** e^{x − y} for x ≤ y, taken as 1 when x = y (so that e^{−∞ − (−∞)} is 1, never NaN). */
    private static float expDiff(float x, float y) {
      return x == y ? 1f : (float) Math.exp(x - y);
    }

    private void count(int line, long reads, long writes) {
      if (io != null) {
        io.read(line, reads);
        io.write(line, writes);
      }
    }

    private StepListener.Step snapshot(
        int b,
        int h,
        int j,
        int i,
        int r0,
        int r1,
        int c0,
        int c1,
        float[] o,
        float[] l,
        float[] m) {
      int br = r1 - r0;
      int bc = c1 - c0;
      float[] s = new float[br * bc];
      for (int r = 0; r < br; r++) {
        for (int c = 0; c < bc; c++) {
          s[r * bc + c] = scores.score(b, h, shape.kvHead(h), r0 + r, c0 + c);
        }
      }
      return new StepListener.Step(
          b,
          h,
          j,
          i,
          r0,
          r1,
          c0,
          c1,
          s,
          Arrays.copyOf(mTilde, br),
          Arrays.copyOf(lTilde, br),
          Arrays.copyOf(mNew, br),
          Arrays.copyOf(lNew, br),
          o.clone(),
          l.clone(),
          m.clone(),
          io.tally());
    }
  }
}
