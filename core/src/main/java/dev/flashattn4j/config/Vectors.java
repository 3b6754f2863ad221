package dev.flashattn4j.config;

import dev.flashattn4j.internal.Simd;

/**
 * The vector width this JVM's kernels use, for tools that print it beside their figures: chosen
 * once per JVM from the CPU's preferred width, or fixed with the system property {@value #PROPERTY}
 * (0 turns vectors off; 128, 256 or 512 cap the width).
 */
public final class Vectors {

  /** The system property that fixes the width in bits. */
  public static final String PROPERTY = Simd.PROPERTY;

  private Vectors() {}

  /** The width the kernels use, in bits (0 when the scalar twins run). */
  public static int bits() {
    return Simd.bits();
  }

  /** The CPU's preferred width as the JVM reports it, in bits. */
  public static int preferredBits() {
    return Simd.preferredBits();
  }

  /** One line: the width, the lanes and why (for benchmark headers). */
  public static String describe() {
    return Simd.describe();
  }
}
