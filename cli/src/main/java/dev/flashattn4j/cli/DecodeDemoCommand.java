package dev.flashattn4j.cli;

import dev.flashattn4j.api.AttentionEngine;
import dev.flashattn4j.cache.KvStorage;
import dev.flashattn4j.cache.PagedKvCache;
import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ./flashattn decode-demo}: a worked example of inference with the paged KV cache. Random
 * prompts are prefilled into the cache, then each step appends the new tokens' K and V and runs the
 * decode step, and every step of every sequence is checked against the float64 oracle on the whole
 * sequence so far (bottom-right causal).
 */
@Command(
    name = "decode-demo",
    mixinStandardHelpOptions = true,
    description =
        "Prefill random prompts into a paged KV cache, decode step by step, and check every step"
            + " against the oracle on the whole sequence so far. Exits 1 if a step is over the error"
            + " budget.")
final class DecodeDemoCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--prompt",
      description =
          "prompt length in tokens (default: ${DEFAULT-VALUE}); with --batch, later sequences are shorter",
      defaultValue = "512")
  int prompt;

  @Option(
      names = "--steps",
      description = "decode steps (default: ${DEFAULT-VALUE})",
      defaultValue = "64")
  int steps;

  @Option(
      names = "--heads",
      description = "query heads H_q (default: ${DEFAULT-VALUE})",
      defaultValue = "32")
  int heads;

  @Option(
      names = "--kv-heads",
      description = "K/V heads H_kv (default: ${DEFAULT-VALUE})",
      defaultValue = "8")
  int kvHeads;

  @Option(
      names = "--d",
      description = "head dimension (default: ${DEFAULT-VALUE})",
      defaultValue = "128")
  int headDim;

  @Option(
      names = "--window",
      description = "sliding window: each query sees the W keys before it and itself")
  Integer window;

  @Option(names = "--softcap", description = "soft cap C > 0 on the scores")
  Float softcap;

  @Option(
      names = "--batch",
      description = "sequences decoded together (default: ${DEFAULT-VALUE})",
      defaultValue = "1")
  int batch;

  @Option(
      names = "--new-tokens",
      description =
          "tokens each step adds per sequence, >1 as in speculative decoding (default: ${DEFAULT-VALUE})",
      defaultValue = "1")
  int newTokens;

  @Option(
      names = "--page-size",
      description = "tokens a cache page (default: ${DEFAULT-VALUE})",
      defaultValue = "64")
  int pageSize;

  @Option(names = "--float16", description = "store K and V as float16")
  boolean float16;

  @Option(names = "--bfloat16", description = "store K and V as bfloat16")
  boolean bfloat16;

  @Option(names = "--threads", description = "threads (default: all processors)")
  Integer threads;

  @Option(
      names = "--seed",
      description = "random seed (default: ${DEFAULT-VALUE})",
      defaultValue = "42")
  long seed;

  /** The worst check so far (by error over budget). */
  private ErrorBudget.Check worst;

  private int worstStep;
  private int worstSeq;
  private int failures;

  @Override
  public Integer call() {
    checkFlags();
    PrintWriter out = spec.commandLine().getOut();
    SplittableRandom random = new SplittableRandom(seed);
    int[] lens = new int[batch];
    int pages = 0;
    int total = 0;
    for (int b = 0; b < batch; b++) {
      lens[b] = Math.max(1, prompt - b * prompt / (2 * batch));
      int cap = lens[b] + steps * newTokens;
      pages += (cap + pageSize - 1) / pageSize;
      total = Math.max(total, cap);
    }
    if (float16 && bfloat16) {
      throw new BadInputException("--float16 and --bfloat16: choose one");
    }
    KvStorage storage =
        float16 ? KvStorage.FLOAT16 : bfloat16 ? KvStorage.BFLOAT16 : KvStorage.FLOAT32;
    PagedKvCache cache = new PagedKvCache(1, kvHeads, headDim, headDim, pageSize, pages, storage);
    AttentionOptions.Builder ob = AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT);
    if (window != null) {
      ob.window(window, 0);
    }
    if (softcap != null) {
      ob.softcap(softcap);
    }
    AttentionOptions options = ob.build();

    // The plain copy of every sequence's K and V, (H_kv, capacity, d), that the oracle reads.
    float[][] keys = new float[batch][kvHeads * total * headDim];
    float[][] values = new float[batch][kvHeads * total * headDim];
    int[] ids = new int[batch];
    for (int b = 0; b < batch; b++) {
      ids[b] = cache.newSequence();
      fill(random, keys[b], values[b], total, 0, lens[b], storage);
      cache.append(ids[b], rows(keys[b], total, 0, lens[b]), rows(values[b], total, 0, lens[b]));
    }
    out.printf(
        Locale.ROOT,
        "decode-demo: batch %d, prompts %s tokens, %d steps of %d token(s), H_q = %d, H_kv = %d,"
            + " d = %d%s%s, %s cache in pages of %d tokens%n",
        batch,
        Arrays.toString(lens),
        steps,
        newTokens,
        heads,
        kvHeads,
        headDim,
        window != null ? ", window " + window : "",
        softcap != null ? ", softcap " + softcap : "",
        storage.name().toLowerCase(Locale.ROOT),
        pageSize);

    int t =
        threads == null
            ? Runtime.getRuntime().availableProcessors()
            : ThreadCount.check("--threads", threads);
    long[] stepNanos = new long[steps];
    Tensor q = Tensor.zeros(batch, heads, newTokens, headDim);
    try (AttentionEngine decode = AttentionEngine.create(KernelConfig.defaults().withThreads(t))) {
      for (int step = 0; step < steps; step++) {
        for (int b = 0; b < batch; b++) {
          fill(random, keys[b], values[b], total, lens[b], newTokens, storage);
          cache.append(
              ids[b],
              rows(keys[b], total, lens[b], newTokens),
              rows(values[b], total, lens[b], newTokens));
          lens[b] += newTokens;
        }
        for (int i = 0; i < q.data().length; i++) {
          q.data()[i] = (float) (random.nextDouble() * 2 - 1);
        }
        long t0 = System.nanoTime();
        AttentionResult r = decode.decode(cache, 0, ids, q, options);
        stepNanos[step] = System.nanoTime() - t0;
        for (int b = 0; b < batch; b++) {
          check(
              step,
              b,
              q,
              r,
              rows(keys[b], total, 0, lens[b]),
              rows(values[b], total, 0, lens[b]),
              options);
        }
      }
    }
    long[] sorted = stepNanos.clone();
    Arrays.sort(sorted);
    double median = sorted[steps / 2] / 1e6;
    double mean = Arrays.stream(stepNanos).average().orElse(0) / 1e6;
    out.printf(
        Locale.ROOT,
        "checked %d step(s) × %d sequence(s) against the float64 oracle on the whole sequence:"
            + " %s%n",
        steps,
        batch,
        failures == 0 ? "every one within the error budget" : failures + " OVER the error budget");
    out.printf(Locale.ROOT, "worst: step %d, sequence %d: %s%n", worstStep, worstSeq, worst);
    out.printf(
        Locale.ROOT,
        "decode: %.1f steps/s (median %.3f ms a step for the batch, mean %.3f with the first"
            + " steps' JIT compilation; %d thread(s); oracle checks not timed)%n",
        1000 / median,
        median,
        mean,
        t);
    out.printf(
        Locale.ROOT,
        "cache: %d of %d pages in use, %.2f MiB of K and V in use, %.2f MiB allocated (grown as"
            + " tokens came) of %.2f MiB the full pool would take (%s)%n",
        cache.capacityPages() - cache.freePages(),
        cache.capacityPages(),
        cache.bytesInUse() / 1048576.0,
        cache.bytesAllocated() / 1048576.0,
        cache.bytesCapacity() / 1048576.0,
        storage.name().toLowerCase(Locale.ROOT));
    out.flush();
    return failures == 0 ? 0 : Main.EXIT_CHECK_FAILED;
  }

  private void checkFlags() {
    positive("--prompt", prompt);
    positive("--steps", steps);
    positive("--heads", heads);
    positive("--kv-heads", kvHeads);
    positive("--d", headDim);
    positive("--batch", batch);
    positive("--new-tokens", newTokens);
    positive("--page-size", pageSize);
    if (heads % kvHeads != 0) {
      throw new BadInputException(
          "--heads (" + heads + ") must be a multiple of --kv-heads (" + kvHeads + ")");
    }
    if (window != null && window < 0) {
      throw new BadInputException("--window must not be negative, not " + window);
    }
    if (softcap != null && !(softcap > 0)) {
      throw new BadInputException("--softcap must be positive, not " + softcap);
    }
    if ((long) kvHeads * (prompt + (long) steps * newTokens) * headDim > Integer.MAX_VALUE - 8) {
      throw new BadInputException("--prompt, --steps, --kv-heads and --d are too large together");
    }
  }

  private static void positive(String flag, int value) {
    if (value < 1) {
      throw new BadInputException(flag + " must be positive, not " + value);
    }
  }

  private void check(
      int step, int b, Tensor q, AttentionResult r, Tensor k, Tensor v, AttentionOptions options) {
    Tensor qb = q.narrow(0, b, 1);
    Tensor ob = r.output().narrow(0, b, 1).copy();
    int per = heads * newTokens;
    float[] lb = Arrays.copyOfRange(r.lse(), b * per, (b + 1) * per);
    ErrorBudget.Check c = ErrorBudget.check(qb, k, v, options, new AttentionResult(ob, lb));
    if (!c.passed()) {
      failures++;
    }
    if (worst == null || ratio(c) > ratio(worst)) {
      worst = c;
      worstStep = step;
      worstSeq = b;
    }
  }

  /** How much of the budget a check used: the larger of O's and the LSE's share. */
  private static double ratio(ErrorBudget.Check c) {
    return Math.max(c.output().maxAbs() / c.outputTolerance(), c.lse().maxAbs() / c.lseTolerance());
  }

  /** Random K and V for rows [from, from + n) of each head; rounded as the cache stores them. */
  private void fill(
      SplittableRandom random,
      float[] k,
      float[] v,
      int capacity,
      int from,
      int n,
      KvStorage storage) {
    for (int h = 0; h < kvHeads; h++) {
      for (int i = (h * capacity + from) * headDim; i < (h * capacity + from + n) * headDim; i++) {
        k[i] = (float) (random.nextDouble() * 2 - 1);
        v[i] = (float) (random.nextDouble() * 2 - 1);
      }
      // as the cache stores them (int8: a scale per row)
      for (int row = h * capacity + from; row < h * capacity + from + n; row++) {
        storage.roundRow(k, row * headDim, headDim);
        storage.roundRow(v, row * headDim, headDim);
      }
    }
  }

  /** Rows [from, from + n) of an (H_kv, capacity, d) array, as a (1, H_kv, n, d) view. */
  private Tensor rows(float[] data, int capacity, int from, int n) {
    return Tensor.of(data, 1, kvHeads, capacity, headDim).narrow(2, from, n);
  }
}
