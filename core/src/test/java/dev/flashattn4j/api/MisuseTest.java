package dev.flashattn4j.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.flashattn4j.cache.KvStorage;
import dev.flashattn4j.cache.PagedKvCache;
import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.kernel.FlashForward;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionOptions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Misuse that used to escape as ArrayIndexOutOfBounds, NullPointer or Arithmetic exceptions, or to
 * be accepted: each must now be an IllegalArgumentException or IllegalStateException with a
 * message, thrown before anything changed.
 */
class MisuseTest {

  @FunctionalInterface
  interface Call {
    void run() throws Exception;
  }

  private final List<String> checked = new ArrayList<>();

  private void refused(String what, Call call) {
    try {
      call.run();
      fail(what + ": accepted");
    } catch (IllegalArgumentException | IllegalStateException e) {
      assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), what + ": no message");
      checked.add(what);
    } catch (Exception | Error e) {
      fail(what + ": " + e, e);
    }
  }

  @Test
  void everyMisuseIsAClearException() {
    Tensor x = Tensor.zeros(1, 1, 4, 8);
    refused(
        "tiles of Integer.MAX_VALUE",
        () -> KernelConfig.defaults().withTiles(Integer.MAX_VALUE, Integer.MAX_VALUE));
    PagedKvCache cache = new PagedKvCache(1, 1, 4, 8, 8, 3, KvStorage.FLOAT32);
    int s = cache.newSequence();
    cache.append(s, Tensor.zeros(1, 1, 4), Tensor.zeros(1, 1, 8));
    float[] shortBuffer = {7f, 7f, 7f};
    refused("read into a short buffer", () -> cache.read(0, s, 0, 0, true, shortBuffer));
    assertArrayEquals(new float[] {7f, 7f, 7f}, shortBuffer, "the buffer was partly filled");
    PagedKvCache half = new PagedKvCache(1, 1, 4, 8, 8, 3, KvStorage.FLOAT16);
    refused("keyPage of a float16 cache", () -> half.keyPage(0, 0));
    refused("keyPage16 of a float32 cache", () -> cache.keyPage16(0, 0));
    refused("a page out of range", () -> cache.keyPage(0, 3));
    Tensor huge = Tensor.zeros(65536, 65536, 0, 8);
    refused(
        "B·H·N beyond an int",
        () -> Attention.forward(huge, huge, huge, AttentionOptions.DEFAULTS));
    float[] o = new float[8];
    Tensor overlapping = Tensor.view(o, 0, new int[] {1, 1, 4, 8}, new int[] {0, 0, 0});
    try (FlashForward f = new FlashForward(KernelConfig.defaults().withThreads(1))) {
      float[] lse = {5f, 5f, 5f, 5f};
      refused(
          "an output whose rows overlap",
          () -> f.forward(x, x, x, AttentionOptions.DEFAULTS, overlapping, lse));
      assertArrayEquals(new float[] {5f, 5f, 5f, 5f}, lse, "the LSE was written");
      // a view of another layout that does not overlap is fine: (B, N, H, d) strides
      Tensor bnhd = Tensor.view(new float[32], 0, new int[] {1, 1, 4, 8}, new int[] {32, 8, 8});
      f.forward(x, x, x, AttentionOptions.DEFAULTS, bnhd, lse);
    }
    assertEquals(7, checked.size(), checked.toString());
  }
}
