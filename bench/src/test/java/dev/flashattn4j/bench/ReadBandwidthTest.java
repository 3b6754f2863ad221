package dev.flashattn4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The streaming sum adds every element, and the measurement checks its arguments. */
class ReadBandwidthTest {

  @Test
  void theStreamingSumAddsEveryElement() {
    float[] a = new float[1000];
    Arrays.fill(a, 0.5f);
    a[999] = 7;
    assertEquals(0.5f * 998 + 7, ReadBandwidth.sum(a, 1, 1000));
    assertEquals(0f, ReadBandwidth.sum(a, 3, 3));
  }

  @Test
  void measuresSomethingFiniteAndRejectsBadArguments() {
    double gbps = ReadBandwidth.measure(4 << 20, 2, 1);
    assertTrue(gbps > 0 && Double.isFinite(gbps), String.valueOf(gbps));
    assertThrows(IllegalArgumentException.class, () -> ReadBandwidth.measure(100, 1, 1));
    assertThrows(IllegalArgumentException.class, () -> ReadBandwidth.measure(1 << 20, 0, 1));
    assertThrows(IllegalArgumentException.class, () -> ReadBandwidth.measure(1 << 20, 1, 0));
  }
}
