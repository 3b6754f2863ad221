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

  /** narrow and select against index arithmetic, on every rank and dimension, and on views. */
  @Test
  void narrowAndSelectAreViewsOfTheRightElements() {
    SplittableRandom r = new SplittableRandom(5);
    int[] full = {3, 4, 5, 6};
    for (int rk = 2; rk <= 4; rk++) {
      int rank = rk;
      int[] shape = java.util.Arrays.copyOfRange(full, 4 - rank, 4);
      Tensor base = Tensor.uniform(r, -1, 1, shape);
      // also a strided view: the (B, N, H, D) layout seen as (B, H, N, D)
      Tensor[] sources = {base, rank == 4 ? Tensor.ofBnhd(base.data(), 3, 5, 4, 6) : base};
      for (Tensor t : sources) {
        int[] sh = t.shape();
        for (int dm = 0; dm < rank; dm++) {
          int dim = dm;
          for (int st = 0; st < sh[dim]; st++) {
            int start = st;
            for (int len = 0; start + len <= sh[dim]; len++) {
              Tensor n = t.narrow(dim, start, len);
              int[] want = sh.clone();
              want[dim] = len;
              assertArrayEquals(want, n.shape());
              assertEquals(rank, n.rank());
              forEach(
                  n.shape(),
                  idx -> {
                    int[] src = idx.clone();
                    src[dim] += start;
                    assertEquals(at(t, src), at(n, idx));
                  });
            }
          }
          if (rank > 2 && dim < rank - 1) {
            for (int index = 0; index < sh[dim]; index++) {
              Tensor sel = t.select(dim, index);
              assertEquals(rank - 1, sel.rank());
              int d = dim;
              int ix = index;
              forEach(
                  sel.shape(),
                  idx -> {
                    int[] src = new int[rank];
                    for (int i = 0, k = 0; i < rank; i++) {
                      src[i] = i == d ? ix : idx[k++];
                    }
                    assertEquals(at(t, src), at(sel, idx));
                  });
            }
          }
        }
        assertThrows(IllegalArgumentException.class, () -> t.narrow(rank, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> t.narrow(0, -1, 1));
        assertThrows(IllegalArgumentException.class, () -> t.narrow(0, 1, sh[0]));
        assertThrows(IllegalArgumentException.class, () -> t.select(rank - 1, 0));
        if (rank > 2) {
          assertThrows(IllegalArgumentException.class, () -> t.select(0, sh[0]));
        }
      }
    }
  }

  private static float at(Tensor t, int[] idx) {
    int[] i4 = new int[4];
    System.arraycopy(idx, 0, i4, 4 - idx.length, idx.length);
    return t.get(i4[0], i4[1], i4[2], i4[3]);
  }

  private static void forEach(int[] shape, java.util.function.Consumer<int[]> f) {
    long total = 1;
    for (int s : shape) {
      total *= s;
    }
    int[] idx = new int[shape.length];
    for (long n = 0; n < total; n++) {
      f.accept(idx.clone());
      for (int k = shape.length - 1; k >= 0; k--) {
        if (++idx[k] < shape[k]) {
          break;
        }
        idx[k] = 0;
      }
    }
  }

  /** Issue 23: 16-bit inputs and memory segments become tensors in one stated copy, exactly. */
  @Test
  void segmentsAndSixteenBitInputsAreWidenedExactly() {
    float[] want = {1f, -2.5f, 0.099975586f, 65504f, Float.NaN, Float.NEGATIVE_INFINITY};
    short[] half = new short[want.length];
    short[] bf = new short[want.length];
    for (int i = 0; i < want.length; i++) {
      half[i] = Float.floatToFloat16(want[i]);
      bf[i] = (short) (Float.floatToRawIntBits(want[i]) >>> 16);
    }
    Tensor h = Tensor.ofFloat16(half, 2, 3);
    Tensor b = Tensor.ofBfloat16(bf, 2, 3);
    for (int i = 0; i < want.length; i++) {
      assertEquals(Float.float16ToFloat(half[i]), h.get(0, 0, i / 3, i % 3));
      assertEquals(Float.intBitsToFloat(bf[i] << 16), b.get(0, 0, i / 3, i % 3));
    }
    java.lang.foreign.MemorySegment seg =
        java.lang.foreign.Arena.ofAuto().allocate(want.length * 4L, 4);
    for (int i = 0; i < want.length; i++) {
      seg.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, want[i]);
    }
    Tensor m = Tensor.copyOf(seg, 1, 2, 3);
    assertArrayEquals(new int[] {1, 2, 3}, m.shape());
    assertEquals(want[3], m.get(0, 0, 1, 0));
    assertThrows(IllegalArgumentException.class, () -> Tensor.copyOf(seg, 2, 2));
    assertThrows(IllegalArgumentException.class, () -> Tensor.ofFloat16(half, 4, 2));
  }
}
