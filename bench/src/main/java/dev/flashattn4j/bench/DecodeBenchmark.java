package dev.flashattn4j.bench;

import dev.flashattn4j.api.AttentionEngine;
import dev.flashattn4j.cache.KvStorage;
import dev.flashattn4j.cache.PagedKvCache;
import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One decode step (N_q = 1, bottom-right causal) over a paged KV cache holding {@code batch}
 * sequences of {@code cacheLen} tokens, H_q = 32, H_kv = 8, d = 128. Before measuring, {@link
 * #setup} checks the step against the float64 oracle within the error budget on two sequences of
 * 300 and 77 tokens with the same heads and storage, and fails the run if it is over.
 *
 * <p>Run: {@code make bench ARGS='DecodeBenchmark -p cacheLen=32768 -p batch=1'}. Bytes of K and V
 * read per step: batch · cacheLen · H_kv · 2d · (4 for float32, 2 for float16); {@code ./flashattn
 * bench-decode} prints them as GB/s next to the measured read bandwidth.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class DecodeBenchmark {

  static final int HEADS = 32;
  static final int KV_HEADS = 8;
  static final int D = 128;
  static final int PAGE = 256;

  @Param({"1024", "16384"})
  public int cacheLen;

  @Param({"1", "16"})
  public int batch;

  @Param({"FLOAT32", "FLOAT16"})
  public KvStorage storage;

  @Param({"0"})
  public int threads;

  private AttentionEngine decode;
  private PagedKvCache cache;
  private int[] ids;
  private Tensor q;
  private Tensor out;
  private float[] lse;
  private final AttentionOptions options =
      AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).build();

  static Tensor random(SplittableRandom rnd, int... shape) {
    return Tensor.uniform(rnd, -1, 1, shape);
  }

  @Setup(Level.Trial)
  public void setup() {
    int t = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    decode = AttentionEngine.create(KernelConfig.defaults().withThreads(t));
    verify();
    int pages = (cacheLen + PAGE - 1) / PAGE;
    cache = new PagedKvCache(1, KV_HEADS, D, D, PAGE, batch * pages, storage);
    SplittableRandom rnd = new SplittableRandom(7);
    int block = Math.min(cacheLen, 1024);
    Tensor k = random(rnd, KV_HEADS, block, D);
    Tensor v = random(rnd, KV_HEADS, block, D);
    ids = new int[batch];
    for (int b = 0; b < batch; b++) {
      ids[b] = cache.newSequence();
      for (int done = 0; done < cacheLen; done += block) {
        int n = Math.min(block, cacheLen - done);
        cache.append(ids[b], rows(k, n), rows(v, n));
      }
    }
    q = random(rnd, batch, HEADS, 1, D);
    out = Tensor.zeros(batch, HEADS, 1, D);
    lse = new float[batch * HEADS];
  }

  private static Tensor rows(Tensor t, int n) {
    return Tensor.view(
        t.data(), 0, new int[] {t.heads(), n, t.cols()}, new int[] {t.headStride(), t.rowStride()});
  }

  /** The step against the oracle on two sequences of 300 and 77 tokens. */
  private void verify() {
    SplittableRandom rnd = new SplittableRandom(1);
    int[] lens = {300, 77};
    PagedKvCache small = new PagedKvCache(1, KV_HEADS, D, D, 64, 8, storage);
    Tensor[] ks = new Tensor[2];
    Tensor[] vs = new Tensor[2];
    int[] seqs = new int[2];
    for (int b = 0; b < 2; b++) {
      seqs[b] = small.newSequence();
      ks[b] = random(rnd, KV_HEADS, lens[b], D);
      vs[b] = random(rnd, KV_HEADS, lens[b], D);
      small.append(seqs[b], ks[b], vs[b]);
      if (storage == KvStorage.FLOAT16) {
        for (Tensor x : new Tensor[] {ks[b], vs[b]}) {
          float[] a = x.data();
          for (int i = 0; i < a.length; i++) {
            a[i] = Float.float16ToFloat(Float.floatToFloat16(a[i]));
          }
        }
      }
    }
    Tensor sq = random(rnd, 2, HEADS, 1, D);
    AttentionResult r = decode.decode(small, 0, seqs, sq, options);
    for (int b = 0; b < 2; b++) {
      Tensor qb = Tensor.view(sq.data(), b * HEADS * D, new int[] {HEADS, 1, D}, new int[] {D, D});
      Tensor ob =
          Tensor.view(r.output().data(), b * HEADS * D, new int[] {HEADS, 1, D}, new int[] {D, D})
              .copy();
      float[] lb = Arrays.copyOfRange(r.lse(), b * HEADS, (b + 1) * HEADS);
      ErrorBudget.Check check =
          ErrorBudget.check(qb, ks[b], vs[b], options, new AttentionResult(ob, lb));
      if (!check.passed()) {
        throw new IllegalStateException("the decode step is over the error budget: " + check);
      }
    }
  }

  @Benchmark
  public float[] step() {
    decode.decode(cache, 0, ids, q, options, out, lse);
    return lse;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    decode.close();
  }
}
