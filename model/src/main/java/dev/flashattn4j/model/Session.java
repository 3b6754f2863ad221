package dev.flashattn4j.model;

import dev.flashattn4j.cache.PagedKvCache;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * One conversation: a sequence in a KV cache that grows turn by turn, so that each turn computes
 * only its new tokens. {@link #fork()} makes a second conversation that shares everything so far
 * (the cache's pages, copied only when one of the two writes into a shared page), for a second
 * continuation of the same prefix.
 *
 * <p>A session and its forks share one cache, which one thread changes at a time: use them from one
 * thread. {@link #close()} frees the sequence's pages (those its forks still share stay).
 *
 * <p>A decoding step ({@link #next}, each token of {@link #generate}) works in the session's own
 * buffers (a {@link ForwardWorkspace}, shared with its forks, and the logits array, overwritten by
 * each step): once warm it allocates nothing but the growth of the cache and of the token list.
 *
 * {@snippet file="dev/flashattn4j/model/ModelSnippetsTest.java" region="fork"}
 */
public final class Session implements AutoCloseable {

  private final Model model;
  private final PagedKvCache cache;
  private final int seq;
  private final int[] seqIds; // {seq}: the step's argument
  private final int[][] oneToken = {new int[1]}; // a decoding step's tokens
  private final ForwardWorkspace workspace; // shared with the forks (same thread)
  private int[] tokens; // the first `length` are the session's
  private int length;
  private float[] lastLogits; // vocab floats, overwritten by each step; null before any
  private boolean closed;

  Session(Model model, PagedKvCache cache) {
    // the workspace keeps the buffers of one new token (a decoding step's); a turn of more runs on
    // buffers of its own
    this(model, cache, cache.newSequence(), new int[16], 0, null, model.newWorkspace(1));
  }

  private Session(
      Model model,
      PagedKvCache cache,
      int seq,
      int[] tokens,
      int length,
      float[] lastLogits,
      ForwardWorkspace workspace) {
    this.model = model;
    this.cache = cache;
    this.seq = seq;
    this.seqIds = new int[] {seq};
    this.tokens = tokens;
    this.length = length;
    this.lastLogits = lastLogits;
    this.workspace = workspace;
  }

  /** The tokens so far. */
  public int[] tokens() {
    return Arrays.copyOf(tokens, length);
  }

  /** The token array, valid up to {@link #length()} (no copy: for the prefix cache). */
  int[] tokensView() {
    return tokens;
  }

  /** Number of tokens so far. */
  public int length() {
    return length;
  }

  /** The cache this session (and its forks) lives in. */
  public PagedKvCache cache() {
    return cache;
  }

  /** The logits after the last token (a copy), or null before any. */
  public float[] lastLogits() {
    return lastLogits == null ? null : lastLogits.clone();
  }

  /**
   * Appends tokens (a prompt, a user's turn): one forward pass over them, prefill when the session
   * is empty, a multi-token decoding step over the cache otherwise.
   *
   * @return the logits after the last of them (vocabulary floats)
   * @throws IllegalStateException when the cache is full (nothing changes) or the session closed
   */
  public float[] append(int... newTokens) {
    return append(newTokens, null);
  }

  /** As {@link #append(int...)}, adding the time spent to {@code timings}. */
  public float[] append(int[] newTokens, StepTimings timings) {
    checkOpen();
    if (newTokens == null || newTokens.length == 0) {
      throw new IllegalArgumentException("append needs at least one token");
    }
    step(new int[][] {newTokens.clone()}, timings);
    return lastLogits.clone();
  }

  /**
   * One decoding step: picks the next token from the logits after the last one, appends it (its K
   * and V to the cache, the logits after it kept) and returns it. Once warm, a step allocates
   * nothing (with a greedy sampler; a sampling one reuses its buffers too), apart from the cache's
   * growth: a new page every page size tokens, and the session's token list, which doubles.
   *
   * @throws IllegalStateException when the session holds no token yet, or as {@link #append}
   */
  public int next(Sampler sampler) {
    return next(sampler, null);
  }

  /** As {@link #next(Sampler)}, adding the time spent to {@code timings}. */
  public int next(Sampler sampler, StepTimings timings) {
    checkCanSample(sampler);
    int token = sampler.next(lastLogits, 0, lastLogits.length);
    decode(token, timings);
    return token;
  }

  /**
   * Generates up to {@code maxNewTokens} tokens from the logits of the last token, one decoding
   * step each (every new token joins the session, so a later turn or generate continues after it),
   * and stops after an EOS token (which it keeps).
   *
   * @param onToken called with each new token as soon as it is chosen (for streaming)
   * @return the new tokens
   * @throws IllegalStateException when the session holds no token yet, or as {@link #append}
   */
  public int[] generate(int maxNewTokens, Sampler sampler, IntConsumer onToken) {
    return generate(maxNewTokens, sampler, onToken, null);
  }

  /** As {@link #generate(int, Sampler, IntConsumer)}, adding the time spent to {@code timings}. */
  public int[] generate(
      int maxNewTokens, Sampler sampler, IntConsumer onToken, StepTimings timings) {
    checkOpen();
    if (sampler == null) {
      throw new IllegalArgumentException("sampler must not be null");
    }
    if (maxNewTokens < 0) {
      throw new IllegalArgumentException("maxNewTokens must be ≥ 0, not " + maxNewTokens);
    }
    checkCanSample(sampler);
    int[] out = new int[maxNewTokens];
    int n = 0;
    while (n < maxNewTokens) {
      int token = sampler.next(lastLogits, 0, lastLogits.length);
      out[n++] = token;
      if (onToken != null) {
        onToken.accept(token);
      }
      // the token joins the conversation (its K and V in the cache, the logits after it kept)
      decode(token, timings);
      if (model.config().isEos(token)) {
        break;
      }
    }
    return Arrays.copyOf(out, n);
  }

  private void checkCanSample(Sampler sampler) {
    checkOpen();
    if (sampler == null) {
      throw new IllegalArgumentException("sampler must not be null");
    }
    if (lastLogits == null) {
      throw new IllegalStateException("append a prompt before generating");
    }
  }

  /** Appends one token: a decoding step into the session's arrays. */
  private void decode(int token, StepTimings timings) {
    oneToken[0][0] = token;
    step(oneToken, timings);
  }

  /** A forward step of this session's sequence; on success the tokens join it. */
  private void step(int[][] newTokens, StepTimings timings) {
    float[] logits = lastLogits != null ? lastLogits : new float[model.config().vocabSize()];
    model.forward(cache, seqIds, newTokens, false, logits, workspace, timings);
    lastLogits = logits;
    int[] added = newTokens[0];
    if (length + added.length > tokens.length) {
      tokens = Arrays.copyOf(tokens, Math.max(length + added.length, 2 * tokens.length));
    }
    System.arraycopy(added, 0, tokens, length, added.length);
    length += added.length;
  }

  /**
   * A second conversation with the same tokens, sharing this one's cache pages (no copy now) and
   * its workspace (both are used from one thread).
   */
  public Session fork() {
    checkOpen();
    return new Session(
        model,
        cache,
        cache.fork(seq),
        tokens.clone(),
        length,
        lastLogits == null ? null : lastLogits.clone(),
        workspace);
  }

  /**
   * A new conversation holding this one's first {@code keep} tokens, sharing their pages (prefix
   * caching: see {@link PrefixCache}). It has no logits until its first {@link #append}, so at
   * least one token of a new prompt must follow the shared prefix.
   *
   * @param keep 1 to {@link #length()}
   */
  public Session fork(int keep) {
    checkOpen();
    if (keep < 1 || keep > length) {
      throw new IllegalArgumentException(
          "a fork keeps 1 to " + length + " tokens of this session, not " + keep);
    }
    int copy = cache.fork(seq);
    cache.truncate(copy, keep);
    return new Session(
        model, cache, copy, Arrays.copyOf(tokens, Math.max(16, keep)), keep, null, workspace);
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the session was closed");
    }
  }

  /** Frees the sequence's pages (those a fork shares stay with the fork). Idempotent. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      cache.free(seq);
    }
  }
}
