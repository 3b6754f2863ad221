package dev.flashattn4j.model;

import dev.flashattn4j.api.AttentionEngine;
import dev.flashattn4j.cache.PagedKvCache;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.Causal;
import java.util.Arrays;

/**
 * The decoder's forward pass over a batch of sequences that each grow by some tokens: transformers'
 * {@code LlamaModel}/{@code Gemma2Model} loop, with attention from the library.
 *
 * <p>The new tokens of all sequences are packed row after row (T rows): the embeddings, norms,
 * projections, RoPE and MLP work on all T rows at once. Every layer writes its new K and V into the
 * {@link PagedKvCache} (one reservation for all layers), then attends:
 *
 * <ul>
 *   <li>sequences that start empty (prefill) through the varlen forward kernel, as one packed batch
 *       with {@code cu_seqlens} (causal, the layer's window and soft cap);
 *   <li>sequences that already hold tokens through the decode step on the cache: one call for a run
 *       of sequences adding the same number of tokens (1 when generating).
 * </ul>
 *
 * <p>Every row's arithmetic is the same whichever other rows share the call ({@link MatMul}, the
 * per-row norms and RoPE, attention per sequence), so a batch gives the bits of its prompts run one
 * by one.
 */
final class Transformer {

  final ModelConfig config;
  final ModelWeights weights;
  private final Workers workers;
  private final AttentionEngine engine;
  private final AttentionOptions[] attention;
  private final float[] invFreq;

  /** Nanoseconds spent in attention (the library's kernels and cache writes), for benchmarks. */
  static final class Timings {
    long attentionNanos;
    long totalNanos;
  }

  Transformer(ModelConfig config, ModelWeights weights, Workers workers, AttentionEngine engine) {
    this.config = config;
    this.weights = weights;
    this.workers = workers;
    this.engine = engine;
    this.invFreq = config.rope().inverseFrequencies(config.headDim());
    this.attention = new AttentionOptions[config.layers()];
    for (int l = 0; l < config.layers(); l++) {
      AttentionOptions.Builder b =
          AttentionOptions.builder().scale(config.queryScale()).causal(Causal.BOTTOM_RIGHT);
      if (config.attnSoftcap() > 0) {
        b.softcap(config.attnSoftcap());
      }
      if (config.isSliding(l)) {
        // transformers' sliding_window_overlay: key j is seen by query i when j > i − W
        b.window(config.slidingWindow() - 1, 0);
      }
      attention[l] = b.build();
    }
  }

  /**
   * Appends {@code tokens[b]} to sequence {@code seqIds[b]} of the cache for every b, and returns
   * the logits.
   *
   * @param cache a cache of this model's layers, K/V heads and head dimension
   * @param seqIds B distinct live sequences of the cache
   * @param tokens B arrays of at least one token id each
   * @param allPositions true: the logits of every new token (Σ n_b rows, sequence after sequence);
   *     false: of the last new token of each sequence (B rows)
   * @return rows × V logits, row-major
   * @throws IllegalArgumentException for bad arguments, IllegalStateException when the cache is
   *     full; nothing has changed then
   */
  float[] forward(
      PagedKvCache cache, int[] seqIds, int[][] tokens, boolean allPositions, Timings timings) {
    long t0 = System.nanoTime();
    int batch = check(cache, seqIds, tokens);
    int h = config.hidden();
    int[] start = new int[batch];
    int[] rowStart = new int[batch + 1];
    for (int b = 0; b < batch; b++) {
      start[b] = cache.length(seqIds[b]);
      rowStart[b + 1] = rowStart[b] + tokens[b].length;
    }
    int rows = rowStart[batch];
    long pages = 0;
    for (int b = 0; b < batch; b++) {
      pages += cache.pagesToReserve(seqIds[b], tokens[b].length);
    }
    if (pages > cache.freePages()) {
      throw new IllegalStateException(
          "KV cache full: "
              + rows
              + " new tokens need "
              + pages
              + " pages of "
              + cache.pageSize()
              + " tokens, "
              + cache.freePages()
              + " of "
              + cache.capacityPages()
              + " are free");
    }
    for (int b = 0; b < batch; b++) {
      cache.reserve(seqIds[b], tokens[b].length);
    }

    // cos/sin of every row's position: freqs = pos · inv_freq in float32, as transformers does
    int half = config.headDim() / 2;
    float[] cos = new float[rows * half];
    float[] sin = new float[rows * half];
    for (int b = 0; b < batch; b++) {
      for (int i = 0; i < tokens[b].length; i++) {
        float pos = start[b] + i;
        int at = (rowStart[b] + i) * half;
        for (int f = 0; f < half; f++) {
          float angle = pos * invFreq[f];
          cos[at + f] = (float) Math.cos(angle);
          sin[at + f] = (float) Math.sin(angle);
        }
      }
    }

    // x = embed(tokens) (· √hidden in Gemma, rounded to float32 as transformers' buffer is)
    float[] x = new float[rows * h];
    float scale = config.family() == ModelFamily.GEMMA2 ? (float) Math.sqrt(h) : 1f;
    for (int b = 0; b < batch; b++) {
      for (int i = 0; i < tokens[b].length; i++) {
        int at = (rowStart[b] + i) * h;
        weights.embed(tokens[b][i], x, at);
        if (scale != 1f) {
          for (int c = 0; c < h; c++) {
            x[at + c] *= scale;
          }
        }
      }
    }

    Buffers buf = new Buffers(config, rows);
    for (int l = 0; l < config.layers(); l++) {
      layer(l, cache, seqIds, start, rowStart, tokens, x, buf, cos, sin, timings);
    }

    // the rows whose logits are wanted, normed, through the LM head
    int outRows = allPositions ? rows : batch;
    float[] last = new float[outRows * h];
    for (int r = 0; r < outRows; r++) {
      int src = allPositions ? r : rowStart[r + 1] - 1;
      System.arraycopy(x, src * h, last, r * h, h);
    }
    rmsNorm(last, outRows, weights.finalNorm, last);
    float[] logits = new float[outRows * config.vocabSize()];
    MatMul.multiply(workers, last, outRows, weights.lmHead, null, logits);
    float cap = config.finalSoftcap();
    if (cap > 0) {
      for (int i = 0; i < logits.length; i++) {
        logits[i] = (float) Math.tanh(logits[i] / cap) * cap;
      }
    }
    if (timings != null) {
      timings.totalNanos += System.nanoTime() - t0;
    }
    return logits;
  }

  /** The activations of one call, sized for its rows. */
  private static final class Buffers {
    final float[] normed;
    final float[] q;
    final float[] k;
    final float[] v;
    final float[] attn;
    final float[] proj;
    final float[] gate;
    final float[] up;

    Buffers(ModelConfig c, int rows) {
      normed = new float[rows * c.hidden()];
      q = new float[rows * c.heads() * c.headDim()];
      k = new float[rows * c.kvHeads() * c.headDim()];
      v = new float[rows * c.kvHeads() * c.headDim()];
      attn = new float[rows * c.heads() * c.headDim()];
      proj = new float[rows * c.hidden()];
      gate = new float[rows * c.intermediate()];
      up = new float[rows * c.intermediate()];
    }
  }

  private void layer(
      int l,
      PagedKvCache cache,
      int[] seqIds,
      int[] start,
      int[] rowStart,
      int[][] tokens,
      float[] x,
      Buffers buf,
      float[] cos,
      float[] sin,
      Timings timings) {
    ModelWeights.Layer w = weights.layers[l];
    int rows = rowStart[rowStart.length - 1];
    int d = config.headDim();
    int hq = config.heads();
    int hkv = config.kvHeads();

    // attention block: x += o_proj(attention(rope(q), rope(k), v)) (Gemma: normed again)
    rmsNorm(x, rows, w.inputNorm(), buf.normed);
    MatMul.multiply(workers, buf.normed, rows, w.q().w(), w.q().bias(), buf.q);
    MatMul.multiply(workers, buf.normed, rows, w.k().w(), w.k().bias(), buf.k);
    MatMul.multiply(workers, buf.normed, rows, w.v().w(), w.v().bias(), buf.v);
    rope(buf.q, rows, hq, cos, sin);
    rope(buf.k, rows, hkv, cos, sin);
    long a0 = System.nanoTime();
    for (int b = 0; b < seqIds.length; b++) {
      int n = tokens[b].length;
      cache.write(
          l,
          seqIds[b],
          start[b],
          packed(buf.k, rowStart[b], n, hkv, d),
          packed(buf.v, rowStart[b], n, hkv, d));
    }
    attend(l, cache, seqIds, start, rowStart, tokens, buf);
    if (timings != null) {
      timings.attentionNanos += System.nanoTime() - a0;
    }
    MatMul.multiply(workers, buf.attn, rows, w.o().w(), w.o().bias(), buf.proj);
    if (w.preFeedforwardNorm() != null) {
      rmsNorm(buf.proj, rows, w.postAttentionNorm(), buf.proj);
    }
    add(x, buf.proj, rows * config.hidden());

    // MLP block: x += down(act(gate(x̂)) ⊙ up(x̂)) (Gemma: normed before and after)
    float[] norm2 = w.preFeedforwardNorm() != null ? w.preFeedforwardNorm() : w.postAttentionNorm();
    rmsNorm(x, rows, norm2, buf.normed);
    MatMul.multiply(workers, buf.normed, rows, w.gate().w(), w.gate().bias(), buf.gate);
    MatMul.multiply(workers, buf.normed, rows, w.up().w(), w.up().bias(), buf.up);
    Activation act = config.activation();
    int n = rows * config.intermediate();
    for (int i = 0; i < n; i++) {
      buf.gate[i] = act.apply(buf.gate[i]) * buf.up[i];
    }
    MatMul.multiply(workers, buf.gate, rows, w.down().w(), w.down().bias(), buf.proj);
    if (w.postFeedforwardNorm() != null) {
      rmsNorm(buf.proj, rows, w.postFeedforwardNorm(), buf.proj);
    }
    add(x, buf.proj, rows * config.hidden());
  }

  /**
   * Attention of every sequence's new rows: runs of empty sequences through varlen, runs of
   * sequences adding the same number of tokens through the decode step.
   */
  private void attend(
      int l,
      PagedKvCache cache,
      int[] seqIds,
      int[] start,
      int[] rowStart,
      int[][] tokens,
      Buffers buf) {
    int d = config.headDim();
    int hq = config.heads();
    int hkv = config.kvHeads();
    AttentionOptions options = attention[l];
    int batch = seqIds.length;
    for (int b0 = 0; b0 < batch; ) {
      int b1 = b0 + 1;
      if (start[b0] == 0) {
        while (b1 < batch && start[b1] == 0) {
          b1++;
        }
        int r0 = rowStart[b0];
        int n = rowStart[b1] - r0;
        int[] cu = new int[b1 - b0 + 1];
        for (int b = b0; b < b1; b++) {
          cu[b - b0 + 1] = rowStart[b + 1] - r0;
        }
        engine.varlen(
            packed(buf.q, r0, n, hq, d),
            packed(buf.k, r0, n, hkv, d),
            packed(buf.v, r0, n, hkv, d),
            cu,
            cu,
            options,
            packed(buf.attn, r0, n, hq, d),
            new float[hq * n]);
      } else {
        int n = tokens[b0].length;
        while (b1 < batch && start[b1] != 0 && tokens[b1].length == n) {
          b1++;
        }
        int count = b1 - b0;
        int off = rowStart[b0] * hq * d;
        int[] shape = {count, hq, n, d};
        int[] strides = {n * hq * d, d, hq * d};
        engine.decode(
            cache,
            l,
            Arrays.copyOfRange(seqIds, b0, b1),
            Tensor.view(buf.q, off, shape, strides),
            options,
            Tensor.view(buf.attn, off, shape, strides),
            new float[count * hq * n]);
      }
      b0 = b1;
    }
  }

  /** Rows [r0, r0 + n) of a token-major (rows, heads·d) buffer as a (1, heads, n, d) view. */
  private static Tensor packed(float[] data, int r0, int n, int heads, int d) {
    return Tensor.view(
        data, r0 * heads * d, new int[] {1, heads, n, d}, new int[] {heads * n * d, d, heads * d});
  }

  /**
   * RMSNorm of each row: y = g ⊙ x / √(mean(x²) + ε), the mean in double, the factor rounded to
   * float32 once (transformers: x · rsqrt(mean(x²) + ε) in float32, then · w).
   */
  private void rmsNorm(float[] x, int rows, float[] g, float[] y) {
    int h = config.hidden();
    double eps = config.rmsNormEps();
    for (int r = 0; r < rows; r++) {
      int at = r * h;
      double ss = 0;
      for (int c = 0; c < h; c++) {
        double v = x[at + c];
        ss += v * v;
      }
      float inv = (float) (1 / Math.sqrt((float) (ss / h) + eps));
      for (int c = 0; c < h; c++) {
        y[at + c] = g[c] * (x[at + c] * inv);
      }
    }
  }

  /**
   * RoPE on every head of every row, transformers' rotate_half convention: for i < d/2, (x_i,
   * x_{i+d/2}) ← (x_i·cos − x_{i+d/2}·sin, x_{i+d/2}·cos + x_i·sin), each product rounded.
   */
  private void rope(float[] t, int rows, int heads, float[] cos, float[] sin) {
    int d = config.headDim();
    int half = d / 2;
    for (int r = 0; r < rows; r++) {
      int cs = r * half;
      for (int hd = 0; hd < heads; hd++) {
        int at = (r * heads + hd) * d;
        for (int i = 0; i < half; i++) {
          float a = t[at + i];
          float b = t[at + i + half];
          float c = cos[cs + i];
          float s = sin[cs + i];
          t[at + i] = a * c + -b * s;
          t[at + i + half] = b * c + a * s;
        }
      }
    }
  }

  private static void add(float[] x, float[] y, int n) {
    for (int i = 0; i < n; i++) {
      x[i] += y[i];
    }
  }

  /** Checks the arguments of a step; returns B. */
  private int check(PagedKvCache cache, int[] seqIds, int[][] tokens) {
    if (cache == null || seqIds == null || tokens == null) {
      throw new IllegalArgumentException("cache, seqIds and tokens must not be null");
    }
    if (cache.layers() != config.layers()
        || cache.kvHeads() != config.kvHeads()
        || cache.headDim() != config.headDim()
        || cache.valueDim() != config.headDim()) {
      throw new IllegalArgumentException(
          "the cache holds "
              + cache.layers()
              + " layers of "
              + cache.kvHeads()
              + " K/V heads of "
              + cache.headDim()
              + "; this model needs "
              + config.layers()
              + " of "
              + config.kvHeads()
              + " of "
              + config.headDim());
    }
    if (seqIds.length == 0 || seqIds.length != tokens.length) {
      throw new IllegalArgumentException(
          seqIds.length + " sequences for " + tokens.length + " token arrays (at least one each)");
    }
    for (int b = 0; b < seqIds.length; b++) {
      if (!cache.contains(seqIds[b])) {
        throw new IllegalArgumentException("sequence " + seqIds[b] + " is not in the cache");
      }
      for (int c = 0; c < b; c++) {
        if (seqIds[c] == seqIds[b]) {
          throw new IllegalArgumentException("sequence " + seqIds[b] + " appears twice");
        }
      }
      if (tokens[b] == null || tokens[b].length == 0) {
        throw new IllegalArgumentException("sequence " + seqIds[b] + " gets no token");
      }
      for (int t : tokens[b]) {
        if (t < 0 || t >= config.vocabSize()) {
          throw new IllegalArgumentException(
              "token " + t + " is not in the vocabulary [0, " + config.vocabSize() + ")");
        }
      }
    }
    return seqIds.length;
  }
}
