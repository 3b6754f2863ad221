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
 * {@snippet file="dev/flashattn4j/model/ModelSnippetsTest.java" region="fork"}
 */
public final class Session implements AutoCloseable {

  private final Model model;
  private final PagedKvCache cache;
  private final int seq;
  private int[] tokens;
  private float[] lastLogits;
  private boolean closed;

  Session(Model model, PagedKvCache cache) {
    this(model, cache, cache.newSequence(), new int[0], null);
  }

  private Session(Model model, PagedKvCache cache, int seq, int[] tokens, float[] lastLogits) {
    this.model = model;
    this.cache = cache;
    this.seq = seq;
    this.tokens = tokens;
    this.lastLogits = lastLogits;
  }

  /** The tokens so far. */
  public int[] tokens() {
    return tokens.clone();
  }

  /** Number of tokens so far. */
  public int length() {
    return tokens.length;
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
    float[] logits =
        model.forward(cache, new int[] {seq}, new int[][] {newTokens.clone()}, false, timings);
    int[] grown = Arrays.copyOf(tokens, tokens.length + newTokens.length);
    System.arraycopy(newTokens, 0, grown, tokens.length, newTokens.length);
    tokens = grown;
    lastLogits = logits;
    return logits.clone();
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
    if (lastLogits == null) {
      throw new IllegalStateException("append a prompt before generating");
    }
    int vocab = model.config().vocabSize();
    int[] out = new int[maxNewTokens];
    int n = 0;
    while (n < maxNewTokens) {
      int token = sampler.next(lastLogits, 0, vocab);
      out[n++] = token;
      if (onToken != null) {
        onToken.accept(token);
      }
      // the token joins the conversation (its K and V in the cache, the logits after it kept)
      append(new int[] {token}, timings);
      if (model.config().isEos(token)) {
        break;
      }
    }
    return Arrays.copyOf(out, n);
  }

  /** A second conversation with the same tokens, sharing this one's cache pages (no copy now). */
  public Session fork() {
    checkOpen();
    return new Session(
        model,
        cache,
        cache.fork(seq),
        tokens.clone(),
        lastLogits == null ? null : lastLogits.clone());
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
