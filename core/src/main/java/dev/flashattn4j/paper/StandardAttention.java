package dev.flashattn4j.paper;

import dev.flashattn4j.internal.Checks;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionGradients;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.AttentionShape;
import dev.flashattn4j.values.Dropout;

/**
 * The paper's Algorithm 0, standard attention, run so that its HBM traffic can be counted. S and P
 * are materialised in "HBM" (arrays of N_q × N_k) and every line moves its operands once, as the
 * paper counts them (Theorem 2: Θ(Nd + N²)):
 *
 * <pre>
 *   line 1: load Q, K by blocks from HBM, compute S = QKᵀ, write S to HBM
 *   line 2: read S from HBM, compute P = softmax(S), write P to HBM
 *   line 3: load P and V by blocks from HBM, compute O = PV, write O to HBM
 * </pre>
 *
 * To read each element of K (line 1) and V (line 3) once, K and V stay on chip while the rows of Q
 * (and of P) stream past: the peak SRAM it records is therefore about N_k·d, which is what the
 * paper's count for Algorithm 0 silently assumes (see docs/IO_MODEL.md). Per (batch, head) pair.
 */
public final class StandardAttention {

  private StandardAttention() {}

  /**
   * Standard attention with every option of the oracle, counting its traffic.
   *
   * @param q (B, H_q, N_q, d)
   * @param k (B, H_kv, N_k, d)
   * @param v (B, H_kv, N_k, d_v)
   * @param counter counts lines 1–3, or null
   * @return O of shape (B, H_q, N_q, d_v) with the rank of q, and the LSE of each row
   */
  public static AttentionResult compute(
      Tensor q, Tensor k, Tensor v, AttentionOptions options, IoCounter counter) {
    AttentionShape shape = AttentionShape.of(q, k, v, options);
    IoCounter io = counter == null ? new IoCounter() : counter;
    Scores scores = new Scores(q, k, options);
    int nq = shape.queryRows();
    int nk = shape.keyRows();
    int d = shape.headDim();
    int dv = shape.valueDim();
    Tensor out = Tensor.zeros(shape.outputShape(q.rank()));
    float[] lse = new float[shape.outputRows()];
    float[] s = new float[nq * nk]; // S, then P, in HBM
    for (int b = 0; b < shape.batch(); b++) {
      for (int h = 0; h < shape.queryHeads(); h++) {
        int hk = shape.kvHead(h);
        // line 1: load K (kept on chip); for each row of Q: load q_i, S_i = q_i Kᵀ, write S_i
        io.read(1, (long) nk * d);
        for (int i = 0; i < nq; i++) {
          io.read(1, d);
          io.holding((long) nk * d + d + nk);
          for (int j = 0; j < nk; j++) {
            s[i * nk + j] = scores.score(b, h, hk, i, j);
          }
          io.write(1, nk);
        }
        // line 2: for each row: read S_i, P_i = softmax(S_i), write P_i
        for (int i = 0; i < nq; i++) {
          io.read(2, nk);
          io.holding(nk);
          lse[(b * shape.queryHeads() + h) * nq + i] =
              softmaxInPlace(s, i * nk, nk, options.sink(h));
          io.write(2, nk);
        }
        // line 3: load V (kept on chip); for each row: read P_i, O_i = P_i V, write O_i
        io.read(3, (long) nk * dv);
        for (int i = 0; i < nq; i++) {
          io.read(3, nk);
          io.holding((long) nk * dv + nk + dv);
          int oo = out.rowOffset(b, h, i);
          for (int e = 0; e < dv; e++) {
            double acc = 0;
            for (int j = 0; j < nk; j++) {
              acc += (double) s[i * nk + j] * v.get(b, hk, j, e);
            }
            out.data()[oo + e] = (float) acc;
          }
          io.write(3, dv);
        }
      }
    }
    return new AttentionResult(out, lse);
  }

  /**
   * Standard attention's backward (the paper's Algorithm 3), counting its traffic. P is first made
   * as the forward leaves it in HBM (not counted: the backward starts from it), then:
   *
   * <pre>
   *   line 1: load P, dO by blocks, compute dV = Pᵀ dO, write dV to HBM
   *   line 2: load dO, V by blocks, compute dP = dO Vᵀ, write dP to HBM
   *   line 3: read P, dP, compute dS_ij = P_ij (dP_ij − Σ_l P_il dP_il), write dS to HBM
   *   line 4: load dS, K by blocks, compute dQ = dS K, write dQ to HBM
   *   line 5: load dS, Q by blocks, compute dK = dSᵀ Q, write dK to HBM
   * </pre>
   *
   * (scaled by τ, with tanh's derivative under a soft cap and the dropout mask, as the oracle).
   *
   * @param dOut dL/dO, O's shape
   * @param counter counts lines 1–5, or null
   */
  public static AttentionGradients backward(
      Tensor q, Tensor k, Tensor v, Tensor dOut, AttentionOptions options, IoCounter counter) {
    AttentionShape shape = AttentionShape.of(q, k, v, options);
    Checks.notNull(dOut, "dOut");
    IoCounter io = counter == null ? new IoCounter() : counter;
    Scores scores = new Scores(q, k, options);
    Dropout.Rows drop = options.dropout().active() ? new Dropout.Rows(options.dropout()) : null;
    float cap = options.softcap();
    int nq = shape.queryRows();
    int nk = shape.keyRows();
    int d = shape.headDim();
    int dv = shape.valueDim();
    double scale = options.scaleFor(d);
    Tensor dq = Tensor.zeros(q.shape());
    Tensor dk = Tensor.zeros(k.shape());
    Tensor dvt = Tensor.zeros(v.shape());
    float[] p = new float[nq * nk]; // P in HBM (from the forward)
    float[] z = new float[nq * nk]; // the dropout factors (regenerated, never stored in HBM)
    float[] slope = new float[nq * nk]; // tanh's derivative (recomputed from Q, K)
    float[] dp = new float[nq * nk]; // dP, then dS, in HBM
    float[] dsinks = options.hasSinks() ? new float[shape.queryHeads()] : null;
    for (int b = 0; b < shape.batch(); b++) {
      for (int h = 0; h < shape.queryHeads(); h++) {
        int hk = shape.kvHead(h);
        for (int i = 0; i < nq; i++) {
          for (int j = 0; j < nk; j++) {
            p[i * nk + j] = scores.score(b, h, hk, i, j);
            z[i * nk + j] = drop == null ? 1f : drop.factor(b, h, i, j);
            float t = cap > 0 ? scores.capped(b, h, hk, i, j) / cap : 0f;
            slope[i * nk + j] = 1f - t * t;
          }
          softmaxInPlace(p, i * nk, nk, options.sink(h));
        }
        if (dsinks != null) {
          // the sink's gradient (not a line of the paper): −Σ_i P_sink,i·D_i, D_i = dO_i·O_i
          for (int i = 0; i < nq; i++) {
            double lsum = 0;
            double dsum = 0;
            for (int j = 0; j < nk; j++) {
              double oj = 0;
              for (int e = 0; e < dv; e++) {
                oj += (double) dOut.get(b, h, i, e) * v.get(b, hk, j, e);
              }
              dsum += (double) p[i * nk + j] * z[i * nk + j] * oj;
              lsum += p[i * nk + j];
            }
            dsinks[h] -= (float) ((1 - lsum) * dsum); // P_sink = 1 − Σ_j P_ij
          }
        }
        // line 1: keep dO on chip; for each key j: read P[:, j], dV_j = Σ_i P_ij z_ij dO_i
        io.read(1, (long) nq * dv);
        for (int j = 0; j < nk; j++) {
          io.read(1, nq);
          io.holding((long) nq * dv + nq + dv);
          int at = dvt.rowOffset(b, hk, j);
          for (int e = 0; e < dv; e++) {
            double acc = 0;
            for (int i = 0; i < nq; i++) {
              float w = p[i * nk + j] * z[i * nk + j];
              if (w != 0) {
                acc += (double) w * dOut.get(b, h, i, e);
              }
            }
            dvt.data()[at + e] += (float) acc;
          }
          io.write(1, dv);
        }
        // line 2: keep V on chip; for each row i: read dO_i, dP_i = z ∘ (dO_i Vᵀ), write dP_i
        io.read(2, (long) nk * dv);
        for (int i = 0; i < nq; i++) {
          io.read(2, dv);
          io.holding((long) nk * dv + dv + nk);
          for (int j = 0; j < nk; j++) {
            double acc = 0;
            for (int e = 0; e < dv; e++) {
              acc += (double) dOut.get(b, h, i, e) * v.get(b, hk, j, e);
            }
            dp[i * nk + j] = (float) acc * z[i * nk + j];
          }
          io.write(2, nk);
        }
        // line 3: for each row: read P_i, dP_i; dS_i = P_i ∘ (dP_i − Σ_l P_il dP_il); write dS_i
        for (int i = 0; i < nq; i++) {
          io.read(3, 2L * nk);
          io.holding(3L * nk);
          double dsum = 0;
          for (int j = 0; j < nk; j++) {
            dsum += (double) p[i * nk + j] * dp[i * nk + j];
          }
          for (int j = 0; j < nk; j++) {
            float pij = p[i * nk + j];
            dp[i * nk + j] =
                pij == 0 ? 0f : (float) (pij * (dp[i * nk + j] - dsum) * slope[i * nk + j]);
          }
          io.write(3, nk);
        }
        // line 4: keep K on chip; for each row: read dS_i, dQ_i = τ dS_i K, write dQ_i
        io.read(4, (long) nk * d);
        for (int i = 0; i < nq; i++) {
          io.read(4, nk);
          io.holding((long) nk * d + nk + d);
          int at = dq.rowOffset(b, h, i);
          for (int e = 0; e < d; e++) {
            double acc = 0;
            for (int j = 0; j < nk; j++) {
              acc += (double) dp[i * nk + j] * k.get(b, hk, j, e);
            }
            dq.data()[at + e] = (float) (scale * acc);
          }
          io.write(4, d);
        }
        // line 5: keep Q on chip; for each key: read dS[:, j], dK_j = τ dS[:, j]ᵀ Q, write dK_j
        io.read(5, (long) nq * d);
        for (int j = 0; j < nk; j++) {
          io.read(5, nq);
          io.holding((long) nq * d + nq + d);
          int at = dk.rowOffset(b, hk, j);
          for (int e = 0; e < d; e++) {
            double acc = 0;
            for (int i = 0; i < nq; i++) {
              acc += (double) dp[i * nk + j] * q.get(b, h, i, e);
            }
            dk.data()[at + e] += (float) (scale * acc);
          }
          io.write(5, d);
        }
      }
    }
    return new AttentionGradients(dq, dk, dvt, dsinks);
  }

  /**
   * Replaces a row of scores by its softmax, with the sink logit in the sum (all zeros for a row of
   * −∞ without a sink).
   *
   * @return the row's log-sum-exp, −∞ for a row of −∞
   */
  private static float softmaxInPlace(float[] row, int from, int n, float sink) {
    float max = sink; // an attention sink joins the softmax without a value (−∞: none)
    for (int j = from; j < from + n; j++) {
      max = Math.max(max, row[j]);
    }
    if (max == Float.NEGATIVE_INFINITY) {
      java.util.Arrays.fill(row, from, from + n, 0f);
      return Float.NEGATIVE_INFINITY;
    }
    double sum = sink == Float.NEGATIVE_INFINITY ? 0 : Math.exp(sink - max);
    for (int j = from; j < from + n; j++) {
      row[j] = (float) Math.exp(row[j] - max);
      sum += row[j];
    }
    for (int j = from; j < from + n; j++) {
      row[j] = (float) (row[j] / sum);
    }
    return max + (float) Math.log(sum);
  }
}
