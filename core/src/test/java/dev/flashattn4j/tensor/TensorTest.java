package dev.flashattn4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TensorTest {

  @Test
  void uniformIsSeededInRangeAndRowMajor() {
    Tensor a = Tensor.uniform(new SplittableRandom(7), -1, 1, 2, 3, 5, 4);
    Tensor b = Tensor.uniform(new SplittableRandom(7), -1, 1, 2, 3, 5, 4);
    assertArrayEquals(a.toArray(), b.toArray());
    assertArrayEquals(new int[] {2, 3, 5, 4}, a.shape());
    SplittableRandom r = new SplittableRandom(7);
    float first = (float) (-1 + r.nextDouble() * 2);
    assertEquals(first, a.get(0, 0, 0, 0));
    double min = 1;
    double max = -1;
    for (float x : a.toArray()) {
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    assertTrue(min >= -1 && max < 1 && max - min > 1.5, min + " " + max);
    assertNotEquals(
        a.get(0, 0, 0, 0), Tensor.uniform(new SplittableRandom(8), -1, 1, 1, 1).get(0, 0, 0, 0));
  }

  @Test
  void bnhdViewSeesTheHeadsWithoutACopy() {
    float[] data = new float[2 * 3 * 4 * 5]; // (B, N, H, D) = (2, 3, 4, 5)
    for (int i = 0; i < data.length; i++) {
      data[i] = i;
    }
    Tensor t = Tensor.ofBnhd(data, 2, 3, 4, 5);
    assertArrayEquals(new int[] {2, 4, 3, 5}, t.shape());
    // element (b, h, n, c) of the view is data[((b·N + n)·H + h)·D + c]
    assertEquals(((1 * 3 + 2) * 4 + 3) * 5 + 4, t.get(1, 3, 2, 4));
    assertTrue(!t.isContiguous());
    assertTrue(t.copy().isContiguous());
    assertThrows(IllegalArgumentException.class, () -> Tensor.of(new float[5], 2, 3));
  }
}
