package dev.flashattn4j.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.config.CacheInfo;
import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.reference.NaiveAttention;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;
import dev.flashattn4j.values.AttentionGradients;
import dev.flashattn4j.values.AttentionMask;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The backward pass: the float64 oracle against finite differences of an independent float64
 * forward, and the fast kernel (SIMD and scalar, 1 and 2 threads) against the oracle, for every
 * option; the same bits for any thread count.
 */
class BackwardTest {

  /** Every option, on shapes (nq, nk) given by the caller. */
  static Map<String, AttentionOptions> options(int nq, int nk, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] bias = new float[nq * nk];
    boolean[] keep = new boolean[nq * nk];
    for (int i = 0; i < bias.length; i++) {
      bias[i] = (float) r.nextGaussian();
      keep[i] = r.nextInt(4) != 0;
    }
    for (int j = 0; j < nk; j++) {
      keep[j] = false; // row 0 sees no key: zero gradients from it
    }
    Map<String, AttentionOptions> m = new LinkedHashMap<>();
    m.put("plain", AttentionOptions.DEFAULTS);
    m.put("scale 0.3", AttentionOptions.builder().scale(0.3f).build());
    m.put("causal top-left", AttentionOptions.builder().causal(Causal.TOP_LEFT).build());
    m.put("causal bottom-right", AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).build());
    m.put("window 3,1", AttentionOptions.builder().window(3, 1).build());
    m.put("softcap 2", AttentionOptions.builder().softcap(2f).build());
    m.put(
        "float mask",
        AttentionOptions.builder().mask(AttentionMask.additive(bias, nq, nk)).build());
    m.put(
        "keep mask, causal",
        AttentionOptions.builder()
            .mask(AttentionMask.keep(keep, nq, nk))
            .causal(Causal.BOTTOM_RIGHT)
            .build());
    m.put(
        "softcap 3 and a float mask",
        AttentionOptions.builder().softcap(3f).mask(AttentionMask.additive(bias, nq, nk)).build());
    m.put(
        "dropout 0.3, causal",
        AttentionOptions.builder().dropout(0.3f, 5, 1).causal(Causal.TOP_LEFT).build());
    return m;
  }

  static Stream<Arguments> tinyCases() {
    return options(5, 7, 1).entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
  }

  /** L = Σ O ∘ G in float64, straight from the definition (no oracle code). */
  private static double loss(
      double[] q,
      double[] k,
      double[] v,
      double[] g,
      int hq,
      int hkv,
      int nq,
      int nk,
      int d,
      int dv,
      AttentionOptions o) {
    double scale = o.scaleFor(d);
    double cap = o.softcap();
    double total = 0;
    for (int h = 0; h < hq; h++) {
      int hk = h / (hq / hkv);
      for (int i = 0; i < nq; i++) {
        double[] s = new double[nk];
        double m = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < nk; j++) {
          double dot = 0;
          for (int c = 0; c < d; c++) {
            dot += q[(h * nq + i) * d + c] * k[(hk * nk + j) * d + c];
          }
          double x = dot * scale;
          if (cap > 0) {
            x = cap * Math.tanh(x / cap);
          }
          if (o.mask() != null) {
            float b = o.mask().valueAt(0, h, i, j);
            x = b == Float.NEGATIVE_INFINITY ? Double.NEGATIVE_INFINITY : x + b;
          }
          if (j < o.keyStart(i, nq, nk) || j >= o.keyEnd(i, nq, nk)) {
            x = Double.NEGATIVE_INFINITY;
          }
          s[j] = x;
          m = Math.max(m, x);
        }
        if (m == Double.NEGATIVE_INFINITY) {
          continue;
        }
        double l = 0;
        for (int j = 0; j < nk; j++) {
          s[j] = Math.exp(s[j] - m);
          l += s[j];
        }
        for (int c = 0; c < dv; c++) {
          double out = 0;
          for (int j = 0; j < nk; j++) {
            double z = o.dropout().keep(0, h, i, j) ? 1 / (1 - (double) o.dropout().p()) : 0;
            out += s[j] / l * z * v[(hk * nk + j) * dv + c];
          }
          total += out * g[(h * nq + i) * dv + c];
        }
      }
    }
    return total;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("tinyCases")
  void theOracleMatchesFiniteDifferences(String name, AttentionOptions o) {
    int hq = 2;
    int hkv = 1;
    int nq = 5;
    int nk = 7;
    int d = 3;
    int dv = 4;
    Tensor q = TestTensors.normal(11, 1, hq, nq, d);
    Tensor k = TestTensors.normal(12, 1, hkv, nk, d);
    Tensor v = TestTensors.normal(13, 1, hkv, nk, dv);
    Tensor g = TestTensors.normal(14, 1, hq, nq, dv);
    AttentionGradients grads = NaiveAttention.backward(q, k, v, g, o);
    double[][] x = {toDouble(q), toDouble(k), toDouble(v)};
    double[] gd = toDouble(g);
    Tensor[] analytic = {grads.dq(), grads.dk(), grads.dv()};
    String[] names = {"dQ", "dK", "dV"};
    double h = 1e-5;
    for (int t = 0; t < 3; t++) {
      float[] a = analytic[t].toArray();
      for (int e = 0; e < x[t].length; e++) {
        double keep = x[t][e];
        x[t][e] = keep + h;
        double up = loss(x[0], x[1], x[2], gd, hq, hkv, nq, nk, d, dv, o);
        x[t][e] = keep - h;
        double down = loss(x[0], x[1], x[2], gd, hq, hkv, nq, nk, d, dv, o);
        x[t][e] = keep;
        double fd = (up - down) / (2 * h);
        assertEquals(fd, a[e], 1e-5 * (1 + Math.abs(fd)), name + ": " + names[t] + "[" + e + "]");
      }
    }
  }

  private static double[] toDouble(Tensor t) {
    float[] f = t.toArray();
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  static Stream<Arguments> kernelCases() {
    List<Arguments> list = new ArrayList<>();
    for (Map.Entry<String, AttentionOptions> e : options(77, 131, 2).entrySet()) {
      for (boolean vector : new boolean[] {true, false}) {
        list.add(Arguments.of(e.getKey(), e.getValue(), vector));
      }
    }
    return list.stream();
  }

  @ParameterizedTest(name = "{0}, vector {2}")
  @MethodSource("kernelCases")
  void theFastBackwardMatchesTheOracleWithTheSameBitsForAnyThreadCount(
      String name, AttentionOptions o, boolean vector) {
    // GQA 4:2, N_q ≠ N_k, d_v ≠ d, odd sizes
    Tensor q = TestTensors.normal(21, 1, 4, 77, 40);
    Tensor k = TestTensors.normal(22, 1, 2, 131, 40);
    Tensor v = TestTensors.normal(23, 1, 2, 131, 24);
    Tensor g = TestTensors.normal(24, 1, 4, 77, 24);
    AttentionGradients want = NaiveAttention.backward(q, k, v, g, o);
    AttentionGradients first = null;
    for (int threads = 1; threads <= 2; threads++) {
      KernelConfig config =
          KernelConfig.defaults().withThreads(threads).withVectorized(vector).withTiles(32, 48);
      try (AttentionEngine e = AttentionEngine.create(config)) {
        AttentionResult f = e.forward(q, k, v, o);
        AttentionGradients got = e.backward(q, k, v, f.output(), f.lse(), g, o);
        if (first == null) {
          first = got;
          close(want.dq(), got.dq(), name + " dQ");
          close(want.dk(), got.dk(), name + " dK");
          close(want.dv(), got.dv(), name + " dV");
        } else {
          assertArrayEquals(first.dq().toArray(), got.dq().toArray(), threads + " threads: dQ");
          assertArrayEquals(first.dk().toArray(), got.dk().toArray(), threads + " threads: dK");
          assertArrayEquals(first.dv().toArray(), got.dv().toArray(), threads + " threads: dV");
        }
      }
    }
  }

  static Stream<Arguments> chunkedCases() {
    List<Arguments> list = new ArrayList<>();
    for (Map.Entry<String, AttentionOptions> e : options(150, 1100, 3).entrySet()) {
      for (boolean vector : new boolean[] {true, false}) {
        list.add(Arguments.of(e.getKey(), e.getValue(), vector));
      }
    }
    return list.stream();
  }

  /**
   * One (batch, K/V head) pair and 1,100 keys: the keys are cut into chunks whose parts of dQ go in
   * in chunk order; the oracle's gradients, and the same bits on 1 and 2 threads.
   */
  @ParameterizedTest(name = "{0}, vector {2}")
  @MethodSource("chunkedCases")
  void aCallWithFewHeadsCutsItsKeysAndKeepsItsBits(
      String name, AttentionOptions o, boolean vector) {
    assertTrue(dev.flashattn4j.kernel.FlashBackwardAccess.chunks(1, 1100) > 1, "not cut");
    Tensor q = TestTensors.normal(41, 1, 2, 150, 40); // MQA 2:1
    Tensor k = TestTensors.normal(42, 1, 1, 1100, 40);
    Tensor v = TestTensors.normal(43, 1, 1, 1100, 24);
    Tensor g = TestTensors.normal(44, 1, 2, 150, 24);
    AttentionGradients want = NaiveAttention.backward(q, k, v, g, o);
    AttentionGradients first = null;
    for (int threads = 1; threads <= 2; threads++) {
      KernelConfig config =
          KernelConfig.defaults().withThreads(threads).withVectorized(vector).withTiles(32, 48);
      try (AttentionEngine e = AttentionEngine.create(config)) {
        AttentionResult f = e.forward(q, k, v, o);
        for (int repeat = 0; repeat < 3; repeat++) {
          AttentionGradients got = e.backward(q, k, v, f.output(), f.lse(), g, o);
          if (first == null) {
            first = got;
            close(want.dq(), got.dq(), name + " dQ");
            close(want.dk(), got.dk(), name + " dK");
            close(want.dv(), got.dv(), name + " dV");
            if (want.dsinks() != null) {
              assertArrayEquals(want.dsinks(), got.dsinks(), 1e-4f, name + " dsinks");
            }
          } else {
            String at = threads + " threads, repeat " + repeat;
            assertArrayEquals(first.dq().toArray(), got.dq().toArray(), at + ": dQ");
            assertArrayEquals(first.dk().toArray(), got.dk().toArray(), at + ": dK");
            assertArrayEquals(first.dv().toArray(), got.dv().toArray(), at + ": dV");
          }
        }
        // into buffers full of NaN: the first chunk of every block writes dQ (even one that sees
        // no key of it) before the others add, and every key's dK and dV is written
        Tensor dq = Tensor.zeros(q.shape());
        Tensor dk = Tensor.zeros(k.shape());
        Tensor dv = Tensor.zeros(v.shape());
        java.util.Arrays.fill(dq.data(), Float.NaN);
        java.util.Arrays.fill(dk.data(), Float.NaN);
        java.util.Arrays.fill(dv.data(), Float.NaN);
        e.backward(q, k, v, f.output(), f.lse(), g, o, dq, dk, dv);
        assertArrayEquals(first.dq().toArray(), dq.toArray(), threads + " threads, into NaN: dQ");
        assertArrayEquals(first.dk().toArray(), dk.toArray(), threads + " threads, into NaN: dK");
        assertArrayEquals(first.dv().toArray(), dv.toArray(), threads + " threads, into NaN: dV");
      }
    }
  }

  /**
   * A small L2 makes every item group its query blocks and run its keys in sub-chunks (two or three
   * blocks of 32 rows, sub-chunks of two 48-key tiles, in chunks of 384 keys): the same bits as the
   * ungrouped call, on 1 and 2 threads, for every option.
   */
  @ParameterizedTest(name = "{0}, vector {2}")
  @MethodSource("chunkedCases")
  void groupedBlocksAndSubChunksKeepTheBits(String name, AttentionOptions o, boolean vector) {
    Tensor q = TestTensors.normal(51, 1, 2, 150, 40); // MQA 2:1
    Tensor k = TestTensors.normal(52, 1, 1, 1100, 40);
    Tensor v = TestTensors.normal(53, 1, 1, 1100, 24);
    Tensor g = TestTensors.normal(54, 1, 2, 150, 24);
    KernelConfig plain =
        KernelConfig.defaults().withThreads(1).withVectorized(vector).withTiles(32, 48);
    AttentionGradients want;
    try (AttentionEngine e = AttentionEngine.create(plain)) {
      AttentionResult f = e.forward(q, k, v, o);
      want = e.backward(q, k, v, f.output(), f.lse(), g, o);
    }
    for (int threads = 1; threads <= 2; threads++) {
      KernelConfig small =
          new KernelConfig(
              threads, 32, 48, vector, new CacheInfo(32 << 10, 32 << 10, 32 << 20, false));
      // d = 40 and d_v = 24 padded to 8 lanes (or none) and to 16
      for (int[] pads : new int[][] {{40, 24}, {48, 32}}) {
        int blocks =
            dev.flashattn4j.kernel.FlashBackwardAccess.groupBlocks(
                small, 32, pads[0], pads[1], 10, 384);
        assertTrue(blocks >= 2 && blocks < 10, "blocks of a group: " + blocks);
        assertEquals(
            96,
            dev.flashattn4j.kernel.FlashBackwardAccess.subKeys(small, 48, pads[0], pads[1], 384),
            "keys of a sub-chunk");
      }
      try (AttentionEngine e = AttentionEngine.create(small)) {
        AttentionResult f = e.forward(q, k, v, o);
        AttentionGradients got = e.backward(q, k, v, f.output(), f.lse(), g, o);
        assertArrayEquals(want.dq().toArray(), got.dq().toArray(), threads + " threads: dQ");
        assertArrayEquals(want.dk().toArray(), got.dk().toArray(), threads + " threads: dK");
        assertArrayEquals(want.dv().toArray(), got.dv().toArray(), threads + " threads: dV");
        if (want.dsinks() != null) {
          assertArrayEquals(want.dsinks(), got.dsinks(), threads + " threads: dsinks");
        }
      }
    }
  }

  /** Within 1e-4 of the largest gradient, element by element. */
  private static void close(Tensor want, Tensor got, String what) {
    float[] w = want.toArray();
    float[] a = got.toArray();
    double max = 0;
    for (float x : w) {
      max = Math.max(max, Math.abs(x));
    }
    double worst = 0;
    for (int i = 0; i < w.length; i++) {
      worst = Math.max(worst, Math.abs(w[i] - a[i]));
    }
    assertTrue(worst <= 1e-4 * max + 1e-6, what + ": max error " + worst + " of max " + max);
  }

  /** Into caller-owned gradients, a warm backward allocates nothing (1 and 2 threads). */
  @org.junit.jupiter.api.Tag("allocation") // run alone in a fresh JVM: see core/pom.xml
  @org.junit.jupiter.api.Test
  void theIntoBuffersBackwardAllocatesNothingOnceWarm() {
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    mx.setThreadAllocatedMemoryEnabled(true);
    Tensor q = TestTensors.normal(31, 1, 4, 40, 32);
    Tensor k = TestTensors.normal(32, 1, 2, 50, 32);
    Tensor v = TestTensors.normal(33, 1, 2, 50, 32);
    Tensor g = TestTensors.normal(34, 1, 4, 40, 32);
    AttentionOptions o = AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).softcap(4).build();
    Tensor dq = Tensor.zeros(1, 4, 40, 32);
    Tensor dk = Tensor.zeros(1, 2, 50, 32);
    Tensor dv = Tensor.zeros(1, 2, 50, 32);
    assertAllocatesNothing(q, k, v, g, o, dq, dk, dv);
    // one pair and 600 keys: cut into chunks, whose turns are kept by the call object
    Tensor k2 = TestTensors.normal(35, 1, 1, 600, 32);
    Tensor v2 = TestTensors.normal(36, 1, 1, 600, 32);
    assertAllocatesNothing(
        q,
        k2,
        v2,
        g,
        o,
        Tensor.zeros(1, 4, 40, 32),
        Tensor.zeros(1, 1, 600, 32),
        Tensor.zeros(1, 1, 600, 32));
  }

  private static void assertAllocatesNothing(
      Tensor q, Tensor k, Tensor v, Tensor g, AttentionOptions o, Tensor dq, Tensor dk, Tensor dv) {
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    for (int threads = 1; threads <= 2; threads++) {
      try (AttentionEngine e = AttentionEngine.create(threads)) {
        AttentionResult f = e.forward(q, k, v, o);
        long id = Thread.currentThread().threadId();
        long allocated = -1;
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (allocated != 0 && System.nanoTime() < deadline) {
          for (int i = 0; i < 200; i++) {
            e.backward(q, k, v, f.output(), f.lse(), g, o, dq, dk, dv);
          }
          long before = mx.getThreadAllocatedBytes(id);
          for (int i = 0; i < 100; i++) {
            e.backward(q, k, v, f.output(), f.lse(), g, o, dq, dk, dv);
          }
          allocated = mx.getThreadAllocatedBytes(id) - before;
        }
        assertEquals(0, allocated, "bytes allocated by 100 warm calls, " + threads + " threads");
      }
    }
  }
}
