package dev.flashattn4j.model;

import dev.flashattn4j.cache.PagedKvCache;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Continuous batching: many generation requests served together on one paged KV cache, as vLLM and
 * FlashInfer-based servers do. Requests join and leave between steps; every step is one {@link
 * Model#forward} call — one ragged attention call per layer — holding a decoding token for every
 * running sequence and chunks of the prompts being prefilled, up to a budget of tokens per step
 * ({@link Options#stepTokens}), so that a long prompt never stalls the others' tokens for more than
 * one chunk.
 *
 * <p>A prompt that starts as an earlier one did reuses its K and V: the scheduler keeps recent
 * prompts (a fork of their sequence: the pages are shared, copy-on-write) and forks the one with
 * the longest common prefix, so that only the rest is computed (prefix caching). Kept prompts are
 * let go, least recently used first, when a new request needs their pages.
 *
 * <p>A request is admitted when the pages of its prompt are free beside a page for each running
 * request's next growth; the others wait, first come first served. When the running requests'
 * growth outruns the cache, the youngest is preempted: its pages are freed, and it is prefilled
 * again (prompt and tokens so far) when pages are back, unseen by its listener. One thread, the
 * scheduler's own, owns the cache and the model's steps; {@link #submit} and {@link Handle#cancel}
 * may be called from any thread. The listener's methods run on the scheduler's thread, between
 * steps: they must return quickly (hand the token to a queue) and never block.
 *
 * <p>With greedy sampling a request gets the tokens it gets alone: the matrix products do not
 * depend on which rows share a step, and the ragged decode kernel gives each sequence the bits of
 * its own call; only a prompt prefilled in chunks, or over a cached prefix, goes through the decode
 * kernel instead of the forward kernel, which agrees to rounding.
 */
public final class Scheduler implements AutoCloseable {

  /**
   * How the scheduler works.
   *
   * @param cacheTokens the KV cache's room, in tokens over all sequences (pages are allocated as
   *     they are first needed, so an unused room costs nothing)
   * @param maxRunning the most sequences in one step
   * @param stepTokens the most new tokens in one step (decoding tokens and prefill chunks), more
   *     than {@code maxRunning}
   * @param prefixEntries the most prompts kept for prefix caching (0: none)
   * @param maxQueued the most requests not ended (running and waiting); more are refused
   * @param horizonTokens the new tokens of each running request that admission keeps pages for (a
   *     request asking for fewer gets pages for what it asks); beyond them admission is optimistic,
   *     and when requests outgrow the cache the youngest is preempted
   */
  public record Options(
      int cacheTokens,
      int maxRunning,
      int stepTokens,
      int prefixEntries,
      int maxQueued,
      int horizonTokens) {

    public Options {
      if (cacheTokens < 1
          || maxRunning < 1
          || prefixEntries < 0
          || maxQueued < 0
          || horizonTokens < 0) {
        throw new IllegalArgumentException(
            "cacheTokens and maxRunning must be ≥ 1, prefixEntries, maxQueued and horizonTokens"
                + " ≥ 0: "
                + cacheTokens
                + ", "
                + maxRunning
                + ", "
                + prefixEntries
                + ", "
                + maxQueued
                + ", "
                + horizonTokens);
      }
      if (stepTokens <= maxRunning) {
        throw new IllegalArgumentException(
            "stepTokens ("
                + stepTokens
                + ") must exceed maxRunning ("
                + maxRunning
                + "), so that prompts are prefilled beside a full batch of decoding tokens");
      }
    }

    /**
     * 16,384 tokens of cache, 64 sequences, 512 tokens a step, 64 kept prompts, 1,024 queued, pages
     * kept for each request's next 256 tokens.
     */
    public static Options defaults() {
      return new Options(16_384, 64, 512, 64, 1_024, 256);
    }

    public Options withCacheTokens(int tokens) {
      return new Options(tokens, maxRunning, stepTokens, prefixEntries, maxQueued, horizonTokens);
    }

    public Options withMaxRunning(int running) {
      return new Options(cacheTokens, running, stepTokens, prefixEntries, maxQueued, horizonTokens);
    }

    public Options withStepTokens(int tokens) {
      return new Options(cacheTokens, maxRunning, tokens, prefixEntries, maxQueued, horizonTokens);
    }

    public Options withPrefixEntries(int entries) {
      return new Options(cacheTokens, maxRunning, stepTokens, entries, maxQueued, horizonTokens);
    }

    public Options withMaxQueued(int queued) {
      return new Options(cacheTokens, maxRunning, stepTokens, prefixEntries, queued, horizonTokens);
    }

    public Options withHorizonTokens(int tokens) {
      return new Options(cacheTokens, maxRunning, stepTokens, prefixEntries, maxQueued, tokens);
    }
  }

  /**
   * What to generate.
   *
   * @param prompt the prompt's tokens, at least one
   * @param maxNewTokens the most tokens to generate, ≥ 0
   * @param sampler this request's own sampler (used by the scheduler's thread only)
   * @param ignoreEos true: go on after an end-of-sequence token, to {@code maxNewTokens}
   */
  public record Request(int[] prompt, int maxNewTokens, Sampler sampler, boolean ignoreEos) {

    public Request {
      if (prompt == null || prompt.length == 0) {
        throw new IllegalArgumentException("a request needs a prompt of at least one token");
      }
      if (maxNewTokens < 0) {
        throw new IllegalArgumentException("maxNewTokens must be ≥ 0, not " + maxNewTokens);
      }
      if (sampler == null) {
        throw new IllegalArgumentException("sampler must not be null");
      }
      prompt = prompt.clone();
    }

    @Override
    public int[] prompt() {
      return prompt.clone();
    }
  }

  /** Why a request ended. */
  public enum FinishReason {
    /** An end-of-sequence token (kept as the last token). */
    STOP,
    /** {@code maxNewTokens} tokens. */
    LENGTH,
    /** {@link Handle#cancel} (or the scheduler closed). */
    CANCELLED,
    /** The step failed; {@link Finish#error} says why. */
    ERROR
  }

  /**
   * How a request ended.
   *
   * @param reason why
   * @param promptTokens the prompt's tokens
   * @param cachedTokens of those, the ones whose K and V came from the prefix cache
   * @param generatedTokens tokens generated
   * @param error the error's message for {@link FinishReason#ERROR}, else null
   */
  public record Finish(
      FinishReason reason, int promptTokens, int cachedTokens, int generatedTokens, String error) {}

  /** Receives a request's tokens; called on the scheduler's thread, between steps. */
  public interface Listener {
    /** A new token (the first comes right after the prompt's last prefill chunk). */
    void onToken(int token);

    /** The request ended; no call follows. */
    void onFinish(Finish finish);
  }

  /**
   * A snapshot of the scheduler, taken after each step.
   *
   * @param running requests in the batch
   * @param waiting requests waiting for pages or for a place in the batch
   * @param capacityPages the cache's pages
   * @param freePages pages no sequence holds
   * @param prefixPages pages held by kept prompts (some shared with running requests)
   * @param prefixEntries prompts kept
   * @param steps steps run
   * @param promptTokens prompt tokens of admitted requests
   * @param cachedTokens of those, tokens taken from the prefix cache
   * @param generatedTokens tokens generated
   * @param finished requests ended (any reason)
   * @param cancelled of those, the ones cancelled ({@link Handle#cancel}, a listener that threw)
   * @param preempted preemptions: a request's pages freed for older requests, its tokens computed
   *     again later
   */
  public record Stats(
      int running,
      int waiting,
      int capacityPages,
      int freePages,
      int prefixPages,
      int prefixEntries,
      long steps,
      long promptTokens,
      long cachedTokens,
      long generatedTokens,
      long finished,
      long cancelled,
      long preempted) {}

  /** A submitted request: cancel it from any thread. */
  public static final class Handle {
    private volatile boolean cancelled;
    private volatile boolean done;

    private Handle() {}

    /**
     * Ends the request at the next step (its pages go back to the cache then). Idempotent; no
     * effect once it ended.
     */
    public void cancel() {
      cancelled = true;
    }

    /** True once the listener had its {@link Listener#onFinish}. */
    public boolean isDone() {
      return done;
    }
  }

  /** A request in the scheduler: its sequence, its progress. Scheduler thread only. */
  private static final class Active {
    final Request request;
    final int[] prompt;
    final Listener listener;
    final Handle handle;
    int seq = -1;
    // the tokens to prefill: the prompt, and after a preemption the prompt and the tokens
    // generated so far (which are computed again)
    int[] prefill;
    int prefilled; // tokens of `prefill` whose K and V are in the cache
    int cached; // of the prompt's, the ones taken from the prefix cache (the first time)
    int generated;
    int[] tokens; // the generated tokens (the first `generated`)
    final int[] lastToken = new int[1];
    boolean started; // admitted once (counted in the stats)

    Active(Request request, Listener listener, Handle handle) {
      this.request = request;
      this.prompt = request.prompt;
      this.prefill = prompt;
      this.listener = listener;
      this.handle = handle;
      this.tokens = new int[Math.min(16, Math.max(1, request.maxNewTokens))];
    }

    boolean prefilling() {
      return prefilled < prefill.length;
    }

    /** Tokens generated since its prefill (all of them, unless it was preempted). */
    int generatedSinceRestart() {
      return generated - (prefill.length - prompt.length);
    }

    void generated(int token) {
      if (generated == tokens.length) {
        tokens = Arrays.copyOf(tokens, Math.min(request.maxNewTokens, 2 * generated));
      }
      tokens[generated++] = token;
      lastToken[0] = token;
    }

    /** After a preemption: all its tokens are prefilled again, then it goes on. */
    void restart() {
      seq = -1;
      prefilled = 0;
      prefill = Arrays.copyOf(prompt, prompt.length + generated);
      System.arraycopy(tokens, 0, prefill, prompt.length, generated);
    }
  }

  /**
   * Pages a request may take beyond its tokens': the copies of a shared, partly filled last page
   * (when it starts from a kept prompt, and again when its own prompt is kept). A request alone
   * must fit its tokens and these.
   */
  private static final int COPIES = 2;

  /** Wakes the scheduler's thread (it has no handle: never queued). */
  private static final Active WAKE =
      new Active(new Request(new int[1], 0, Sampler.greedy(), false), null, null);

  /** A kept prompt: a sequence holding its tokens. */
  private record Kept(int seq, int[] tokens) {}

  private final Model model;
  private final Options options;
  private final PagedKvCache cache;
  private final int vocab;
  private final LinkedBlockingQueue<Active> incoming = new LinkedBlockingQueue<>();
  private final ArrayDeque<Active> waiting = new ArrayDeque<>();
  private final List<Active> running = new ArrayList<>();
  private final List<Kept> kept = new ArrayList<>(); // least recently used first
  private final ForwardWorkspace workspace;
  private final float[] logits;
  private final Thread thread;
  private final AtomicLong pending = new AtomicLong();
  private volatile boolean closing;
  private volatile boolean forget;
  private volatile Stats stats;
  private long steps;
  private long promptTokens;
  private long cachedTokens;
  private long generatedTokens;
  private long finished;
  private long cancelled;
  private long preempted;
  // after a preemption, nothing is admitted until a request ends (`finished` passes this) or none
  // runs: the pages a preemption frees would let the same request in again at once, to be
  // preempted again at the next step (thrashing)
  private long admitAfterFinished = -1;

  /** Starts a scheduler (and its thread) for {@code model}; close it to stop. */
  public Scheduler(Model model, Options options) {
    if (model == null || options == null) {
      throw new IllegalArgumentException("model and options must not be null");
    }
    this.model = model;
    this.options = options;
    this.cache = model.newCache(options.cacheTokens());
    this.vocab = model.config().vocabSize();
    this.workspace = model.newWorkspace(options.stepTokens());
    this.logits = new float[Math.multiplyExact(options.maxRunning(), vocab)];
    publish();
    this.thread = Thread.ofPlatform().name("flashattn-scheduler").daemon(true).unstarted(this::run);
    thread.start();
  }

  public Model model() {
    return model;
  }

  public Options options() {
    return options;
  }

  /** The latest snapshot (taken after each step and each change of the queues). */
  public Stats stats() {
    return stats;
  }

  /**
   * Queues a request. The listener hears of its tokens and its end, on the scheduler's thread.
   *
   * @throws IllegalArgumentException when the request can never run: its prompt and new tokens pass
   *     the model's positions ({@code max_position_embeddings}) or need more pages than the cache
   *     has, or a prompt token is outside the vocabulary
   * @throws IllegalStateException when the scheduler is closed or {@link Options#maxQueued}
   *     requests wait already
   */
  public Handle submit(Request request, Listener listener) {
    if (request == null || listener == null) {
      throw new IllegalArgumentException("request and listener must not be null");
    }
    int positions = model.config().maxPositions();
    long total = (long) request.prompt.length + request.maxNewTokens;
    if (total > positions) {
      throw new IllegalArgumentException(
          "the prompt's "
              + request.prompt.length
              + " tokens and "
              + request.maxNewTokens
              + " new ones make "
              + total
              + ", more than the model's "
              + positions
              + " positions (max_position_embeddings)");
    }
    for (int t : request.prompt) {
      if (t < 0 || t >= vocab) {
        throw new IllegalArgumentException("token " + t + " is outside the vocabulary of " + vocab);
      }
    }
    if (total > maxTokensPerRequest()) {
      int need = pagesFor(total) + COPIES;
      throw new IllegalArgumentException(
          "the request may need "
              + need
              + " pages of "
              + cache.pageSize()
              + " tokens, more than the cache's "
              + cache.capacityPages());
    }
    if (closing) {
      throw new IllegalStateException("the scheduler was closed");
    }
    if (pending.incrementAndGet() > options.maxQueued()) {
      pending.decrementAndGet();
      throw new IllegalStateException(
          options.maxQueued() + " requests are queued already: try again later");
    }
    Handle handle = new Handle();
    incoming.add(new Active(request, listener, handle));
    return handle;
  }

  /**
   * The most tokens (prompt and new ones) one request may hold: the cache's pages, less the copies
   * of shared pages it may make.
   */
  public int maxTokensPerRequest() {
    return (cache.capacityPages() - COPIES) * cache.pageSize();
  }

  private int pagesFor(long tokens) {
    return (int) ((tokens + cache.pageSize() - 1) / cache.pageSize());
  }

  private void run() {
    try {
      while (!closing) {
        take();
        if (closing) {
          break;
        }
        if (forget) {
          forget = false;
          forgetKept();
        }
        dropCancelled();
        admit();
        if (!running.isEmpty()) {
          step();
        }
        publish();
      }
    } finally {
      closing = true; // also when the loop died: later submits are refused, not left waiting
      shutDown();
    }
  }

  /** Moves new requests to the waiting queue; waits for one while there is nothing to do. */
  private void take() {
    if (running.isEmpty() && waiting.isEmpty()) {
      try {
        Active a = incoming.take();
        if (a.handle != null) {
          waiting.add(a);
        }
      } catch (InterruptedException e) {
        closing = true;
        return;
      }
    }
    Active a;
    while ((a = incoming.poll()) != null) {
      if (a.handle != null) {
        waiting.add(a);
      }
    }
  }

  private void dropCancelled() {
    for (int i = running.size() - 1; i >= 0; i--) {
      Active a = running.get(i);
      if (a.handle.cancelled) {
        running.remove(i);
        end(a, FinishReason.CANCELLED, null);
      }
    }
    waiting.removeIf(
        a -> {
          if (a.handle.cancelled) {
            end(a, FinishReason.CANCELLED, null);
            return true;
          }
          return false;
        });
  }

  /**
   * Starts waiting requests, first come first served, while the batch allows and the pages of the
   * request's prefill are free beside a page for each running request's next growth (kept prompts
   * are let go for them, least recently used first). Optimistic, as vLLM's: a request does not hold
   * the pages of its whole answer from the start; when the cache runs short, the youngest request
   * is preempted ({@link #step}).
   */
  private void admit() {
    if (finished <= admitAfterFinished && !running.isEmpty()) {
      return;
    }
    while (!waiting.isEmpty() && running.size() < options.maxRunning()) {
      Active a = waiting.peek();
      if (a.request.maxNewTokens == 0) {
        waiting.poll();
        promptTokens += a.prompt.length;
        end(a, FinishReason.LENGTH, null);
        continue;
      }
      // the kept prompt it shares most with: its full pages are not needed again
      Kept best = bestKept(a.prefill);
      int growth = 0; // the pages of the running requests' next horizonTokens
      for (Active r : running) {
        growth += horizonPages(r, cache.length(r.seq));
      }
      while (true) {
        int shared = best == null ? 0 : shared(best, a.prefill);
        int need = horizonPages(a, 0) - shared / cache.pageSize() + COPIES + growth;
        if (need <= cache.freePages()) {
          break;
        }
        Kept other = null;
        for (Kept k : kept) {
          if (k != best) {
            other = k; // the least recently used kept prompt but the one it shares
            break;
          }
        }
        if (other != null) {
          kept.remove(other);
          cache.free(other.seq);
        } else if (best != null) {
          kept.remove(best); // even its own prefix must go
          cache.free(best.seq);
          best = null;
        } else {
          return; // it waits for pages
        }
      }
      waiting.poll();
      start(a, best);
      running.add(a);
    }
  }

  /**
   * The pages request {@code a}, holding {@code held} tokens in the cache now, takes for the rest
   * of its prefill and its next {@link #HORIZON} new tokens (or fewer, up to its last).
   */
  private int horizonPages(Active a, int held) {
    long target =
        Math.min(
            (long) a.prompt.length + a.request.maxNewTokens,
            (long) a.prefill.length + a.generatedSinceRestart() + options.horizonTokens());
    return Math.max(0, pagesFor(Math.max(target, held)) - pagesFor(held));
  }

  /**
   * The kept prompt sharing the longest prefix with {@code tokens}, or null when none shares any.
   */
  private Kept bestKept(int[] tokens) {
    Kept best = null;
    int most = 0;
    for (Kept k : kept) {
      int n = commonPrefix(k.tokens, tokens);
      if (n > most) {
        most = n;
        best = k;
      }
    }
    return best;
  }

  /**
   * The tokens a request takes from a kept prompt: their common prefix, but never the request's
   * last token, whose logits pick its next token.
   */
  private static int shared(Kept k, int[] tokens) {
    return Math.min(commonPrefix(k.tokens, tokens), tokens.length - 1);
  }

  /** Gives a request its sequence: a fork of the kept prompt {@code best}, or a new one. */
  private void start(Active a, Kept best) {
    int shared = best == null ? 0 : shared(best, a.prefill);
    if (shared > 0) {
      a.seq = cache.fork(best.seq);
      cache.truncate(a.seq, shared);
      kept.remove(best);
      kept.add(best); // most recently used
    } else {
      shared = 0;
      a.seq = cache.newSequence();
    }
    a.prefilled = shared;
    if (!a.started) {
      a.started = true;
      a.cached = Math.min(shared, a.prompt.length);
      promptTokens += a.prompt.length;
      cachedTokens += a.cached;
    }
  }

  private static int commonPrefix(int[] a, int[] b) {
    int n = Math.min(a.length, b.length);
    int i = Arrays.mismatch(a, 0, n, b, 0, n);
    return i < 0 ? n : i;
  }

  /**
   * One forward step: a token for each decoding request, prefill chunks within the budget.
   *
   * <p>Admission is optimistic, as vLLM's: a request does not hold the pages of its whole answer
   * from the start. When the step's pages exceed the free ones, a kept prompt is let go, else the
   * youngest running request is preempted: its pages are freed and it waits at the head of the
   * queue, to prefill its prompt and its tokens again (its listener sees nothing of it). The oldest
   * request always runs, and alone it fits (checked at submit), so every request ends.
   */
  private void step() {
    int[] seqIds;
    int[][] tokens;
    Active[] rows;
    int count;
    while (true) {
      seqIds = new int[running.size()];
      tokens = new int[running.size()][];
      rows = new Active[running.size()];
      count = plan(seqIds, tokens, rows);
      int need = 0;
      for (int i = 0; i < count; i++) {
        need += cache.pagesToReserve(seqIds[i], tokens[i].length);
      }
      if (need <= cache.freePages()) {
        break;
      }
      if (!kept.isEmpty()) {
        cache.free(kept.remove(0).seq); // the least recently used kept prompt
        continue;
      }
      if (running.size() == 1) {
        break; // one request alone fits (checked at submit); if not, the step's error says why
      }
      Active victim = running.remove(running.size() - 1);
      cache.free(victim.seq);
      victim.restart();
      waiting.addFirst(victim);
      preempted++;
      admitAfterFinished = finished;
    }
    if (count < seqIds.length) {
      seqIds = Arrays.copyOf(seqIds, count);
      tokens = Arrays.copyOf(tokens, count);
    }
    try {
      model.forward(cache, seqIds, tokens, false, logits, workspace);
    } catch (RuntimeException | OutOfMemoryError e) {
      // the step's requests end with the error; the others, and the scheduler, go on
      String why = e.getMessage() == null ? e.toString() : e.getMessage();
      for (int i = 0; i < count; i++) {
        running.remove(rows[i]);
        end(rows[i], FinishReason.ERROR, "the step failed: " + why);
      }
      return;
    }
    steps++;
    for (int i = 0; i < count; i++) {
      Active a = rows[i];
      if (a.prefilling()) {
        a.prefilled += tokens[i].length;
        if (a.prefilling()) {
          continue; // a chunk that is not the prompt's last: its logits are not needed
        }
        if (a.generated == 0) {
          keep(a);
        }
      }
      int token = a.request.sampler.next(logits, i * vocab, vocab);
      a.generated(token);
      generatedTokens++;
      boolean listening = tell(a, token);
      if (!listening) {
        running.remove(a);
        end(a, FinishReason.CANCELLED, null);
      } else if (!a.request.ignoreEos && model.config().isEos(token)) {
        running.remove(a);
        end(a, FinishReason.STOP, null);
      } else if (a.generated == a.request.maxNewTokens) {
        running.remove(a);
        end(a, FinishReason.LENGTH, null);
      }
    }
  }

  /**
   * The step's rows: a token for each decoding request, then prefill chunks in admission order
   * within the budget of {@link Options#stepTokens}.
   *
   * @return how many requests have a row
   */
  private int plan(int[] seqIds, int[][] tokens, Active[] rows) {
    int budget = options.stepTokens();
    for (Active a : running) {
      if (!a.prefilling()) {
        budget--;
      }
    }
    int count = 0;
    for (Active a : running) {
      int[] t;
      if (!a.prefilling()) {
        t = a.lastToken;
      } else {
        int chunk = Math.min(a.prefill.length - a.prefilled, budget);
        if (chunk == 0) {
          continue;
        }
        budget -= chunk;
        t = Arrays.copyOfRange(a.prefill, a.prefilled, a.prefilled + chunk);
      }
      seqIds[count] = a.seq;
      tokens[count] = t;
      rows[count++] = a;
    }
    return count;
  }

  /** Keeps the prompt just prefilled for later requests that start the same way. */
  private void keep(Active a) {
    if (options.prefixEntries() == 0) {
      return;
    }
    for (Kept k : kept) {
      if (Arrays.equals(k.tokens, a.prompt)) {
        return; // kept already (moved to the end when it was forked)
      }
    }
    if (kept.size() == options.prefixEntries()) {
      cache.free(kept.remove(0).seq);
    }
    kept.add(new Kept(cache.fork(a.seq), a.prompt));
  }

  private boolean tell(Active a, int token) {
    try {
      a.listener.onToken(token);
      return true;
    } catch (RuntimeException e) {
      return false; // a listener that throws has gone: the request ends
    }
  }

  /** Ends a request: frees its sequence, tells its listener. */
  private void end(Active a, FinishReason reason, String error) {
    if (a.seq >= 0 && cache.contains(a.seq)) {
      cache.free(a.seq);
    }
    a.seq = -1;
    pending.decrementAndGet();
    finished++;
    if (reason == FinishReason.CANCELLED) {
      cancelled++;
    }
    a.handle.done = true;
    try {
      a.listener.onFinish(new Finish(reason, a.prompt.length, a.cached, a.generated, error));
    } catch (RuntimeException ignored) {
      // the listener has gone; nothing is left to tell it
    }
  }

  private void publish() {
    BitSet pages = new BitSet();
    for (Kept k : kept) {
      for (int p : cache.blockTable(k.seq)) {
        pages.set(p);
      }
    }
    stats =
        new Stats(
            running.size(),
            (int) pending.get() - running.size(),
            cache.capacityPages(),
            cache.freePages(),
            pages.cardinality(),
            kept.size(),
            steps,
            promptTokens,
            cachedTokens,
            generatedTokens,
            finished,
            cancelled,
            preempted);
  }

  /** Ends every request (cancelled) and frees the cache. Scheduler thread. */
  private void shutDown() {
    Active a;
    while ((a = incoming.poll()) != null) {
      if (a.handle != null) {
        waiting.add(a);
      }
    }
    for (Active r : running) {
      end(r, FinishReason.CANCELLED, null);
    }
    running.clear();
    while ((a = waiting.poll()) != null) {
      end(a, FinishReason.CANCELLED, null);
    }
    forgetKept();
    publish();
  }

  private void forgetKept() {
    for (Kept k : kept) {
      cache.free(k.seq);
    }
    kept.clear();
  }

  /**
   * Lets every kept prompt go (their pages return to the cache where no running request shares
   * them). Runs on the scheduler's thread at its next step; returns at once.
   */
  public void forgetPrefixes() {
    forget = true;
    incoming.add(WAKE);
  }

  /**
   * Stops the scheduler: every request not ended is ended as {@link FinishReason#CANCELLED}, the
   * cache freed. Waits for the step in progress to end. Idempotent. The model stays open.
   */
  @Override
  public void close() {
    closing = true;
    incoming.add(WAKE);
    boolean interrupted = false;
    while (thread.isAlive()) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
