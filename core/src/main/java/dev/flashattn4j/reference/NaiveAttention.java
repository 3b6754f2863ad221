package dev.flashattn4j.reference;

import dev.flashattn4j.internal.Checks;
import dev.flashattn4j.internal.Softmax;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionGradients;
import dev.flashattn4j.values.AttentionMask;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.AttentionShape;
import dev.flashattn4j.values.Dropout;

/**
 * Standard attention, written to be obviously right: for each (batch, head) it materialises the
 * score matrix S = scale·QKᵀ (soft-capped, masked) and P = softmax(S), then O = PV. It is the
 * oracle every kernel is tested against.
 *
 * <p>{@link Precision#DOUBLE} accumulates in double (the oracle); {@link Precision#FLOAT} rounds
 * every operation to float32, the plain float32 implementation whose error against the oracle sets
 * the error budget ({@link ErrorBudget}).
 */
public final class NaiveAttention {

  /** The arithmetic of a run. */
  public enum Precision {
    /** Every operation in double: the oracle. */
    DOUBLE,
    /** Every operation rounded to float32: a plain float32 implementation. */
    FLOAT
  }

  private NaiveAttention() {}

  /**
   * The float64 oracle. See {@link #compute(Tensor, Tensor, Tensor, AttentionOptions, Precision)}.
   */
  public static AttentionResult compute(Tensor q, Tensor k, Tensor v, AttentionOptions options) {
    return compute(q, k, v, options, Precision.DOUBLE);
  }

  /**
   * Attention by the textbook formula.
   *
   * @param q (B, H_q, N_q, d)
   * @param k (B, H_kv, N_k, d)
   * @param v (B, H_kv, N_k, d_v)
   * @return O of shape (B, H_q, N_q, d_v) with the rank of q, and the LSE of each row
   */
  public static AttentionResult compute(
      Tensor q, Tensor k, Tensor v, AttentionOptions options, Precision precision) {
    AttentionShape shape = AttentionShape.of(q, k, v, options);
    boolean f32 = precision == Precision.FLOAT;
    int nq = shape.queryRows();
    int nk = shape.keyRows();
    int d = shape.headDim();
    int dv = shape.valueDim();
    double scale = options.scaleFor(d);
    double cap = options.softcap();
    AttentionMask mask = options.mask();
    Dropout.Rows drop = options.dropout().active() ? new Dropout.Rows(options.dropout()) : null;
    Tensor out = Tensor.zeros(shape.outputShape(q.rank()));
    float[] lse = new float[shape.outputRows()];
    double[][] s = new double[nq][nk];
    for (int b = 0; b < shape.batch(); b++) {
      for (int h = 0; h < shape.queryHeads(); h++) {
        int hk = shape.kvHead(h);
        // S = scale · Q Kᵀ, soft-capped, masked
        for (int i = 0; i < nq; i++) {
          int start = options.keyStart(i, nq, nk);
          int end = options.keyEnd(i, nq, nk);
          for (int j = 0; j < nk; j++) {
            double dot = 0;
            for (int c = 0; c < d; c++) {
              dot = r(f32, dot + r(f32, (double) q.get(b, h, i, c) * k.get(b, hk, j, c)));
            }
            // scores are float32 values: one beyond float32's range is ±∞, as in the kernels
            double score = float32Range(r(f32, dot * r(f32, scale)));
            if (cap > 0) {
              score = r(f32, cap * r(f32, Math.tanh(r(f32, score / cap))));
            }
            // ALiBi: −slope_h·|diag(i) − j|, after the cap, before the mask
            score = r(f32, score + options.alibiBias(h, i, j, nq, nk));
            if (mask != null) {
              // −∞ (or false) hides the key, whatever its score (even NaN); any other value is
              // added as written
              score = r(f32, Softmax.mask(score, mask.valueAt(b, h, i, j)));
            }
            if (j < start || j >= end) {
              score = Double.NEGATIVE_INFINITY;
            }
            s[i][j] = score;
          }
        }
        // P = softmax(S) row by row; O = P V; LSE = m + log(l)
        for (int i = 0; i < nq; i++) {
          double[] row = s[i];
          // a sink joins the softmax as one more logit without a value
          double sink = options.sink(h);
          double m = sink;
          for (double x : row) {
            m = Math.max(m, x);
          }
          int o = (b * shape.queryHeads() + h) * nq + i;
          if (m == Double.NEGATIVE_INFINITY) {
            lse[o] = Float.NEGATIVE_INFINITY; // no key left: O_i = 0
            continue;
          }
          double l = sink == Double.NEGATIVE_INFINITY ? 0 : r(f32, Math.exp(r(f32, sink - m)));
          for (int j = 0; j < nk; j++) {
            row[j] = r(f32, Math.exp(r(f32, row[j] - m)));
            l = r(f32, l + row[j]);
          }
          for (int c = 0; c < dv; c++) {
            double acc = 0;
            for (int j = 0; j < nk; j++) {
              // dropout: P_ij·z_ij, z = 1/(1 − p) when kept, 0 when dropped
              double z = drop == null ? 1 : drop.factor(b, h, i, j);
              if (row[j] == 0 || z == 0) {
                continue; // a key of weight 0 (one the row cannot see) adds nothing, not even NaN
              }
              acc = r(f32, acc + r(f32, r(f32, row[j] / l) * z * v.get(b, hk, j, c)));
            }
            out.set(b, h, i, c, (float) acc);
          }
          lse[o] = (float) (m + Math.log(l));
        }
      }
    }
    return new AttentionResult(out, lse);
  }

  /**
   * The float64 oracle of the backward pass: S, P and dP materialised for each (batch, head), every
   * option. With D_i = Σ_j P_ij·dP_ij (= dO_i·O_i) and dS = P ∘ (dP − D):
   *
   * <pre>
   *   dV_j = Σ_i P_ij dO_i        dP_ij = dO_i · v_j        dS_ij = P_ij (dP_ij − D_i)
   *   dS⁰ = dS · (1 − tanh²(s⁰/c))   under a soft cap c (s⁰ the score before the cap)
   *   dQ_i = scale · Σ_j dS⁰_ij k_j     dK_j = scale · Σ_i dS⁰_ij q_i
   * </pre>
   *
   * dK and dV sum over the query heads that share a K/V head (GQA, MQA). A key a row cannot see has
   * P = 0 and gets nothing from that row; a row with no key gives nothing at all.
   *
   * @param q (B, H_q, N_q, d)
   * @param k (B, H_kv, N_k, d)
   * @param v (B, H_kv, N_k, d_v)
   * @param dOut the gradient of the loss with respect to O, (B, H_q, N_q, d_v)
   * @return dQ, dK, dV with the ranks of q, k, v
   */
  public static AttentionGradients backward(
      Tensor q, Tensor k, Tensor v, Tensor dOut, AttentionOptions options) {
    AttentionShape shape = AttentionShape.of(q, k, v, options);
    Checks.notNull(dOut, "dOut");
    if (dOut.batch() != shape.batch()
        || dOut.heads() != shape.queryHeads()
        || dOut.rows() != shape.queryRows()
        || dOut.cols() != shape.valueDim()) {
      throw new IllegalArgumentException(
          "dOut "
              + java.util.Arrays.toString(dOut.shape())
              + " must have O's shape "
              + java.util.Arrays.toString(shape.outputShape(4)));
    }
    int nq = shape.queryRows();
    int nk = shape.keyRows();
    int d = shape.headDim();
    int dv = shape.valueDim();
    double scale = options.scaleFor(d);
    double cap = options.softcap();
    AttentionMask mask = options.mask();
    double[][] dq = new double[shape.batch() * shape.queryHeads() * nq][d];
    double[][] dk = new double[shape.batch() * shape.kvHeads() * nk][d];
    double[][] dvv = new double[shape.batch() * shape.kvHeads() * nk][dv];
    double[][] p = new double[nq][nk];
    Dropout.Rows bdrop = options.dropout().active() ? new Dropout.Rows(options.dropout()) : null;
    double[][] capSlope = new double[nq][nk]; // 1 − tanh²(s⁰/c), or 1 without a cap
    double[] dsinks = options.hasSinks() ? new double[shape.queryHeads()] : null;
    for (int b = 0; b < shape.batch(); b++) {
      for (int h = 0; h < shape.queryHeads(); h++) {
        int hk = shape.kvHead(h);
        int kvBase = (b * shape.kvHeads() + hk) * nk;
        int qBase = (b * shape.queryHeads() + h) * nq;
        for (int i = 0; i < nq; i++) {
          int start = options.keyStart(i, nq, nk);
          int end = options.keyEnd(i, nq, nk);
          double sink = options.sink(h);
          double m = sink;
          for (int j = 0; j < nk; j++) {
            double dot = 0;
            for (int c = 0; c < d; c++) {
              dot += (double) q.get(b, h, i, c) * k.get(b, hk, j, c);
            }
            double score = float32Range(dot * scale);
            capSlope[i][j] = 1;
            if (cap > 0) {
              double t = Math.tanh(score / cap);
              score = cap * t;
              capSlope[i][j] = 1 - t * t;
            }
            score += options.alibiBias(h, i, j, nq, nk);
            if (mask != null) {
              score = Softmax.mask(score, mask.valueAt(b, h, i, j));
            }
            if (j < start || j >= end) {
              score = Double.NEGATIVE_INFINITY;
            }
            p[i][j] = score;
            m = Math.max(m, score);
          }
          // a key the row cannot see (score −∞) has P = 0 whatever else the row holds; a NaN or +∞
          // score the row can see makes m, l and so every P of the row NaN, as in the forward, and
          // reaches exactly the gradients that depend on the row (docs/SEMANTICS.md)
          double l = sink == Double.NEGATIVE_INFINITY ? 0 : Math.exp(sink - m);
          double pSink = l;
          boolean[] seen = new boolean[nk];
          for (int j = 0; j < nk; j++) {
            seen[j] = p[i][j] != Double.NEGATIVE_INFINITY;
            p[i][j] = !seen[j] || m == Double.NEGATIVE_INFINITY ? 0 : Math.exp(p[i][j] - m);
            l += p[i][j];
          }
          boolean normal = l > 0 || Double.isNaN(l);
          pSink = normal ? pSink / l : 0;
          for (int j = 0; j < nk; j++) {
            p[i][j] = seen[j] && normal ? p[i][j] / l : 0;
          }
          // dP_ij = dO_i · v_j, D_i = Σ_j P_ij dP_ij, dS = P (dP − D)
          double[] dp = new double[nk];
          double dsum = 0;
          double[] z = new double[nk]; // dropout: 1/(1 − p) when kept, 0 when dropped
          for (int j = 0; j < nk; j++) {
            z[j] = bdrop == null ? 1 : bdrop.factor(b, h, i, j);
            if (p[i][j] == 0) {
              continue;
            }
            double x = 0;
            for (int c = 0; c < dv; c++) {
              x += (double) dOut.get(b, h, i, c) * v.get(b, hk, j, c);
            }
            dp[j] = x * z[j];
            dsum += p[i][j] * dp[j];
          }
          // the sink's gradient: ∂O_i/∂sink = −P_sink,i·O_i, so dsink −= P_sink,i·D_i
          if (dsinks != null) {
            dsinks[h] -= pSink * dsum;
          }
          for (int j = 0; j < nk; j++) {
            if (p[i][j] == 0) {
              continue;
            }
            for (int c = 0; c < dv; c++) {
              dvv[kvBase + j][c] += p[i][j] * z[j] * dOut.get(b, h, i, c);
            }
            double ds = p[i][j] * (dp[j] - dsum) * capSlope[i][j] * scale;
            for (int c = 0; c < d; c++) {
              dq[qBase + i][c] += ds * k.get(b, hk, j, c);
              dk[kvBase + j][c] += ds * q.get(b, h, i, c);
            }
          }
        }
      }
    }
    float[] dsinkOut = null;
    if (dsinks != null) {
      dsinkOut = new float[dsinks.length];
      for (int h = 0; h < dsinks.length; h++) {
        dsinkOut[h] = (float) dsinks[h];
      }
    }
    return new AttentionGradients(
        toTensor(dq, q.shape()), toTensor(dk, k.shape()), toTensor(dvv, v.shape()), dsinkOut);
  }

  private static Tensor toTensor(double[][] rows, int[] shape) {
    int cols = shape[shape.length - 1];
    float[] data = new float[rows.length * cols];
    for (int r = 0; r < rows.length; r++) {
      for (int c = 0; c < cols; c++) {
        data[r * cols + c] = (float) rows[r][c];
      }
    }
    return Tensor.of(data, shape);
  }

  /** A score as a float32 value holds it: beyond float32's range, ±∞. */
  private static double float32Range(double x) {
    return Math.abs(x) > Float.MAX_VALUE ? Math.copySign(Double.POSITIVE_INFINITY, x) : x;
  }

  /** Rounds to float32 when {@code f32}: every operation of the FLOAT path goes through here. */
  private static double r(boolean f32, double x) {
    return f32 ? (float) x : x;
  }
}
