package dev.flashattn4j.paper;

import dev.flashattn4j.api.AttentionOptions;
import dev.flashattn4j.api.AttentionResult;
import dev.flashattn4j.api.AttentionShape;
import dev.flashattn4j.tensor.Tensor;

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
          lse[(b * shape.queryHeads() + h) * nq + i] = softmaxInPlace(s, i * nk, nk);
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
   * Replaces a row of scores by its softmax (all zeros for a row of −∞).
   *
   * @return the row's log-sum-exp, −∞ for a row of −∞
   */
  private static float softmaxInPlace(float[] row, int from, int n) {
    float max = Float.NEGATIVE_INFINITY;
    for (int j = from; j < from + n; j++) {
      max = Math.max(max, row[j]);
    }
    if (max == Float.NEGATIVE_INFINITY) {
      java.util.Arrays.fill(row, from, from + n, 0f);
      return Float.NEGATIVE_INFINITY;
    }
    double sum = 0;
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
