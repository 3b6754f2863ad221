package dev.flashattn4j.model;

import java.util.ArrayList;
import java.util.List;

/**
 * Prompts served earlier, kept so that a new prompt that starts the same way reuses their K and V:
 * {@link #start} finds the remembered prompt with the longest common prefix, forks it at that
 * prefix (the pages are shared, not copied: {@link Session#fork(int)}) and computes only the rest.
 * A system prompt or a conversation's earlier turns are computed once for every request that
 * repeats them. The prefix's keys and values are the bits a fresh prefill computes; the new rows
 * attend over them through the decode kernel rather than the forward kernel, so the logits agree to
 * rounding (within 1e-4 of the largest in {@code PrefixCacheTest}) and the greedy tokens match.
 *
 * <p>It holds at most {@code capacity} prompts (the least recently used one is let go, its pages
 * freed when no session shares them) and lives in one cache, changed by one thread at a time, as
 * the cache's sessions are. Not thread-safe.
 */
public final class PrefixCache implements AutoCloseable {

  private final Model model;
  private final dev.flashattn4j.cache.PagedKvCache cache;
  private final int capacity;
  private final List<Session> entries = new ArrayList<>(); // most recently used last
  private long hits;
  private long reusedTokens;

  /**
   * An empty prefix cache in {@code cache}.
   *
   * @param capacity the most prompts kept, at least 1
   */
  public PrefixCache(Model model, dev.flashattn4j.cache.PagedKvCache cache, int capacity) {
    if (model == null || cache == null) {
      throw new IllegalArgumentException("model and cache must not be null");
    }
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1, not " + capacity);
    }
    this.model = model;
    this.cache = cache;
    this.capacity = capacity;
  }

  /**
   * A session that holds {@code prompt}, with its logits ready: the longest prefix it shares with a
   * remembered prompt (at most prompt.length − 1 tokens, so that the last one is computed and its
   * logits are there) comes from the cache, the rest is one forward pass. The prompt is then
   * remembered too. The caller owns the session (and closes it).
   *
   * @param prompt at least one token
   */
  public Session start(int[] prompt) {
    if (prompt == null || prompt.length == 0) {
      throw new IllegalArgumentException("a prompt needs at least one token");
    }
    Session best = null;
    int shared = 0;
    for (Session s : entries) {
      int n = common(s, prompt);
      if (n > shared) {
        shared = n;
        best = s;
      }
    }
    shared = Math.min(shared, prompt.length - 1);
    Session session;
    if (best != null && shared > 0) {
      session = best.fork(shared);
      entries.remove(best);
      entries.add(best); // most recently used
      hits++;
      reusedTokens += shared;
    } else {
      session = model.newSession(cache);
    }
    session.append(java.util.Arrays.copyOfRange(prompt, shared, prompt.length));
    remember(session);
    return session;
  }

  /**
   * Keeps a fork of {@code session}'s tokens for later prompts (the session stays the caller's).
   */
  public void remember(Session session) {
    if (session.cache() != cache) {
      throw new IllegalArgumentException("the session lives in another cache");
    }
    if (entries.size() == capacity) {
      entries.remove(0).close();
    }
    entries.add(session.fork());
  }

  /** Prompts that found a shared prefix. */
  public long hits() {
    return hits;
  }

  /** Tokens whose K and V came from the cache instead of a forward pass. */
  public long reusedTokens() {
    return reusedTokens;
  }

  /** Prompts kept. */
  public int size() {
    return entries.size();
  }

  private static int common(Session s, int[] prompt) {
    int[] t = s.tokensView();
    int n = Math.min(s.length(), prompt.length);
    int i = 0;
    while (i < n && t[i] == prompt[i]) {
      i++;
    }
    return i;
  }

  /** Lets every kept prompt go (their pages go back to the pool where no session shares them). */
  @Override
  public void close() {
    for (Session s : entries) {
      s.close();
    }
    entries.clear();
  }
}
