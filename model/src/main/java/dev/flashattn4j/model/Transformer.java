package dev.flashattn4j.model;

import dev.flashattn4j.api.AttentionEngine;
import dev.flashattn4j.cache.PagedKvCache;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.Causal;

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
 *   <li>sequences that already hold tokens through one ragged decode call on the cache for a run of
 *       them, whatever each one adds: 1 token when generating, a chunk of a long prompt over its
 *       cached prefix (chunked prefill), several for a speculative step.
 * </ul>
 *
 * <p>A step's activations live in a {@link ForwardWorkspace} that the caller keeps from step to
 * step (a session's own), and its logits in the caller's array: a warm decoding step allocates
 * nothing.
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
   * Appends {@code tokens[b]} to sequence {@code seqIds[b]} of the cache for every b, and writes
   * the logits into {@code logits}.
   *
   * @param cache a cache of this model's layers, K/V heads and head dimension
   * @param seqIds B distinct live sequences of the cache
   * @param tokens B arrays of at least one token id each
   * @param allPositions true: the logits of every new token (Σ n_b rows, sequence after sequence);
   *     false: of the last new token of each sequence (B rows)
   * @param logits at least rows × V floats: the logits, row-major from 0 (the rest is untouched)
   * @param workspace a workspace of this model ({@link ForwardWorkspace#forStep})
   * @param timings adds the step's time (total, in attention) when not null
   * @throws IllegalArgumentException for bad arguments, IllegalStateException when the cache is
   *     full; nothing has changed then
   */
  void forward(
      PagedKvCache cache,
      int[] seqIds,
      int[][] tokens,
      boolean allPositions,
      float[] logits,
      ForwardWorkspace workspace,
      StepTimings timings) {
    long t0 = System.nanoTime();
    int batch = check(cache, seqIds, tokens);
    if (workspace == null || workspace.owner != this) {
      throw new IllegalArgumentException("the workspace must be one of this model's");
    }
    long total = 0;
    for (int[] t : tokens) {
      total += t.length;
    }
    int rows = Math.toIntExact(total);
    int outRows = allPositions ? rows : batch;
    int vocab = config.vocabSize();
    if (logits == null || (long) outRows * vocab > logits.length) {
      throw new IllegalArgumentException(
          (logits == null ? "no logits array" : "logits of " + logits.length + " floats")
              + " for "
              + outRows
              + " rows of "
              + vocab
              + " logits");
    }
    ForwardWorkspace ws = workspace.forStep(rows, batch);
    int[] start = ws.start;
    int[] rowStart = ws.rowStart;
    rowStart[0] = 0;
    for (int b = 0; b < batch; b++) {
      start[b] = cache.length(seqIds[b]);
      rowStart[b + 1] = rowStart[b] + tokens[b].length;
    }
    reserve(cache, seqIds, tokens, rows);
    ropeTables(tokens, ws);
    embed(tokens, ws);
    for (int l = 0; l < config.layers(); l++) {
      layer(l, cache, seqIds, tokens, rows, ws, timings);
    }

    // the rows whose logits are wanted, normed, through the LM head
    int h = config.hidden();
    float[] last = ws.last;
    for (int r = 0; r < outRows; r++) {
      int src = allPositions ? r : rowStart[r + 1] - 1;
      System.arraycopy(ws.x, src * h, last, r * h, h);
    }
    rmsNorm(last, outRows, weights.finalNorm, last);
    MatMul.multiply(workers, last, outRows, weights.lmHead, null, logits);
    float cap = config.finalSoftcap();
    if (cap > 0) {
      for (int i = 0, n = outRows * vocab; i < n; i++) {
        logits[i] = (float) Math.tanh(logits[i] / cap) * cap;
      }
    }
    if (timings != null) {
      timings.add(System.nanoTime() - t0, 0);
    }
  }

  /** Reserves every sequence's new positions, or none when the cache has too few free pages. */
  private static void reserve(PagedKvCache cache, int[] seqIds, int[][] tokens, int rows) {
    long pages = 0;
    for (int b = 0; b < seqIds.length; b++) {
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
    for (int b = 0; b < seqIds.length; b++) {
      cache.reserve(seqIds[b], tokens[b].length);
    }
  }

  /** cos/sin of every row's position: freqs = pos · inv_freq in float32, as transformers does. */
  private void ropeTables(int[][] tokens, ForwardWorkspace ws) {
    int half = config.headDim() / 2;
    for (int b = 0; b < tokens.length; b++) {
      for (int i = 0; i < tokens[b].length; i++) {
        float pos = ws.start[b] + i;
        int at = (ws.rowStart[b] + i) * half;
        for (int f = 0; f < half; f++) {
          float angle = pos * invFreq[f];
          ws.cos[at + f] = (float) Math.cos(angle);
          ws.sin[at + f] = (float) Math.sin(angle);
        }
      }
    }
  }

  /** x = embed(tokens) (· √hidden in Gemma, rounded to float32 as transformers' buffer is). */
  private void embed(int[][] tokens, ForwardWorkspace ws) {
    int h = config.hidden();
    float scale = config.family() == ModelFamily.GEMMA2 ? (float) Math.sqrt(h) : 1f;
    for (int b = 0; b < tokens.length; b++) {
      for (int i = 0; i < tokens[b].length; i++) {
        int at = (ws.rowStart[b] + i) * h;
        weights.embed(tokens[b][i], ws.x, at);
        if (scale != 1f) {
          for (int c = 0; c < h; c++) {
            ws.x[at + c] *= scale;
          }
        }
      }
    }
  }

  private void layer(
      int l,
      PagedKvCache cache,
      int[] seqIds,
      int[][] tokens,
      int rows,
      ForwardWorkspace ws,
      StepTimings timings) {
    ModelWeights.Layer w = weights.layers[l];
    int d = config.headDim();
    int hq = config.heads();
    int hkv = config.kvHeads();
    float[] x = ws.x;

    // attention block: x += o_proj(attention(rope(q), rope(k), v)) (Gemma: normed again)
    rmsNorm(x, rows, w.inputNorm(), ws.normed);
    MatMul.multiply(workers, ws.normed, rows, w.q().w(), w.q().bias(), ws.q);
    MatMul.multiply(workers, ws.normed, rows, w.k().w(), w.k().bias(), ws.k);
    MatMul.multiply(workers, ws.normed, rows, w.v().w(), w.v().bias(), ws.v);
    rope(ws.q, rows, hq, ws.cos, ws.sin);
    rope(ws.k, rows, hkv, ws.cos, ws.sin);
    long a0 = System.nanoTime();
    for (int b = 0; b < seqIds.length; b++) {
      int n = tokens[b].length;
      int off = ws.rowStart[b] * hkv * d;
      cache.write(
          l,
          seqIds[b],
          ws.start[b],
          ws.view(ForwardWorkspace.WRITE_K, b, ws.k, off, 1, hkv, n, d),
          ws.view(ForwardWorkspace.WRITE_V, b, ws.v, off, 1, hkv, n, d));
    }
    attend(l, cache, seqIds, tokens, ws);
    if (timings != null) {
      timings.add(0, System.nanoTime() - a0);
    }
    MatMul.multiply(workers, ws.attn, rows, w.o().w(), w.o().bias(), ws.proj);
    if (w.preFeedforwardNorm() != null) {
      rmsNorm(ws.proj, rows, w.postAttentionNorm(), ws.proj);
    }
    add(x, ws.proj, rows * config.hidden());

    // MLP block: x += down(act(gate(x̂)) ⊙ up(x̂)) (Gemma: normed before and after)
    float[] norm2 = w.preFeedforwardNorm() != null ? w.preFeedforwardNorm() : w.postAttentionNorm();
    rmsNorm(x, rows, norm2, ws.normed);
    MatMul.multiply(workers, ws.normed, rows, w.gate().w(), w.gate().bias(), ws.gate);
    MatMul.multiply(workers, ws.normed, rows, w.up().w(), w.up().bias(), ws.up);
    Activation act = config.activation();
    float[] gate = ws.gate;
    float[] up = ws.up;
    int n = rows * config.intermediate();
    for (int i = 0; i < n; i++) {
      gate[i] = act.apply(gate[i]) * up[i];
    }
    MatMul.multiply(workers, gate, rows, w.down().w(), w.down().bias(), ws.proj);
    if (w.postFeedforwardNorm() != null) {
      rmsNorm(ws.proj, rows, w.postFeedforwardNorm(), ws.proj);
    }
    add(x, ws.proj, rows * config.hidden());
  }

  /**
   * Attention of every sequence's new rows: runs of empty sequences through varlen (prefill), runs
   * of sequences that hold tokens through one ragged decode call each (any number of new tokens).
   */
  private void attend(
      int l, PagedKvCache cache, int[] seqIds, int[][] tokens, ForwardWorkspace ws) {
    int d = config.headDim();
    int hq = config.heads();
    int hkv = config.kvHeads();
    AttentionOptions options = attention[l];
    int[] start = ws.start;
    int[] rowStart = ws.rowStart;
    int batch = seqIds.length;
    for (int b0 = 0; b0 < batch; ) {
      int b1 = b0 + 1;
      if (start[b0] == 0) {
        while (b1 < batch && start[b1] == 0) {
          b1++;
        }
        int r0 = rowStart[b0];
        int n = rowStart[b1] - r0;
        int[] cu = ws.cuSeqlens(b0, b1 - b0 + 1);
        cu[0] = 0;
        for (int b = b0; b < b1; b++) {
          cu[b - b0 + 1] = rowStart[b + 1] - r0;
        }
        engine.varlen(
            ws.view(ForwardWorkspace.RUN_Q, b0, ws.q, r0 * hq * d, 1, hq, n, d),
            ws.view(ForwardWorkspace.RUN_K, b0, ws.k, r0 * hkv * d, 1, hkv, n, d),
            ws.view(ForwardWorkspace.RUN_V, b0, ws.v, r0 * hkv * d, 1, hkv, n, d),
            cu,
            cu,
            options,
            ws.view(ForwardWorkspace.RUN_O, b0, ws.attn, r0 * hq * d, 1, hq, n, d),
            ws.lse(b0, hq * n));
      } else {
        // every sequence that holds tokens already, whatever its number of new tokens (one when
        // generating, a chunk of a long prompt, several for a speculative step): one ragged
        // decode call over the cache, their rows packed as they lie
        while (b1 < batch && start[b1] != 0) {
          b1++;
        }
        int r0 = rowStart[b0];
        int n = rowStart[b1] - r0;
        int[] cu = ws.cuSeqlens(b0, b1 - b0 + 1);
        for (int b = b0; b <= b1; b++) {
          cu[b - b0] = rowStart[b] - r0;
        }
        int off = r0 * hq * d;
        engine.decode(
            cache,
            l,
            ws.runIds(seqIds, b0, b1),
            ws.view(ForwardWorkspace.RUN_Q, b0, ws.q, off, 1, hq, n, d),
            cu,
            options,
            ws.view(ForwardWorkspace.RUN_O, b0, ws.attn, off, 1, hq, n, d),
            ws.lse(b0, hq * n));
      }
      b0 = b1;
    }
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
      long positions = (long) cache.length(seqIds[b]) + tokens[b].length;
      if (positions > config.maxPositions()) {
        // positions past max_position_embeddings were never trained (RoPE's angles, or the
        // scaling's range, end there): refused, not silently computed
        throw new IllegalArgumentException(
            "sequence "
                + seqIds[b]
                + " would hold "
                + positions
                + " tokens; the model has "
                + config.maxPositions()
                + " positions (max_position_embeddings): shorten the prompt, or drop its oldest"
                + " tokens");
      }
    }
    return seqIds.length;
  }
}
