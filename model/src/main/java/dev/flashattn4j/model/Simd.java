package dev.flashattn4j.model;

import dev.flashattn4j.config.Vectors;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector species of the model's kernels, at the width core's kernels use ({@link
 * Vectors#bits()}: the JIT's preferred width, or the one {@code flashattn.vector.bits} pins; 0
 * turns vectors off and the scalar twins run): one choice per JVM, made in core. Every kernel here
 * adds in the same order with or without vectors (one fused multiply-add per element and k, k
 * ascending), so the two give the same bits.
 */
final class Simd {

  /** Bits of a float vector; 0 when vectors are off. */
  static final int BITS = Vectors.bits();

  static final boolean ENABLED = BITS != 0;

  /** Floats per vector (at least 4 even when off: the panel width is 2 vectors). */
  static final VectorSpecies<Float> FLOATS =
      VectorSpecies.of(float.class, VectorShape.forBitSize(Math.max(BITS, 128)));

  /** Shorts with as many lanes as {@link #FLOATS} (bfloat16 patterns widened lane by lane). */
  static final VectorSpecies<Short> SHORTS =
      VectorSpecies.of(short.class, VectorShape.forBitSize(Math.max(BITS, 128) / 2));

  /** Ints with as many lanes as {@link #FLOATS}. */
  static final VectorSpecies<Integer> INTS =
      VectorSpecies.of(int.class, VectorShape.forBitSize(Math.max(BITS, 128)));

  static final int LANES = FLOATS.length();

  /**
   * Bytes widened to {@link #FLOATS}: as many lanes as a float vector, but at least 64 bits (with
   * 128-bit float vectors a load reads 8 bytes and the widening keeps the first 4).
   */
  static final VectorSpecies<Byte> BYTES =
      VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, LANES * 8)));

  /**
   * The concrete classes of vectors of {@link #FLOATS} and {@link #INTS}: a conversion's result is
   * cast to them, so that C2 binds the next operation from a constant instead of a type profile
   * (core's {@code Simd.FLOATS} says why: JDK-8392004).
   */
  @SuppressWarnings("unchecked")
  static final Class<? extends FloatVector> FLOAT_CLASS =
      (Class<? extends FloatVector>) FLOATS.vectorType();

  @SuppressWarnings("unchecked")
  static final Class<? extends IntVector> INT_CLASS =
      (Class<? extends IntVector>) INTS.vectorType();

  private Simd() {}

  /** Widens bfloat16 patterns to floats: the pattern in the top 16 bits of the float. */
  static FloatVector widen(ShortVector bf16) {
    IntVector wide =
        INT_CLASS.cast(bf16.convertShape(jdk.incubator.vector.VectorOperators.S2I, INTS, 0));
    return FLOAT_CLASS.cast(
        wide.lanewise(jdk.incubator.vector.VectorOperators.LSHL, 16).reinterpretAsFloats());
  }

  /**
   * Widens {@link #LANES} int8 values from {@code q[at]} to floats (exact). Reads {@link
   * #BYTES}{@code .length()} bytes: up to 4 past the lanes used.
   */
  static FloatVector widenQ8(byte[] q, int at) {
    return FLOAT_CLASS.cast(
        ByteVector.fromArray(BYTES, q, at)
            .convertShape(jdk.incubator.vector.VectorOperators.B2F, FLOATS, 0));
  }

  /** "256-bit vectors (8 floats)" or "scalar". */
  static String describe() {
    return Vectors.describe();
  }
}
