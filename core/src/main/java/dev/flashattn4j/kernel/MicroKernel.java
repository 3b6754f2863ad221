package dev.flashattn4j.kernel;

import dev.flashattn4j.internal.Simd;
import dev.flashattn4j.internal.VectorModule;
import java.util.Locale;

/**
 * The register block of the forward kernel's two matrix products ({@link PanelKernel}): {@code x}
 * values of the broadcast operand by {@code vectors} vectors of query rows, so {@code x·vectors}
 * accumulators stay in registers while the reduction runs. Each step of the reduction loads {@code
 * vectors} vectors of the panel, broadcasts {@code x} scalars and issues {@code x·vectors} FMAs;
 * with one broadcast live at a time it needs {@code x·vectors + vectors + 1} vector registers.
 *
 * <p>The shape is chosen from the register file the JIT has ({@link #registers()}):
 *
 * <ul>
 *   <li>16 registers (x86 with AVX or AVX2, or AVX-512 run under {@code -XX:UseAVX=2}): {@link
 *       #X6V2}, 12 accumulators + 2 + 1 = 15, BLIS's shape for Haswell and Zen. The 4 × 4 block
 *       needs 21 and spills every step; a 4 × 3 block needs all 16, and the JIT spills an
 *       accumulator (through memory, every step) as soon as it loads a second broadcast early.
 *   <li>32 registers (AVX-512, AArch64): {@link #X4V4}, 16 + 4 + 1 = 21.
 * </ul>
 *
 * The system property {@value #PROPERTY} pins it ({@code 6x2} or {@code 4x4}). Every shape sums
 * each output in the same order (one FMA chain over the reduction), so all shapes and the scalar
 * twin give the same bits.
 */
public enum MicroKernel {
  /** 6 broadcasts × 2 vectors: 12 accumulators, for 16 vector registers. */
  X6V2(6, 2),
  /** 4 broadcasts × 4 vectors: 16 accumulators, for 32 vector registers. */
  X4V4(4, 4);

  /** The system property that pins the shape: {@code 6x2} or {@code 4x4}. */
  public static final String PROPERTY = "flashattn.microkernel";

  private final int x;
  private final int vectors;

  MicroKernel(int x, int vectors) {
    this.x = x;
    this.vectors = vectors;
  }

  /** Values of the broadcast operand per block (output columns of the block). */
  public int x() {
    return x;
  }

  /** Vectors of rows per block. */
  public int vectors() {
    return vectors;
  }

  /** The vector registers the block needs: accumulators, the panel's vectors and one broadcast. */
  public int registersNeeded() {
    return x * vectors + vectors + 1;
  }

  /** "6x2": broadcasts × vectors. */
  public String label() {
    return x + "x" + vectors;
  }

  /**
   * The shape of this JVM: the property's, or the one that fits {@link #registers()}.
   *
   * @throws IllegalArgumentException when {@value #PROPERTY} names no shape
   */
  public static MicroKernel chosen() {
    String p = System.getProperty(PROPERTY);
    return p == null || p.isBlank() ? forRegisters(registers()) : parse(p);
  }

  /** True when the shape was pinned by {@value #PROPERTY}. */
  public static boolean pinned() {
    String p = System.getProperty(PROPERTY);
    return p != null && !p.isBlank();
  }

  /**
   * The vector registers the JIT compiles for: 32 on AArch64 and on x86 when 512-bit vectors are
   * preferred (AVX-512 on, so zmm0–31 exist), else 16 (AVX/AVX2, or {@code -XX:UseAVX=2} on an
   * AVX-512 machine, which also makes the preferred width 256 bits).
   */
  public static int registers() {
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    if (arch.contains("aarch64") || arch.contains("arm64") || arch.contains("riscv")) {
      return 32;
    }
    // without the Vector API module only the scalar paths run: the count does not matter
    return VectorModule.PRESENT && Simd.preferredBits() >= 512 ? 32 : 16;
  }

  /** The largest shape that fits {@code registers} vector registers. */
  public static MicroKernel forRegisters(int registers) {
    return registers >= X4V4.registersNeeded() ? X4V4 : X6V2;
  }

  /** "6x2" or "4x4" (case-insensitive, '×' accepted). */
  public static MicroKernel parse(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT).replace('×', 'x');
    for (MicroKernel m : values()) {
      if (m.label().equals(t)) {
        return m;
      }
    }
    throw new IllegalArgumentException(PROPERTY + " must be 6x2 or 4x4, not " + text);
  }

  /** A one-line description for benchmark headers and help texts. */
  public static String describe() {
    MicroKernel m = chosen();
    return m.label()
        + " micro-kernel ("
        + m.x * m.vectors
        + " accumulators; "
        + (pinned() ? "pinned by " + PROPERTY : registers() + " vector registers")
        + ")";
  }
}
