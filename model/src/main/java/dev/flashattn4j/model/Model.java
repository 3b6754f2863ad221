package dev.flashattn4j.model;

import dev.flashattn4j.api.AttentionEngine;
import dev.flashattn4j.cache.PagedKvCache;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A decoder-only transformer of the Llama family (Llama, Mistral, Qwen2, Gemma 2) loaded from a
 * Hugging Face model directory ({@code config.json}, {@code model.safetensors} or its sharded
 * index, or a GGUF file in their place, {@code tokenizer.json}), computing what transformers
 * computes, with the library's attention.
 *
 * <p>The model owns its threads (the matrix products' workers and an {@link AttentionEngine}):
 * close it when done. It is re-entrant: calls from several threads may run at once on different
 * caches (a {@link PagedKvCache} itself is changed by one thread at a time, and so is a {@link
 * ForwardWorkspace}: each thread has its own). Nothing is global.
 *
 * {@snippet file="dev/flashattn4j/model/ModelSnippetsTest.java" region="generate"}
 */
public final class Model implements AutoCloseable {

  private final Path dir;
  private final ModelOptions options;
  private final Tokenizer tokenizer;
  private final Workers workers;
  private final AttentionEngine engine;
  private final Transformer transformer;
  private final ChatTemplate chatTemplate; // null when the model has none
  private volatile boolean closed;

  private Model(
      Path dir,
      ModelOptions options,
      Tokenizer tokenizer,
      Workers workers,
      AttentionEngine engine,
      Transformer transformer,
      ChatTemplate chatTemplate) {
    this.dir = dir;
    this.chatTemplate = chatTemplate;
    this.options = options;
    this.tokenizer = tokenizer;
    this.workers = workers;
    this.engine = engine;
    this.transformer = transformer;
  }

  /** Loads a model directory with {@link ModelOptions#defaults()}. */
  public static Model load(Path dir) throws IOException {
    return load(dir, ModelOptions.defaults());
  }

  /**
   * Loads a model directory: the config, then every tensor's name, dtype and shape checked against
   * it, then the weights, then the tokenizer.
   *
   * <p>The weights are {@code model.safetensors} (or its sharded index), or, when the directory has
   * neither, its one {@code .gguf} file (GGUF v2/v3; F32, F16, BF16, Q8_0 and Q4_0 tensors;
   * architectures llama, qwen2 and gemma2). {@code dir} may also be a {@code .gguf} file. With a
   * GGUF file, config.json and tokenizer.json are read when they are beside it; when they are not,
   * the config is built from the GGUF metadata (llama and qwen2 without RoPE scaling) and the
   * tokenizer from {@code tokenizer.ggml.*} (GPT-2's byte-level BPE); anything else is refused,
   * asking for the file. Q8_0 and Q4_0 tensors are kept as Q8_0 unless {@link
   * ModelOptions#weights()} asks for float32 or bfloat16.
   *
   * @throws NoSuchFileException when the directory or one of its files is missing
   * @throws ModelFormatException when a file is not what the model needs (one line, naming the
   *     file)
   * @throws dev.flashattn4j.tensor.SafetensorsFormatException when a checkpoint file is damaged
   */
  public static Model load(Path dir, ModelOptions options) throws IOException {
    if (dir == null || options == null) {
      throw new IllegalArgumentException("dir and options must not be null");
    }
    Path ggufFile = null;
    if (Files.isRegularFile(dir) && dir.getFileName().toString().endsWith(".gguf")) {
      // a GGUF file: its config.json and tokenizer.json are beside it
      ggufFile = dir;
      dir = dir.toAbsolutePath().getParent();
    }
    if (!Files.isDirectory(dir)) {
      throw new NoSuchFileException(dir.toString(), null, "no such model directory");
    }
    Path configFile = dir.resolve("config.json");
    boolean gguf = ggufFile != null || TensorSource.ggufOnly(dir);
    if (!gguf && !Files.isRegularFile(configFile)) {
      throw new NoSuchFileException(configFile.toString(), null, "no config.json");
    }
    Path tokenizerFile = dir.resolve("tokenizer.json");
    // the weights' headers first (read once): the config's sizes are checked against what is
    // there before anything is allocated by them
    ModelWeights weights;
    ModelConfig config;
    ChatTemplate chatTemplate;
    com.fasterxml.jackson.databind.JsonNode ggufTokenizer = null;
    Path source;
    try (TensorSource tensors = TensorSource.open(dir, ggufFile)) {
      int layers = ModelWeights.layersPresent(tensors.files());
      GgufSource g = tensors instanceof GgufSource gs ? gs : null;
      if (Files.isRegularFile(configFile) || g == null) {
        config = ModelConfig.read(configFile, layers);
      } else {
        config = g.config(layers);
      }
      if (!Files.isRegularFile(tokenizerFile)) {
        if (g == null) {
          throw new NoSuchFileException(tokenizerFile.toString(), null, "no tokenizer.json");
        }
        ggufTokenizer = g.tokenizer();
      }
      // the chat template before the weights, as every file's check: the directory's, else the
      // GGUF file's own
      chatTemplate = ChatTemplate.load(dir).orElse(g == null ? null : g.chatTemplate());
      tensors.check(config);
      weights = ModelWeights.load(tensors, config, options.weights());
      source = tensors.files().isEmpty() ? dir : tensors.files().values().iterator().next();
    }
    Tokenizer tokenizer =
        ggufTokenizer == null
            ? Tokenizer.load(tokenizerFile, config.vocabSize())
            : Tokenizer.fromJson(source, ggufTokenizer, config.vocabSize());
    Workers workers = new Workers(options.threads());
    AttentionEngine engine = AttentionEngine.create(options.threads());
    return new Model(
        dir,
        options,
        tokenizer,
        workers,
        engine,
        new Transformer(config, weights, workers, engine),
        chatTemplate);
  }

  public Path directory() {
    return dir;
  }

  public ModelConfig config() {
    return transformer.config;
  }

  public ModelOptions options() {
    return options;
  }

  public Tokenizer tokenizer() {
    return tokenizer;
  }

  /**
   * The chat template of {@code tokenizer_config.json} (or {@code chat_template.jinja}), empty when
   * the model has none (a base model).
   */
  public java.util.Optional<ChatTemplate> chatTemplate() {
    return java.util.Optional.ofNullable(chatTemplate);
  }

  /** Threads a call runs on (the attention engine caps them at the cores). */
  public int threads() {
    return Math.min(workers.threads(), engine.threads());
  }

  /** Bytes of the weights in memory. */
  public long weightBytes() {
    return transformer.weights.bytes();
  }

  /** True when some weight matrices are kept as bfloat16. */
  public boolean hasBf16Weights() {
    return transformer.weights.hasBf16();
  }

  /** True when some weight matrices are kept as Q8_0 ({@link WeightFormat#Q8_0}). */
  public boolean hasQ8Weights() {
    return transformer.weights.hasQ8();
  }

  /** A KV cache for this model with room for {@code tokens} tokens over all its sequences. */
  public PagedKvCache newCache(int tokens) {
    if (tokens < 1) {
      throw new IllegalArgumentException("a cache needs room for at least 1 token, not " + tokens);
    }
    ModelConfig c = config();
    int page = options.pageSize();
    int pages = (int) (((long) tokens + page - 1) / page);
    return new PagedKvCache(
        c.layers(), c.kvHeads(), c.headDim(), c.headDim(), page, pages, options.kvStorage());
  }

  /**
   * A workspace for {@link #forward(PagedKvCache, int[], int[][], boolean, float[],
   * ForwardWorkspace)}: the buffers of a step, reused by the next, for steps of up to {@value
   * ForwardWorkspace#DEFAULT_KEEP_ROWS} new tokens. Use it from one thread at a time (like a
   * cache); a {@link Session} has one of its own.
   */
  public ForwardWorkspace newWorkspace() {
    return newWorkspace(ForwardWorkspace.DEFAULT_KEEP_ROWS);
  }

  /**
   * A workspace that keeps the buffers of steps of up to {@code keepRows} new tokens (a step of
   * more runs on buffers of its own, dropped when it returns).
   */
  public ForwardWorkspace newWorkspace(int keepRows) {
    return new ForwardWorkspace(transformer, keepRows);
  }

  /**
   * One step of the model: appends {@code tokens[b]} to sequence {@code seqIds[b]} of the cache for
   * every b (prefill for empty sequences, decoding for the others) and returns the logits.
   *
   * @param cache a cache of this model ({@link #newCache})
   * @param seqIds B distinct live sequences
   * @param tokens B arrays of at least one token id each
   * @param allPositions true: logits of every new token (Σ n_b rows in sequence order); false: of
   *     the last new token of each sequence (B rows)
   * @return rows × vocab logits, row-major
   * @throws IllegalStateException when the cache has too few free pages (nothing changes) or the
   *     model was closed
   */
  public float[] forward(PagedKvCache cache, int[] seqIds, int[][] tokens, boolean allPositions) {
    return forward(cache, seqIds, tokens, allPositions, (StepTimings) null);
  }

  /**
   * As {@link #forward(PagedKvCache, int[], int[][], boolean)}, adding the time spent to {@code
   * timings} (total, and in attention).
   */
  public float[] forward(
      PagedKvCache cache, int[] seqIds, int[][] tokens, boolean allPositions, StepTimings timings) {
    checkOpen();
    float[] logits = new float[logitsLength(tokens, allPositions)];
    transformer.forward(cache, seqIds, tokens, allPositions, logits, newWorkspace(), timings);
    return logits;
  }

  /**
   * As {@link #forward(PagedKvCache, int[], int[][], boolean)}, into the caller's arrays: the
   * logits into {@code logits}, the step's activations in {@code workspace}. A warm decoding step
   * (the same sequences, one new token each, as the step before) allocates nothing.
   *
   * @param logits at least rows × vocab floats: the logits, row-major from 0 (the rest untouched)
   * @param workspace a workspace of this model ({@link #newWorkspace()}), not in use by another
   *     thread
   * @throws IllegalArgumentException for bad arguments (a too short {@code logits}, a workspace of
   *     another model): nothing changes then
   */
  public void forward(
      PagedKvCache cache,
      int[] seqIds,
      int[][] tokens,
      boolean allPositions,
      float[] logits,
      ForwardWorkspace workspace) {
    forward(cache, seqIds, tokens, allPositions, logits, workspace, null);
  }

  /**
   * As {@link #forward(PagedKvCache, int[], int[][], boolean, float[], ForwardWorkspace)}, adding
   * the time spent to {@code timings} (total, and in attention) when it is not null.
   */
  public void forward(
      PagedKvCache cache,
      int[] seqIds,
      int[][] tokens,
      boolean allPositions,
      float[] logits,
      ForwardWorkspace workspace,
      StepTimings timings) {
    checkOpen();
    transformer.forward(cache, seqIds, tokens, allPositions, logits, workspace, timings);
  }

  /** rows × vocab of a step, 0 when the arguments are bad (the step's check then names them). */
  private int logitsLength(int[][] tokens, boolean allPositions) {
    if (tokens == null) {
      return 0;
    }
    long rows = tokens.length;
    if (allPositions) {
      rows = 0;
      for (int[] t : tokens) {
        rows += t == null ? 0 : t.length;
      }
    }
    long n = rows * config().vocabSize();
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          rows + " rows of " + config().vocabSize() + " logits do not fit in one array");
    }
    return (int) n;
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the model was closed");
    }
  }

  /**
   * A conversation on a cache of its own with room for {@code maxTokens} tokens (its forks share
   * it).
   */
  public Session newSession(int maxTokens) {
    return new Session(this, newCache(maxTokens));
  }

  /** A conversation on a cache the caller owns (and shares with other sessions of this thread). */
  public Session newSession(PagedKvCache cache) {
    return new Session(this, cache);
  }

  /**
   * Generates continuations of several prompts together: one prefill of all prompts (varlen), then
   * one decode step per new token for the sequences still going. A sequence stops after an EOS
   * token (kept) or {@code maxNewTokens}. Each sequence b samples with {@code
   * sampler.forSequence(b)}; greedy decoding gives the tokens of each prompt run alone.
   *
   * @return the new tokens of each prompt
   */
  public List<int[]> generate(List<int[]> prompts, int maxNewTokens, Sampler sampler) {
    PagedKvCache cache = newCache(roomToGenerate(prompts, maxNewTokens, sampler));
    int batch = prompts.size();
    int[] seq = new int[batch];
    Sampler[] samplers = new Sampler[batch];
    int[][] out = new int[batch][maxNewTokens];
    int[] produced = new int[batch];
    for (int b = 0; b < batch; b++) {
      seq[b] = cache.newSequence();
      samplers[b] = sampler.forSequence(b);
    }
    int vocab = config().vocabSize();
    // the decode steps reuse one workspace, the logits array and the step's arrays (made anew only
    // when a sequence stops): a step allocates nothing once warm
    ForwardWorkspace workspace = newWorkspace(batch);
    float[] logits = new float[batch * vocab];
    forward(cache, seq, prompts.toArray(new int[0][]), false, logits, workspace);
    int[] live = new int[batch]; // the sequences still going; live[i] has row i of the logits
    for (int b = 0; b < batch; b++) {
      live[b] = b;
    }
    int liveCount = batch;
    int[][] lastToken = new int[batch][1];
    int[] ids = seq;
    int[][] step = null;
    while (liveCount > 0) {
      int next = 0;
      for (int i = 0; i < liveCount; i++) {
        int b = live[i];
        if (produced[b] == maxNewTokens) {
          continue;
        }
        int token = samplers[b].next(logits, i * vocab, vocab);
        out[b][produced[b]++] = token;
        lastToken[b][0] = token;
        if (!config().isEos(token) && produced[b] < maxNewTokens) {
          live[next++] = b;
        }
      }
      if (next == 0) {
        break;
      }
      if (step == null || next != liveCount) {
        ids = new int[next];
        step = new int[next][];
      }
      liveCount = next;
      for (int i = 0; i < liveCount; i++) {
        ids[i] = seq[live[i]];
        step[i] = lastToken[live[i]];
      }
      forward(cache, ids, step, false, logits, workspace);
    }
    List<int[]> result = new ArrayList<>();
    for (int b = 0; b < batch; b++) {
      result.add(Arrays.copyOf(out[b], produced[b]));
    }
    return result;
  }

  /** Checks the arguments of {@link #generate}; returns the tokens its cache needs room for. */
  private int roomToGenerate(List<int[]> prompts, int maxNewTokens, Sampler sampler) {
    if (prompts == null || prompts.isEmpty() || sampler == null) {
      throw new IllegalArgumentException("prompts (at least one) and sampler must be given");
    }
    if (maxNewTokens < 0) {
      throw new IllegalArgumentException("maxNewTokens must be ≥ 0, not " + maxNewTokens);
    }
    long room = 0;
    for (int[] p : prompts) {
      if (p == null || p.length == 0) {
        throw new IllegalArgumentException("every prompt needs at least one token");
      }
      room += p.length + maxNewTokens + options.pageSize();
    }
    return Math.toIntExact(room);
  }

  /** Forward pass internals for sessions. */
  Transformer transformer() {
    return transformer;
  }

  /** Stops the model's threads and frees the tokenizer; later calls throw IllegalStateException. */
  @Override
  public void close() {
    closed = true;
    workers.close();
    engine.close();
    tokenizer.close();
  }

  @Override
  public String toString() {
    ModelConfig c = config();
    return c.family().modelType()
        + " "
        + String.format(java.util.Locale.ROOT, "%.1fM", c.parameters() / 1e6)
        + " parameters ("
        + c.layers()
        + " layers, hidden "
        + c.hidden()
        + ", "
        + c.heads()
        + "/"
        + c.kvHeads()
        + " heads of "
        + c.headDim()
        + ", vocabulary "
        + c.vocabSize()
        + ")";
  }
}
