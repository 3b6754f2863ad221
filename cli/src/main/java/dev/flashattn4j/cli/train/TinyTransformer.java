package dev.flashattn4j.cli.train;

import dev.flashattn4j.api.AttentionEngine;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionGradients;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;

/**
 * The model of {@code ./flashattn train-demo}: token and position embeddings, one causal attention
 * layer (one head) with a residual, and a linear head, trained with Adam to output the token two
 * positions back (y_t = x_{t−2}, t ≥ 2) on random sequences. The attention's forward and backward
 * are the library's ({@link AttentionEngine#forward}, {@link AttentionEngine#backward}); the rest
 * is written out here in float32.
 *
 * <p>Data and initial weights come from SplitMix64 with a fixed seed, exactly as {@code
 * scripts/train_tiny.py} makes them for PyTorch, so that the two loss curves can be compared step
 * by step.
 */
public final class TinyTransformer {

  public static final int VOCAB = 12;
  public static final int SEQ = 12;
  public static final int DIM = 32;
  public static final int BATCH = 32;
  public static final long SEED = 20261201L;
  public static final float LR = 2e-3f;
  private static final int DELAY = 2;

  private final float[][] params;
  private final float[][] grads;
  private final float[][] m;
  private final float[][] v;
  private final float[] emb;
  private final float[] pos;
  private final float[] wq;
  private final float[] wk;
  private final float[] wv;
  private final float[] wo;
  private final float[] wout;
  private final SplitMix64 data = new SplitMix64(SEED + 1);
  private final AttentionEngine engine;
  private final AttentionOptions causal =
      AttentionOptions.builder().causal(Causal.TOP_LEFT).build();
  private int step;
  private float accuracy;

  /** A model with the seeded initial weights, running attention on {@code engine}. */
  public TinyTransformer(AttentionEngine engine) {
    this.engine = engine;
    SplitMix64 rng = new SplitMix64(SEED);
    emb = weights(rng, VOCAB, DIM);
    pos = weights(rng, SEQ, DIM);
    wq = weights(rng, DIM, DIM);
    wk = weights(rng, DIM, DIM);
    wv = weights(rng, DIM, DIM);
    wo = weights(rng, DIM, DIM);
    wout = weights(rng, DIM, VOCAB);
    params = new float[][] {emb, pos, wq, wk, wv, wo, wout};
    grads = new float[params.length][];
    m = new float[params.length][];
    v = new float[params.length][];
    for (int i = 0; i < params.length; i++) {
      grads[i] = new float[params[i].length];
      m[i] = new float[params[i].length];
      v[i] = new float[params[i].length];
    }
  }

  /** Uniform in [−1/√rows, 1/√rows), row-major, as the script draws them. */
  private static float[] weights(SplitMix64 rng, int rows, int cols) {
    double a = 1 / Math.sqrt(rows);
    float[] w = new float[rows * cols];
    for (int i = 0; i < w.length; i++) {
      w[i] = rng.uniform(a);
    }
    return w;
  }

  /** The accuracy of the last step's predictions (positions t ≥ 2). */
  public float accuracy() {
    return accuracy;
  }

  /** One Adam step on a fresh batch; returns its loss (before the update). */
  public float step() {
    int rows = BATCH * SEQ;
    int[] x = new int[rows];
    for (int i = 0; i < rows; i++) {
      x[i] = (int) Long.remainderUnsigned(data.next(), VOCAB);
    }
    // forward: h0 = E[x] + P; q, k, v = h0 W; a = attention; h1 = h0 + a Wo; logits = h1 Wout
    float[] h0 = new float[rows * DIM];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < DIM; c++) {
        h0[r * DIM + c] = emb[x[r] * DIM + c] + pos[(r % SEQ) * DIM + c];
      }
    }
    float[] q = matmul(h0, rows, DIM, wq, DIM);
    float[] k = matmul(h0, rows, DIM, wk, DIM);
    float[] vv = matmul(h0, rows, DIM, wv, DIM);
    Tensor tq = Tensor.of(q, BATCH, 1, SEQ, DIM);
    Tensor tk = Tensor.of(k, BATCH, 1, SEQ, DIM);
    Tensor tv = Tensor.of(vv, BATCH, 1, SEQ, DIM);
    AttentionResult att = engine.forward(tq, tk, tv, causal);
    float[] a = att.output().toArray();
    float[] h1 = matmul(a, rows, DIM, wo, DIM);
    for (int i = 0; i < h1.length; i++) {
      h1[i] += h0[i];
    }
    float[] logits = matmul(h1, rows, DIM, wout, VOCAB);

    // loss: mean cross-entropy over positions t ≥ 2 of y_t = x_{t−2}; dlogits = (softmax − 1_y)/n
    int count = BATCH * (SEQ - DELAY);
    float[] dlogits = new float[rows * VOCAB];
    double loss = 0;
    int right = 0;
    for (int r = 0; r < rows; r++) {
      int t = r % SEQ;
      if (t < DELAY) {
        continue;
      }
      int y = x[r - DELAY];
      float max = Float.NEGATIVE_INFINITY;
      int best = 0;
      for (int c = 0; c < VOCAB; c++) {
        float z = logits[r * VOCAB + c];
        if (z > max) {
          max = z;
          best = c;
        }
      }
      right += best == y ? 1 : 0;
      double sum = 0;
      for (int c = 0; c < VOCAB; c++) {
        sum += Math.exp(logits[r * VOCAB + c] - max);
      }
      double logZ = max + Math.log(sum);
      loss += logZ - logits[r * VOCAB + y];
      for (int c = 0; c < VOCAB; c++) {
        double p = Math.exp(logits[r * VOCAB + c] - logZ);
        dlogits[r * VOCAB + c] = (float) ((p - (c == y ? 1 : 0)) / count);
      }
    }
    accuracy = (float) right / count;

    // backward
    float[] gWout = matmulTransposedA(h1, rows, DIM, dlogits, VOCAB);
    float[] dh1 = matmulTransposedB(dlogits, rows, VOCAB, wout, DIM);
    float[] gWo = matmulTransposedA(a, rows, DIM, dh1, DIM);
    float[] da = matmulTransposedB(dh1, rows, DIM, wo, DIM);
    AttentionGradients g =
        engine.backward(
            tq, tk, tv, att.output(), att.lse(), Tensor.of(da, BATCH, 1, SEQ, DIM), causal);
    float[] dq = g.dq().toArray();
    float[] dk = g.dk().toArray();
    float[] dv = g.dv().toArray();
    float[] gWq = matmulTransposedA(h0, rows, DIM, dq, DIM);
    float[] gWk = matmulTransposedA(h0, rows, DIM, dk, DIM);
    float[] gWv = matmulTransposedA(h0, rows, DIM, dv, DIM);
    float[] dh0 = dh1.clone();
    addInto(dh0, matmulTransposedB(dq, rows, DIM, wq, DIM));
    addInto(dh0, matmulTransposedB(dk, rows, DIM, wk, DIM));
    addInto(dh0, matmulTransposedB(dv, rows, DIM, wv, DIM));
    float[] gEmb = new float[emb.length];
    float[] gPos = new float[pos.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < DIM; c++) {
        gEmb[x[r] * DIM + c] += dh0[r * DIM + c];
        gPos[(r % SEQ) * DIM + c] += dh0[r * DIM + c];
      }
    }
    float[][] gs = {gEmb, gPos, gWq, gWk, gWv, gWo, gWout};
    adam(gs);
    return (float) (loss / count);
  }

  /** torch.optim.Adam's single-tensor step (β = 0.9, 0.999, ε = 1e-8), in float32. */
  private void adam(float[][] gs) {
    step++;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double bc1 = 1 - Math.pow(beta1, step);
    double bc2 = 1 - Math.pow(beta2, step);
    float stepSize = (float) (LR / bc1);
    float bc2Sqrt = (float) Math.sqrt(bc2);
    for (int p = 0; p < params.length; p++) {
      float[] w = params[p];
      float[] g = gs[p];
      for (int i = 0; i < w.length; i++) {
        m[p][i] += (float) (1 - beta1) * (g[i] - m[p][i]);
        v[p][i] = v[p][i] * (float) beta2 + (float) (1 - beta2) * g[i] * g[i];
        float denom = (float) Math.sqrt(v[p][i]) / bc2Sqrt + 1e-8f;
        w[i] -= stepSize * (m[p][i] / denom);
      }
    }
  }

  /** (rows × inner) · (inner × cols), row-major. */
  static float[] matmul(float[] a, int rows, int inner, float[] b, int cols) {
    float[] out = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      for (int i = 0; i < inner; i++) {
        float x = a[r * inner + i];
        for (int c = 0; c < cols; c++) {
          out[r * cols + c] += x * b[i * cols + c];
        }
      }
    }
    return out;
  }

  /** aᵀ · b for a (rows × ca) and b (rows × cb): (ca × cb). */
  static float[] matmulTransposedA(float[] a, int rows, int ca, float[] b, int cb) {
    float[] out = new float[ca * cb];
    for (int r = 0; r < rows; r++) {
      for (int i = 0; i < ca; i++) {
        float x = a[r * ca + i];
        for (int c = 0; c < cb; c++) {
          out[i * cb + c] += x * b[r * cb + c];
        }
      }
    }
    return out;
  }

  /** a · bᵀ for a (rows × inner) and b (cols × inner): (rows × cols). */
  static float[] matmulTransposedB(float[] a, int rows, int inner, float[] b, int cols) {
    float[] out = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        float s = 0;
        for (int i = 0; i < inner; i++) {
          s += a[r * inner + i] * b[c * inner + i];
        }
        out[r * cols + c] = s;
      }
    }
    return out;
  }

  private static void addInto(float[] a, float[] b) {
    for (int i = 0; i < a.length; i++) {
      a[i] += b[i];
    }
  }

  /** SplitMix64, as {@code scripts/train_tiny.py} writes it. */
  static final class SplitMix64 {
    private long state;

    SplitMix64(long seed) {
      state = seed;
    }

    long next() {
      state += 0x9E3779B97F4A7C15L;
      long z = state;
      z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
      z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
      return z ^ (z >>> 31);
    }

    /** A float32 in [−a, a): 53 random bits as a double, then rounded to float. */
    float uniform(double a) {
      double u = (next() >>> 11) * 0x1.0p-53;
      return (float) ((2 * u - 1) * a);
    }
  }
}
