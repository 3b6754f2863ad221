package dev.flashattn4j.kernel.decode;

import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;

/**
 * Sums of the lanes of float vectors, in a fixed order. {@code reduceLanes(ADD)} may add in another
 * order compiled than interpreted, which would make results depend on the JIT's progress; these use
 * only lane-wise IEEE additions, rotations and blends, so they give the same bits either way. The
 * species is {@link DecodeVectors#SPECIES}: 4, 8 or 16 lanes.
 */
final class LaneSums {

  private static final int LANES = DecodeVectors.SPECIES.length();

  private LaneSums() {}

  // Rotations by 8, 4, 2 and 1 lanes: a fixed tree that sums the lanes of one vector (those not
  // narrower than the vector are never used).
  static final VectorShuffle<Float> ROTATE_8 = rotation(8);
  static final VectorShuffle<Float> ROTATE_4 = rotation(4);
  static final VectorShuffle<Float> ROTATE_2 = rotation(2);
  static final VectorShuffle<Float> ROTATE_1 = rotation(1);

  private static VectorShuffle<Float> rotation(int shift) {
    return VectorShuffle.fromOp(DecodeVectors.SPECIES, i -> (i + shift) % LANES);
  }

  // The butterfly that reduces several dot products' vector sums at once: fold(x, y) at distance s
  // leaves x's pairwise sums (lane i + lane i^s) in the lanes whose bit s is 0 and y's in the
  // others. Folds at distances S1 = LANES/2 and S2 = LANES/4 leave four sums in LANES/4 lanes each
  // (one lane for 4-lane vectors); with 8 or 16 lanes a third fold (S3 = LANES/8) takes eight sums
  // to LANES/8 lanes each. The kernels write the folds out (x.blend(y, bit) + y.blend(x,
  // bit).rearrange(xor)): a vector passed to a call the JIT does not inline is boxed.
  static final int S1 = LANES / 2;
  static final int S2 = Math.max(1, LANES / 4);
  static final int S3 = Math.max(1, LANES / 8);
  static final VectorShuffle<Float> XOR_1 = xor(S1);
  static final VectorShuffle<Float> XOR_2 = xor(S2);
  static final VectorShuffle<Float> XOR_3 = xor(S3);
  static final VectorMask<Float> BIT_1 = bit(S1);
  static final VectorMask<Float> BIT_2 = bit(S2);
  static final VectorMask<Float> BIT_3 = bit(S3);

  // With 16 lanes a fourth fold (distance 1) takes sixteen sums to one lane each.
  static final VectorShuffle<Float> XOR_4 = xor(1);
  static final VectorMask<Float> BIT_4 = bit(1);

  private static VectorShuffle<Float> xor(int s) {
    return VectorShuffle.fromOp(DecodeVectors.SPECIES, i -> i ^ s);
  }

  private static VectorMask<Float> bit(int s) {
    boolean[] m = new boolean[LANES];
    for (int i = 0; i < LANES; i++) {
      m[i] = (i & s) != 0;
    }
    return VectorMask.fromArray(DecodeVectors.SPECIES, m, 0);
  }
}
