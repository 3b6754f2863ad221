package dev.flashattn4j.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flashattn4j.internal.DropoutBits;
import dev.flashattn4j.internal.Philox;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The SIMD tile of keep factors gives the bits of the scalar definition, whatever the tile. */
class DropoutBitsTest {

  static IntStream seeds() {
    return IntStream.range(0, 40);
  }

  @ParameterizedTest
  @MethodSource("seeds")
  void theVectorTileIsTheScalarDefinition(int seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    float p = new float[] {0.1f, 0.5f, 0.9f, 1e-6f, 0.99999f}[rnd.nextInt(5)];
    long s = rnd.nextLong();
    long off = rnd.nextInt(3) == 0 ? -1 : rnd.nextLong();
    int rows = 1 + rnd.nextInt(40);
    int rowsPad = rows + rnd.nextInt(8);
    int ld = rowsPad + rnd.nextInt(4);
    int keys = rnd.nextInt(70);
    int j0 = rnd.nextInt(3) == 0 ? 0 : rnd.nextInt(1 << 20);
    int b = rnd.nextInt(3) == 0 ? 0 : rnd.nextInt(Integer.MAX_VALUE);
    int[] head = new int[rows];
    int[] pos = new int[rows];
    for (int r = 0; r < rows; r++) {
      head[r] = rnd.nextInt(64);
      pos[r] = rnd.nextBoolean() ? r : rnd.nextInt(Integer.MAX_VALUE);
    }
    float[] probs = new float[keys * ld];
    for (int i = 0; i < probs.length; i++) {
      probs[i] = rnd.nextInt(10) == 0 ? Float.NaN : (float) rnd.nextDouble();
    }
    DropoutBits reference = new DropoutBits(p, s, off);
    float[] want = new float[keys * ld];
    Arrays.fill(want, 7f); // beyond the padded rows: untouched
    float[] wantProduct = probs.clone();
    for (int r = 0; r < rowsPad; r++) {
      for (int j = 0; j < keys; j++) {
        float f = r < rows ? reference.factor(b, head[r], pos[r], j0 + j) : 0f;
        want[j * ld + r] = f;
        if (r < rows) {
          wantProduct[j * ld + r] = probs[j * ld + r] * f;
        }
      }
    }
    for (boolean vector : new boolean[] {true, false}) {
      DropoutBits bits = new DropoutBits(0.3f, 1, 2);
      bits.keep(0, 0, 0, 0);
      bits.reset(p, s, off);
      float[] z = new float[keys * ld];
      Arrays.fill(z, 7f);
      bits.tile(b, head, pos, j0, z, ld, rows, rowsPad, keys, vector, false);
      assertArrayEquals(want, z, "factors, vector " + vector);
      float[] product = probs.clone();
      bits.tile(b, head, pos, j0, product, ld, rows, rowsPad, keys, vector, true);
      assertArrayEquals(wantProduct, product, "products, vector " + vector);
    }
  }

  @ParameterizedTest
  @MethodSource("seeds")
  void aKeyTakesItsHalfOfItsBlocksWord(int seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    long s = rnd.nextLong();
    long off = rnd.nextLong();
    long key = s + off * 0x9E3779B97F4A7C15L;
    int b = rnd.nextInt(8);
    int h = rnd.nextInt(8);
    int i = rnd.nextInt(1000);
    int j = rnd.nextInt(100_000);
    int[] w = new int[4];
    Philox.block(j / 8, i, h, b, (int) key, (int) (key >>> 32), w);
    int half = (w[(j % 8) / 2] >>> (16 * (j % 2))) & 0xFFFF;
    assertEquals(half < Math.round(0.75 * 65536), new DropoutBits(0.25f, s, off).keep(b, h, i, j));
  }
}
