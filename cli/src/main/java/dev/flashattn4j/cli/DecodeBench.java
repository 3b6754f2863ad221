package dev.flashattn4j.cli;

import dev.flashattn4j.api.AttentionEngine;
import dev.flashattn4j.bench.FmaPeak;
import dev.flashattn4j.bench.ReadBandwidth;
import dev.flashattn4j.cache.KvStorage;
import dev.flashattn4j.cache.PagedKvCache;
import dev.flashattn4j.cli.bench.Machine;
import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import dev.flashattn4j.viz.AtomicFiles;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The decode benchmark for people: per-step latency of {@link AttentionEngine} over a paged cache,
 * for each storage, batch size and cache length, with the bytes of K and V read per second next to
 * this machine's read bandwidth measured in the same run (before and after the cases, to show the
 * noise). It checks the step against the oracle at a small size before it measures.
 */
final class DecodeBench {

  /** What to run. */
  record Settings(
      int[] cacheLens,
      int[] batches,
      List<KvStorage> storages,
      int heads,
      int kvHeads,
      int headDim,
      int pageSize,
      int threads,
      double maxGb,
      double minSeconds,
      int bandwidthMib,
      Path csv) {}

  /** One measured case. */
  record Row(
      KvStorage storage,
      int cacheLen,
      int batch,
      double medianMs,
      double minMs,
      int steps,
      double kvGbPerSecond,
      double readGbPerSecond) {}

  private final Settings settings;
  private final PrintWriter out;

  DecodeBench(Settings settings, PrintWriter out) {
    this.settings = settings;
    this.out = out;
  }

  /**
   * Runs every case.
   *
   * @return the measured rows (skipped cases have none)
   * @throws IllegalStateException when the step disagrees with the oracle
   */
  List<Row> run() {
    Settings s = settings;
    out.println(Machine.detect().describe());
    out.printf(
        Locale.ROOT,
        "decode benchmark: H_q = %d, H_kv = %d, d = %d, page %d tokens, %d thread(s)%n",
        s.heads,
        s.kvHeads,
        s.headDim,
        s.pageSize,
        s.threads);
    verify();
    warmUpJit();
    long bandwidthBytes = (long) s.bandwidthMib << 20;
    double before = ReadBandwidth.measure(bandwidthBytes, s.threads, 5);
    out.printf(
        Locale.ROOT,
        "read bandwidth (streaming sum over %d MiB, %d threads): %.1f GB/s%n",
        s.bandwidthMib,
        s.threads,
        before);
    double peak = FmaPeak.measure(300, s.threads);
    out.printf(
        Locale.ROOT,
        "FMA peak (%d threads): %.0f GFLOP/s; a step does 4·H_q·d FLOPs per cached token, %.1f per"
            + " byte of K and V read (float32)%n",
        s.threads,
        peak,
        4.0 * s.heads * s.headDim / (s.kvHeads * 2.0 * s.headDim * 4));
    out.printf(
        Locale.ROOT,
        "%-8s %9s %6s %11s %9s %7s %10s %9s %9s %8s%n",
        "storage",
        "cache_len",
        "batch",
        "median_ms",
        "min_ms",
        "steps",
        "kv_GB/s",
        "of_read",
        "GFLOP/s",
        "of_FMA");
    out.flush();
    List<Row> rows = new ArrayList<>();
    double budget = Math.min(s.maxGb, 0.6 * Runtime.getRuntime().maxMemory() / 1e9);
    // Storages innermost: float32 and float16 of a case run back to back, under the same noise.
    for (int batch : s.batches) {
      for (int len : s.cacheLens) {
        for (KvStorage storage : s.storages) {
          double gb = kvBytes(storage, batch, len) / 1e9;
          if (gb > budget) {
            out.printf(
                Locale.ROOT,
                "%-8s %9d %6d   skipped: %.1f GB of K and V is over the cap of %.1f GB%n",
                name(storage),
                len,
                batch,
                gb,
                budget);
            out.flush();
            continue;
          }
          Row row = measure(storage, batch, len, before);
          rows.add(row);
          out.printf(
              Locale.ROOT,
              "%-8s %9d %6d %11.3f %9.3f %7d %10.2f %8.0f%% %9.1f %7.0f%%%n",
              name(storage),
              len,
              batch,
              row.medianMs,
              row.minMs,
              row.steps,
              row.kvGbPerSecond,
              100 * row.kvGbPerSecond / before,
              flops(batch, len) / (row.medianMs * 1e6),
              100 * flops(batch, len) / (row.medianMs * 1e6) / peak);
          out.flush();
        }
      }
    }
    printSplitComparison(rows);
    double after = ReadBandwidth.measure(bandwidthBytes, s.threads, 5);
    out.printf(
        Locale.ROOT,
        "read bandwidth again after the cases: %.1f GB/s (before: %.1f; the difference is noise)%n",
        after,
        before);
    if (s.csv != null) {
      writeCsv(rows, after);
      out.println("wrote " + s.csv);
    }
    out.flush();
    return rows;
  }

  /**
   * For each storage and cache length measured with batch 1 and a larger batch: the time per
   * sequence of batch 1 (split over threads by keys) against the larger batch's (split by
   * sequence).
   */
  private void printSplitComparison(List<Row> rows) {
    for (Row one : rows) {
      if (one.batch != 1) {
        continue;
      }
      for (Row many : rows) {
        if (many.batch > 1 && many.storage == one.storage && many.cacheLen == one.cacheLen) {
          double perSeqMany = many.medianMs / many.batch;
          out.printf(
              Locale.ROOT,
              "%s, %d tokens: batch 1 takes %.3f ms a sequence, batch %d %.3f ms: batch 1 at"
                  + " %.0f%% of batch %d's per-sequence throughput%n",
              name(one.storage),
              one.cacheLen,
              one.medianMs,
              many.batch,
              perSeqMany,
              100 * perSeqMany / one.medianMs,
              many.batch);
        }
      }
    }
  }

  private static String name(KvStorage storage) {
    return storage.name().toLowerCase(Locale.ROOT);
  }

  /** FLOPs of one step: 4·B·H_q·L·d (q·k and p·v, two FLOPs per multiply-add). */
  private double flops(int batch, int len) {
    return 4.0 * batch * len * settings.heads * settings.headDim;
  }

  private long kvBytes(KvStorage storage, int batch, int len) {
    Settings s = settings;
    return (long) batch * len * s.kvHeads * (2L * s.headDim) * storage.bytesPerElement();
  }

  private Row measure(KvStorage storage, int batch, int len, double readGbps) {
    Settings s = settings;
    System.gc(); // the last case's cache, before this one takes its place (not timed)
    PagedKvCache cache = filledCache(storage, batch, len, new SplittableRandom(len * 31L + batch));
    int[] ids = cache.sequenceIds();
    Tensor q = random(new SplittableRandom(5), batch, s.heads, 1, s.headDim);
    Tensor o = Tensor.zeros(batch, s.heads, 1, s.headDim);
    float[] lse = new float[batch * s.heads];
    AttentionOptions opts = AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).build();
    List<Double> ms = new ArrayList<>();
    try (AttentionEngine decode =
        AttentionEngine.create(KernelConfig.defaults().withThreads(s.threads))) {
      // Warm up: at least 3 steps and 0.2 s (or --min-time if less); then measure.
      long warm = System.nanoTime() + (long) (Math.min(0.2, s.minSeconds) * 1e9);
      for (int step = 0; step < 3 || System.nanoTime() < warm; step++) {
        decode.decode(cache, 0, ids, q, opts, o, lse);
      }
      long deadline = System.nanoTime() + (long) (s.minSeconds * 1e9);
      while (ms.size() < 5 || (System.nanoTime() < deadline && ms.size() < 10_000)) {
        long t0 = System.nanoTime();
        decode.decode(cache, 0, ids, q, opts, o, lse);
        ms.add((System.nanoTime() - t0) / 1e6);
      }
    }
    double[] sorted = ms.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    double median = sorted[sorted.length / 2];
    double gbps = kvBytes(storage, batch, len) / (median * 1e6);
    return new Row(storage, len, batch, median, sorted[0], sorted.length, gbps, readGbps);
  }

  /**
   * Runs the step on a small cache for up to 1 s a storage (or --min-time, or 3000 steps), so that
   * the JIT has compiled the SIMD kernels before the first case is timed (interpreted, they are
   * about 100 times slower).
   */
  private void warmUpJit() {
    Settings s = settings;
    for (KvStorage storage : s.storages) {
      PagedKvCache cache = filledCache(storage, 2, 300, new SplittableRandom(2));
      int[] ids = cache.sequenceIds();
      Tensor q = random(new SplittableRandom(3), 2, s.heads, 1, s.headDim);
      Tensor o = Tensor.zeros(2, s.heads, 1, s.headDim);
      float[] lse = new float[2 * s.heads];
      AttentionOptions opts = AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).build();
      long end = System.nanoTime() + (long) (Math.min(1.0, s.minSeconds) * 1e9);
      try (AttentionEngine decode =
          AttentionEngine.create(KernelConfig.defaults().withThreads(s.threads))) {
        for (int i = 0; i < 3000 && System.nanoTime() < end; i++) {
          decode.decode(cache, 0, ids, q, opts, o, lse);
        }
      }
    }
  }

  /** A cache holding {@code batch} sequences of {@code len} tokens of random K and V. */
  private PagedKvCache filledCache(KvStorage storage, int batch, int len, SplittableRandom random) {
    Settings s = settings;
    int pagesPerSeq = (len + s.pageSize - 1) / s.pageSize;
    PagedKvCache cache =
        new PagedKvCache(
            1, s.kvHeads, s.headDim, s.headDim, s.pageSize, batch * pagesPerSeq, storage);
    int block = Math.min(len, 1024);
    Tensor k = random(random, s.kvHeads, block, s.headDim);
    Tensor v = random(random, s.kvHeads, block, s.headDim);
    for (int b = 0; b < batch; b++) {
      int id = cache.newSequence();
      for (int done = 0; done < len; done += block) {
        int n = Math.min(block, len - done);
        Tensor kn = n == block ? k : k.narrow(k.rank() - 2, 0, n);
        Tensor vn = n == block ? v : v.narrow(v.rank() - 2, 0, n);
        cache.append(id, kn, vn);
      }
    }
    return cache;
  }

  private static Tensor random(SplittableRandom random, int... shape) {
    return Tensor.uniform(random, -1, 1, shape);
  }

  /** The step against the oracle on two sequences of mixed lengths, with these head counts. */
  private void verify() {
    Settings s = settings;
    SplittableRandom random = new SplittableRandom(1);
    int[] lens = {300, 77};
    AttentionOptions opts = AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).build();
    for (KvStorage storage : s.storages) {
      PagedKvCache cache =
          new PagedKvCache(
              1, s.kvHeads, s.headDim, s.headDim, s.pageSize, pagesFor(lens, s.pageSize), storage);
      Tensor q = random(random, 2, s.heads, 1, s.headDim);
      int[] ids = new int[2];
      Tensor[] ks = new Tensor[2];
      Tensor[] vs = new Tensor[2];
      for (int b = 0; b < 2; b++) {
        ids[b] = cache.newSequence();
        ks[b] = random(random, s.kvHeads, lens[b], s.headDim);
        vs[b] = random(random, s.kvHeads, lens[b], s.headDim);
        cache.append(ids[b], ks[b], vs[b]);
        roundAsStored(storage, ks[b]);
        roundAsStored(storage, vs[b]);
      }
      try (AttentionEngine decode =
          AttentionEngine.create(
              KernelConfig.defaults().withThreads(s.threads).withDecodeChunkKeys(64))) {
        AttentionResult r = decode.decode(cache, 0, ids, q, opts);
        for (int b = 0; b < 2; b++) {
          Tensor qb = q.select(0, b);
          Tensor ob = r.output().select(0, b).copy();
          float[] lb = Arrays.copyOfRange(r.lse(), b * s.heads, (b + 1) * s.heads);
          ErrorBudget.Check check =
              ErrorBudget.check(qb, ks[b], vs[b], opts, new AttentionResult(ob, lb));
          if (!check.passed()) {
            throw new IllegalStateException(
                "the decode step disagrees with the oracle (" + name(storage) + "): " + check);
          }
        }
      }
      out.println("checked against the oracle (" + name(storage) + ", lengths 300 and 77): ok");
    }
  }

  private static int pagesFor(int[] lens, int pageSize) {
    int pages = 0;
    for (int len : lens) {
      pages += (len + pageSize - 1) / pageSize;
    }
    return pages;
  }

  private static void roundAsStored(KvStorage storage, Tensor t) {
    // as the cache stores them, row by row (int8: a scale per row)
    float[] a = t.data();
    for (int i = 0; i < a.length; i += t.cols()) {
      storage.roundRow(a, i, t.cols());
    }
  }

  private void writeCsv(List<Row> rows, double readAfter) {
    StringBuilder sb =
        new StringBuilder(
            "storage,cache_len,batch,heads,kv_heads,d,threads,median_ms,min_ms,steps,kv_gb_per_s,read_bandwidth_gb_per_s,read_bandwidth_after_gb_per_s\n");
    Settings s = settings;
    for (Row r : rows) {
      sb.append(
          String.format(
              Locale.ROOT,
              "%s,%d,%d,%d,%d,%d,%d,%.6g,%.6g,%d,%.6g,%.6g,%.6g%n",
              name(r.storage),
              r.cacheLen,
              r.batch,
              s.heads,
              s.kvHeads,
              s.headDim,
              s.threads,
              r.medianMs,
              r.minMs,
              r.steps,
              r.kvGbPerSecond,
              r.readGbPerSecond,
              readAfter));
    }
    byte[] bytes = sb.toString().getBytes(StandardCharsets.UTF_8);
    Outputs.write(s.csv, () -> AtomicFiles.write(s.csv, stream -> stream.write(bytes)));
  }
}
