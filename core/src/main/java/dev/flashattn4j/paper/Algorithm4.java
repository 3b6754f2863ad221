package dev.flashattn4j.paper;

import dev.flashattn4j.internal.Checks;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionGradients;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionShape;
import dev.flashattn4j.values.Dropout;
import java.util.Arrays;

/**
 * The paper's Algorithm 4, FlashAttention's backward pass (appendix B.4), line by line: K and V
 * blocks outer (j), Q blocks inner (i); S, P and dP are recomputed on chip from Q, K, V and the
 * forward's row statistics and never stored; dQ_i is read, updated and written back for every j.
 * The SRAM size M sets the blocks as in Algorithm 1 (line 2), and an {@link IoCounter} counts the
 * HBM traffic of lines 7, 10, 21 and 24 (Theorem 5: Θ(N²d²/M) against standard attention's Θ(Nd +
 * N²), {@link StandardAttention#backward}).
 *
 * <pre>
 *  1  set the random number generator to the forward's state R
 *  2  B_c = ⌈M/4d⌉, B_r = min(⌈M/4d⌉, d)
 *  3  Q in T_r blocks of B_r rows; K, V in T_c blocks of B_c rows
 *  4  O, dO, ℓ, m in T_r blocks
 *  5  dQ = 0 in T_r blocks; dK = 0, dV = 0 in T_c blocks (HBM)
 *  6  for 1 ≤ j ≤ T_c:
 *  7    load K_j, V_j from HBM to SRAM
 *  8    d̃K_j = 0, d̃V_j = 0 on chip
 *  9    for 1 ≤ i ≤ T_r:
 * 10      load Q_i, O_i, dO_i, dQ_i, ℓ_i, m_i from HBM to SRAM
 * 11      S_ij = τ Q_i K_jᵀ                  (and the soft cap)
 * 12      S_ij = MASK(S_ij)
 * 13      P_ij = diag(ℓ_i)⁻¹ exp(S_ij − m_i)
 * 14      Z_ij: 1/(1 − p_drop) with probability 1 − p_drop, else 0
 * 15      P_ij^dropped = P_ij ∘ Z_ij
 * 16      d̃V_j ← d̃V_j + (P_ij^dropped)ᵀ dO_i
 * 17      dP_ij^dropped = dO_i V_jᵀ
 * 18      dP_ij = dP_ij^dropped ∘ Z_ij
 * 19      D_i = rowsum(dO_i ∘ O_i)
 * 20      dS_ij = P_ij ∘ (dP_ij − D_i)      (times tanh's derivative under a soft cap)
 * 21      write dQ_i ← dQ_i + τ dS_ij K_j to HBM
 * 22      d̃K_j ← d̃K_j + τ dS_ijᵀ Q_i
 * 24    write dK_j ← d̃K_j, dV_j ← d̃V_j to HBM
 * 26  return dQ, dK, dV
 * </pre>
 *
 * The library keeps ℓ and m as one vector, LSE = m + log ℓ (FlashAttention-2's choice): P_ij =
 * diag(ℓ_i)⁻¹ exp(S_ij − m_i) = exp(S_ij − LSE_i). Line 10 still counts two numbers per row, as the
 * paper does. The "random number generator state" is the {@link Dropout} (seed, offset): each keep
 * bit is a pure function of its position, so line 1 has nothing to do. With GQA, the query heads of
 * a group add their d̃K_j and d̃V_j into the same dK_j, dV_j.
 */
public final class Algorithm4 {

  private Algorithm4() {}

  /**
   * dQ, dK, dV by Algorithm 4.
   *
   * @param q (B, H_q, N_q, d)
   * @param k (B, H_kv, N_k, d)
   * @param v (B, H_kv, N_k, d_v)
   * @param o the forward's output (B, H_q, N_q, d_v)
   * @param lse the forward's LSE = m + log ℓ, B·H_q·N_q floats
   * @param dOut dL/dO, O's shape
   * @param sram M, the SRAM size in elements
   * @param counter counts lines 7, 10, 21, 24, or null
   */
  public static AttentionGradients compute(
      Tensor q,
      Tensor k,
      Tensor v,
      Tensor o,
      float[] lse,
      Tensor dOut,
      AttentionOptions options,
      int sram,
      IoCounter counter) {
    AttentionShape shape = AttentionShape.of(q, k, v, options);
    Checks.notNull(o, "o");
    Checks.notNull(lse, "lse");
    Checks.notNull(dOut, "dOut");
    int[] oShape = shape.outputShape(4);
    for (Tensor t : new Tensor[] {o, dOut}) {
      if (t.batch() != oShape[0]
          || t.heads() != oShape[1]
          || t.rows() != oShape[2]
          || t.cols() != oShape[3]) {
        throw new IllegalArgumentException(
            "o and dOut must have O's shape "
                + Arrays.toString(oShape)
                + ", not "
                + Arrays.toString(t.shape()));
      }
    }
    if (lse.length != shape.outputRows()) {
      throw new IllegalArgumentException(
          "lse has " + lse.length + " floats, needs B·H_q·N_q = " + shape.outputRows());
    }
    BlockSizes sizes =
        BlockSizes.of(
            sram, Math.max(shape.headDim(), shape.valueDim()), shape.queryRows(), shape.keyRows());
    Tensor dq = Tensor.zeros(q.shape());
    Tensor dk = Tensor.zeros(k.shape());
    Tensor dv = Tensor.zeros(v.shape());
    Run run = new Run(q, k, v, o, lse, dOut, options, shape, sizes, counter, dq, dk, dv);
    float[] dsinks = options.hasSinks() ? new float[shape.queryHeads()] : null;
    for (int b = 0; b < shape.batch(); b++) {
      for (int h = 0; h < shape.queryHeads(); h++) {
        run.head(b, h);
        if (dsinks != null) {
          dsinks[h] += run.sinkGradient(b, h, options.sink(h));
        }
      }
    }
    return new AttentionGradients(dq, dk, dv, dsinks);
  }

  /** One run's inputs, outputs, block sizes and on-chip buffers. */
  private static final class Run {
    private final Tensor q;
    private final Tensor k;
    private final Tensor v;
    private final Tensor o;
    private final float[] lse;
    private final Tensor dOut;
    private final AttentionShape shape;
    private final BlockSizes sizes;
    private final IoCounter io;
    private final Tensor dq;
    private final Tensor dk;
    private final Tensor dv;
    private final Scores scores;
    private final Dropout.Rows drop;
    private final float scale;
    private final float cap;
    private final int d;
    private final int dvDim;
    // SRAM: P_ij and dP_ij / dS_ij (B_r × B_c), d̃K_j, d̃V_j (B_c × d, B_c × d_v), D_i (B_r)
    private final float[] p;
    private final float[] ds;
    private final double[] dkj;
    private final double[] dvj;
    private final double[] di;

    Run(
        Tensor q,
        Tensor k,
        Tensor v,
        Tensor o,
        float[] lse,
        Tensor dOut,
        AttentionOptions options,
        AttentionShape shape,
        BlockSizes sizes,
        IoCounter io,
        Tensor dq,
        Tensor dk,
        Tensor dv) {
      this.q = q;
      this.k = k;
      this.v = v;
      this.o = o;
      this.lse = lse;
      this.dOut = dOut;
      this.shape = shape;
      this.sizes = sizes;
      this.io = io;
      this.dq = dq;
      this.dk = dk;
      this.dv = dv;
      this.scores = new Scores(q, k, options);
      this.drop = options.dropout().active() ? new Dropout.Rows(options.dropout()) : null;
      this.scale = options.scaleFor(shape.headDim());
      this.cap = options.softcap();
      this.d = shape.headDim();
      this.dvDim = shape.valueDim();
      this.p = new float[sizes.br() * sizes.bc()];
      this.ds = new float[sizes.br() * sizes.bc()];
      this.dkj = new double[sizes.bc() * d];
      this.dvj = new double[sizes.bc() * dvDim];
      this.di = new double[sizes.br()];
    }

    /**
     * The sink's gradient from the rows of (b, h): −Σ_i P_sink,i·D_i, with P_sink,i = e^{sink −
     * LSE_i} (not a line of the paper, which has no sinks).
     */
    double sinkGradient(int b, int h, float sink) {
      int nq = shape.queryRows();
      double g = 0;
      for (int i = 0; i < nq; i++) {
        double dsum = 0;
        for (int e = 0; e < dvDim; e++) {
          dsum += (double) dOut.get(b, h, i, e) * o.get(b, h, i, e);
        }
        g -= Math.exp(sink - lse[(b * shape.queryHeads() + h) * nq + i]) * dsum;
      }
      return g;
    }

    /** Lines 5–26 for batch b, query head h. */
    void head(int b, int h) {
      int hk = shape.kvHead(h);
      int nq = shape.queryRows();
      for (int j = 0; j < sizes.tc(); j++) { // line 6: for 1 ≤ j ≤ T_c
        int c0 = sizes.colStart(j);
        int bc = sizes.colEnd(j) - c0;
        count(7, (long) bc * (d + dvDim), 0); // line 7: load K_j, V_j
        Arrays.fill(dkj, 0); // line 8: d̃K_j = 0, d̃V_j = 0
        Arrays.fill(dvj, 0);
        for (int i = 0; i < sizes.tr(); i++) { // line 9: for 1 ≤ i ≤ T_r
          int r0 = sizes.rowStart(i);
          int br = sizes.rowEnd(i) - r0;
          // line 10: load Q_i, O_i, dO_i, dQ_i, ℓ_i, m_i
          count(10, (long) br * (2L * d + 2L * dvDim + 2), 0);
          step(b, h, hk, nq, r0, br, c0, bc);
          count(21, 0, (long) br * d); // line 21: write dQ_i
          if (io != null) {
            // K_j, V_j, d̃K_j, d̃V_j, Q_i, O_i, dO_i, dQ_i, ℓ_i, m_i, P_ij, dS_ij, D_i
            io.holding(
                2L * bc * (d + dvDim) + (long) br * (2L * d + 2L * dvDim + 2) + 2L * br * bc + br);
          }
        }
        // line 24: write dK_j ← d̃K_j, dV_j ← d̃V_j (GQA: the group's heads add up)
        count(24, 0, (long) bc * (d + dvDim));
        for (int c = 0; c < bc; c++) {
          int ko = dk.rowOffset(b, hk, c0 + c);
          int vo = dv.rowOffset(b, hk, c0 + c);
          for (int e = 0; e < d; e++) {
            dk.data()[ko + e] += (float) dkj[c * d + e];
          }
          for (int e = 0; e < dvDim; e++) {
            dv.data()[vo + e] += (float) dvj[c * dvDim + e];
          }
        }
      }
    }

    /** Lines 11–22 for rows [r0, r0 + br) and keys [c0, c0 + bc). */
    private void step(int b, int h, int hk, int nq, int r0, int br, int c0, int bc) {
      for (int r = 0; r < br; r++) {
        int row = r0 + r;
        float l = lse[(b * shape.queryHeads() + h) * nq + row];
        // line 19: D_i = rowsum(dO_i ∘ O_i)
        double dsum = 0;
        for (int e = 0; e < dvDim; e++) {
          dsum += (double) dOut.get(b, h, row, e) * o.get(b, h, row, e);
        }
        di[r] = dsum;
        for (int c = 0; c < bc; c++) {
          // lines 11–12: S_ij = τ Q_i K_jᵀ, soft-capped, masked
          float s = scores.score(b, h, hk, row, c0 + c);
          // line 13: P_ij = diag(ℓ_i)⁻¹ exp(S_ij − m_i) = exp(S_ij − LSE_i)
          // (0 for a key the row cannot see, even when the row's LSE is NaN: docs/SEMANTICS.md)
          float pij =
              s == Float.NEGATIVE_INFINITY || l == Float.NEGATIVE_INFINITY
                  ? 0f
                  : (float) Math.exp(s - l);
          // line 14: Z_ij
          float z = drop == null ? 1f : drop.factor(b, h, row, c0 + c);
          p[r * bc + c] = pij;
          // line 17: dP_ij^dropped = dO_i V_jᵀ; line 18: dP_ij = dP_ij^dropped ∘ Z_ij
          double dp = 0;
          for (int e = 0; e < dvDim; e++) {
            dp += (double) dOut.get(b, h, row, e) * v.get(b, hk, c0 + c, e);
          }
          // line 20: dS_ij = P_ij ∘ (dP_ij − D_i), times 1 − tanh² under a soft cap
          double g = pij == 0f ? 0 : pij * (dp * z - dsum);
          if (cap > 0 && pij != 0f) {
            double t = scores.capped(b, h, hk, row, c0 + c) / cap; // tanh(s/c), before the mask
            g *= 1 - t * t;
          }
          ds[r * bc + c] = (float) g;
          // lines 15–16: d̃V_j ← d̃V_j + (P_ij ∘ Z_ij)ᵀ dO_i
          double pd = (double) pij * z;
          if (pd != 0) {
            for (int e = 0; e < dvDim; e++) {
              dvj[c * dvDim + e] += pd * dOut.get(b, h, row, e);
            }
          }
        }
      }
      // line 21: dQ_i ← dQ_i + τ dS_ij K_j
      for (int r = 0; r < br; r++) {
        int qo = dq.rowOffset(b, h, r0 + r);
        for (int e = 0; e < d; e++) {
          double acc = 0;
          for (int c = 0; c < bc; c++) {
            // a pair with dS = 0 adds nothing, not 0·NaN from a key the row cannot see
            if (ds[r * bc + c] != 0f) {
              acc += (double) ds[r * bc + c] * k.get(b, hk, c0 + c, e);
            }
          }
          dq.data()[qo + e] += (float) (scale * acc);
        }
      }
      // line 22: d̃K_j ← d̃K_j + τ dS_ijᵀ Q_i
      for (int c = 0; c < bc; c++) {
        for (int e = 0; e < d; e++) {
          double acc = 0;
          for (int r = 0; r < br; r++) {
            if (ds[r * bc + c] != 0f) {
              acc += (double) ds[r * bc + c] * q.get(b, h, r0 + r, e);
            }
          }
          dkj[c * d + e] += scale * acc;
        }
      }
    }

    private void count(int line, long reads, long writes) {
      if (io != null) {
        io.read(line, reads);
        io.write(line, writes);
      }
    }
  }
}
