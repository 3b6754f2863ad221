package dev.flashattn4j.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.api.Attention;
import dev.flashattn4j.config.CacheInfo;
import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.config.MicroKernel;
import dev.flashattn4j.internal.Simd;
import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;
import dev.flashattn4j.values.AttentionMask;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Odd shapes (the FlashAttention test's N and d), GQA/MQA, decode, strided views, fully masked
 * rows, and the automatic tiles, on the vector path and the scalar twin.
 */
class FlashForwardShapesTest {

  static final FlashForward AUTO = new FlashForward(KernelConfig.defaults().withThreads(2));
  static final FlashForward SCALAR =
      new FlashForward(KernelConfig.defaults().withThreads(2).withVectorized(false));

  @AfterAll
  static void close() {
    AUTO.close();
    SCALAR.close();
  }

  static void check(FlashForward f, Tensor q, Tensor k, Tensor v, AttentionOptions o) {
    AttentionResult r = f.forward(q, k, v, o);
    ErrorBudget.Check c = ErrorBudget.check(q, k, v, o, r);
    assertTrue(c.passed(), q + " " + k + " " + v + " " + o + ": " + c);
  }

  static Stream<Arguments> oddShapes() {
    List<Arguments> out = new ArrayList<>();
    int[][] nd = {
      {1, 1}, {7, 3}, {97, 59}, {97, 111}, {1025, 64}, {7, 200}, {97, 128}, {33, 1}, {1025, 3}
    };
    Causal[] causal = {Causal.NONE, Causal.TOP_LEFT, Causal.BOTTOM_RIGHT};
    int i = 0;
    for (int[] s : nd) {
      for (boolean vector : new boolean[] {true, false}) {
        out.add(Arguments.of(s[0], s[1], causal[i++ % 3], vector));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "N={0} d={1} {2} vector={3}")
  @MethodSource("oddShapes")
  void oddShapes(int n, int d, Causal causal, boolean vector) {
    long seed = 31L * n + d;
    Tensor q = TestTensors.normal(seed, 2, n, d);
    Tensor k = TestTensors.normal(seed + 1, 2, n, d);
    Tensor v = TestTensors.normal(seed + 2, 2, n, d);
    check(vector ? AUTO : SCALAR, q, k, v, AttentionOptions.builder().causal(causal).build());
  }

  @ParameterizedTest(name = "H_q={0} H_kv={1} vector={2}")
  @MethodSource("gqa")
  void groupedQueryAttention(int hq, int hkv, boolean vector) {
    Tensor q = TestTensors.normal(1, 2, hq, 37, 24);
    Tensor k = TestTensors.normal(2, 2, hkv, 53, 24);
    Tensor v = TestTensors.normal(3, 2, hkv, 53, 40);
    for (Causal c : Causal.values()) {
      check(vector ? AUTO : SCALAR, q, k, v, AttentionOptions.builder().causal(c).build());
    }
  }

  static Stream<Arguments> gqa() {
    return Stream.of(
        Arguments.of(8, 2, true),
        Arguments.of(8, 1, true),
        Arguments.of(8, 2, false),
        Arguments.of(8, 1, false));
  }

  @Test
  void decodeStepWithOneQueryRow() {
    Tensor q = TestTensors.normal(4, 1, 8, 1, 64);
    Tensor k = TestTensors.normal(5, 1, 2, 300, 64);
    Tensor v = TestTensors.normal(6, 1, 2, 300, 64);
    for (Causal c : Causal.values()) {
      AttentionOptions o = AttentionOptions.builder().causal(c).window(100, 0).softcap(30).build();
      check(AUTO, q, k, v, o);
      check(SCALAR, q, k, v, o);
    }
  }

  @Test
  void stridedViewsOfTheBnhdLayout() {
    // (B, N, H, D) arrays, as a projection writes them, seen as (B, H, N, D) without a copy
    SplittableRandom rnd = new SplittableRandom(9);
    int b = 2;
    int n = 45;
    int h = 4;
    int d = 20;
    Tensor q = Tensor.ofBnhd(TestTensors.uniform(rnd, b * n, h * d).data(), b, n, h, d);
    Tensor k = Tensor.ofBnhd(TestTensors.uniform(rnd, b * n, 2 * d).data(), b, n, 2, d);
    Tensor v = Tensor.ofBnhd(TestTensors.uniform(rnd, b * n, 2 * d).data(), b, n, 2, d);
    AttentionOptions o = AttentionOptions.builder().causal(Causal.TOP_LEFT).build();
    check(AUTO, q, k, v, o);
    check(SCALAR, q, k, v, o);
    // and into a strided output view
    float[] backing = new float[b * n * h * d + 5];
    Tensor out = Tensor.view(backing, 5, new int[] {b, h, n, d}, new int[] {n * h * d, d, h * d});
    float[] lse = new float[b * h * n];
    AUTO.forward(q, k, v, o, out, lse);
    AttentionResult expected = AUTO.forward(q, k, v, o);
    assertArrayEquals(expected.output().toArray(), out.toArray());
    assertArrayEquals(expected.lse(), lse);
    for (int i = 0; i < 5; i++) {
      assertEquals(0f, backing[i], "wrote before the view");
    }
  }

  @Test
  void fullyMaskedRowsGiveZeroAndMinusInfinity() {
    int n = 40;
    boolean[] keep = new boolean[n * n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        keep[i * n + j] = i % 3 != 0 && (i + j) % 2 == 0;
      }
    }
    Tensor q = TestTensors.normal(7, n, 16);
    Tensor k = TestTensors.normal(8, n, 16);
    Tensor v = TestTensors.normal(9, n, 16);
    AttentionOptions o =
        AttentionOptions.builder()
            .mask(AttentionMask.keep(keep, n, n))
            .causal(Causal.BOTTOM_RIGHT)
            .build();
    for (FlashForward f : new FlashForward[] {AUTO, SCALAR}) {
      AttentionResult r = f.forward(q, k, v, o);
      for (int i = 0; i < n; i++) {
        boolean any = false;
        for (int j = 0; j <= i; j++) {
          any |= keep[i * n + j];
        }
        if (!any) {
          assertEquals(Float.NEGATIVE_INFINITY, r.lse(0, 0, i), "row " + i);
          for (int c = 0; c < 16; c++) {
            assertEquals(0f, r.output().get(0, 0, i, c), "row " + i);
          }
        }
        for (int c = 0; c < 16; c++) {
          assertTrue(Float.isFinite(r.output().get(0, 0, i, c)), "NaN in row " + i);
        }
      }
      assertTrue(ErrorBudget.check(q, k, v, o, r).passed());
    }
  }

  @Test
  void queriesWithMoreRowsThanKeysSeeNothingAboveTheBottomRightDiagonal() {
    Tensor q = TestTensors.normal(10, 1, 50, 8);
    Tensor k = TestTensors.normal(11, 1, 10, 8);
    Tensor v = TestTensors.normal(12, 1, 10, 8);
    AttentionOptions o = AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).build();
    AttentionResult r = AUTO.forward(q, k, v, o);
    assertEquals(Float.NEGATIVE_INFINITY, r.lse(0, 0, 0));
    check(AUTO, q, k, v, o);
    check(SCALAR, q, k, v, o);
  }

  @Test
  void noKeysAtAll() {
    Tensor q = TestTensors.normal(13, 3, 8);
    Tensor k = Tensor.zeros(0, 8);
    Tensor v = Tensor.zeros(0, 5);
    AttentionResult r = AUTO.forward(q, k, v, AttentionOptions.DEFAULTS);
    assertArrayEquals(new float[15], r.output().toArray());
    assertArrayEquals(
        new float[] {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY},
        r.lse());
  }

  @Test
  void theFacadeRunsTheFastKernelAndKeepsTheRankOfQ() {
    Tensor q = TestTensors.normal(14, 3, 19, 8);
    Tensor k = TestTensors.normal(15, 3, 23, 8);
    Tensor v = TestTensors.normal(16, 3, 23, 6);
    AttentionOptions o = AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).build();
    AttentionResult r = Attention.forward(q, k, v, o);
    assertArrayEquals(new int[] {3, 19, 6}, r.output().shape());
    assertTrue(ErrorBudget.check(q, k, v, o, r).passed());
    assertArrayEquals(r.output().toArray(), Attention.forward(q, k, v, o, 1).output().toArray());
  }

  @Test
  void badShapesAreRejectedBeforeAnyWork() {
    Tensor q = TestTensors.normal(1, 2, 4, 8);
    Tensor k = TestTensors.normal(2, 3, 4, 8);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> AUTO.forward(q, k, k, AttentionOptions.DEFAULTS));
    assertTrue(e.getMessage().contains("multiple"), e.getMessage());
    Tensor k2 = TestTensors.normal(2, 2, 4, 8);
    assertThrows(
        IllegalArgumentException.class,
        () ->
            AUTO.forward(
                q, k2, k2, AttentionOptions.DEFAULTS, Tensor.zeros(2, 4, 7), new float[8]));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            AUTO.forward(
                q, k2, k2, AttentionOptions.DEFAULTS, Tensor.zeros(2, 4, 8), new float[7]));
    assertThrows(
        IllegalArgumentException.class,
        () -> AUTO.forward(q, k2, k2, AttentionOptions.DEFAULTS, q, new float[8]));
  }

  @Test
  void automaticTilesFollowTheCacheAndTheMicroKernel() {
    int lanes = Simd.ENABLED ? Simd.LANES : 1;
    for (MicroKernel m : MicroKernel.values()) {
      KernelConfig c = new KernelConfig(1, 0, 0, true, new CacheInfo(48 << 10, 1 << 20, true), m);
      int br = Tiles.tileRows(c, 4096, 4096, 64, 64);
      int block = m.vectors() * lanes;
      assertEquals(0, br % block, m.label() + ": B_r is whole register blocks: " + br);
      assertTrue(br >= 64, m.label() + ": at least 64 rows: " + br);
      assertTrue(
          br * 128 * 4 <= Math.max(64 * 128 * 4, (48 << 10) / 2 + block * 128 * 4),
          "Qᵀ and Oᵀ in half of L1, or 64 rows");
      int bc = Tiles.tileCols(c, br, 64, 64);
      assertTrue(
          bc * br * 4 <= Math.max((48 << 10) / 3, br * 72 * 4),
          m.label() + ": S in a third of L1, or 64 keys: " + bc);
      assertTrue(bc >= 64, m.label() + ": at least 64 keys: " + bc);
      int longBr = Tiles.tileRows(c, 65536, 65536, 64, 64);
      assertTrue(longBr >= 128, "K and V beyond the last-level cache: larger blocks " + longBr);
      assertEquals(0, bc % 8, m.label() + ": whole vectors of keys: " + bc);
      assertEquals(0, bc % m.x(), m.label() + ": whole register blocks of keys: " + bc);
      KernelConfig big =
          new KernelConfig(1, 0, 0, true, new CacheInfo(192 << 10, 1 << 20, true), m);
      assertTrue(Tiles.tileCols(big, br, 64, 64) > bc, "a larger L1 gives larger tiles");
      assertEquals(
          lanes, Tiles.tileRows(c, 1, 4096, 64, 64), "decode: one query row pads to one vector");
    }
  }
}
