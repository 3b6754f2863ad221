package dev.flashattn4j.config;

import dev.flashattn4j.internal.Simd;
import dev.flashattn4j.internal.VectorModule;

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
    return VectorModule.PRESENT ? Simd.bits() : 0;
  }

  /** The CPU's preferred width as the JVM reports it, in bits (0 without the Vector API). */
  public static int preferredBits() {
    return VectorModule.PRESENT ? Simd.preferredBits() : 0;
  }

  /** One line: the width, the lanes and why (for benchmark headers). */
  public static String describe() {
    return VectorModule.PRESENT
        ? Simd.describe()
        : "scalar (module " + VectorModule.NAME + " not in this JVM: --add-modules it)";
  }
}
