package dev.flashattn4j.reference;

import dev.flashattn4j.api.AttentionMask;
import dev.flashattn4j.api.AttentionOptions;
import dev.flashattn4j.api.AttentionResult;
import dev.flashattn4j.api.AttentionShape;
import dev.flashattn4j.internal.Softmax;
import dev.flashattn4j.tensor.Tensor;

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
          double m = Double.NEGATIVE_INFINITY;
          for (double x : row) {
            m = Math.max(m, x);
          }
          int o = (b * shape.queryHeads() + h) * nq + i;
          if (m == Double.NEGATIVE_INFINITY) {
            lse[o] = Float.NEGATIVE_INFINITY; // no key left: O_i = 0
            continue;
          }
          double l = 0;
          for (int j = 0; j < nk; j++) {
            row[j] = r(f32, Math.exp(r(f32, row[j] - m)));
            l = r(f32, l + row[j]);
          }
          for (int c = 0; c < dv; c++) {
            double acc = 0;
            for (int j = 0; j < nk; j++) {
              if (row[j] == 0) {
                continue; // a key of weight 0 (one the row cannot see) adds nothing, not even NaN
              }
              acc = r(f32, acc + r(f32, r(f32, row[j] / l) * v.get(b, hk, j, c)));
            }
            out.set(b, h, i, c, (float) acc);
          }
          lse[o] = (float) (m + Math.log(l));
        }
      }
    }
    return new AttentionResult(out, lse);
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
