package dev.flashattn4j.config;

import dev.flashattn4j.internal.Simd;
import dev.flashattn4j.internal.VectorModule;
import java.util.List;
import java.util.Locale;

/**
 * The register block of the forward kernel's two matrix products ({@code PanelKernel}): {@code x}
 * values of the broadcast operand by {@code vectors} vectors of query rows, so {@code x·vectors}
 * accumulators stay in registers while the reduction runs. Each step of the reduction loads {@code
 * vectors} vectors of the panel, broadcasts {@code x} scalars and issues {@code x·vectors} FMAs;
 * with one broadcast live at a time it needs {@code x·vectors + vectors + 1} vector registers.
 *
 * <p>The shape is chosen per CPU ({@link #choice()}): a table of measured entries keyed by vendor,
 * family, model and the JIT's vector width ({@link CpuId}, {@link Simd#preferredBits()}) gives the
 * shape that was faster there; a CPU the table does not know gets the largest shape that fits the
 * register file the JIT has ({@link #registers()}):
 *
 * <ul>
 *   <li>16 registers (x86 with AVX or AVX2, or AVX-512 run under {@code -XX:UseAVX=2}): {@link
 *       #X6V2}, 12 accumulators + 2 + 1 = 15, BLIS's shape for Haswell and Zen. The 4 × 4 block
 *       needs 21 and spills every step; a 4 × 3 block needs all 16, and the JIT spills an
 *       accumulator (through memory, every step) as soon as it loads a second broadcast early.
 *   <li>32 registers (AVX-512, AArch64): {@link #X4V4}, 16 + 4 + 1 = 21.
 * </ul>
 *
 * A table entry never picks a shape that does not fit the registers. The system property {@value
 * #PROPERTY} pins the shape ({@code 6x2} or {@code 4x4}) for every kernel that has register blocks:
 * the forward and backward passes' products ({@code PanelKernel}) and the decode step's blocks (4x4
 * runs its 8 × 2 blocks, 6x2 its 4 × 2 ones). Every shape sums each output in the same order (one
 * FMA chain over the reduction), so all shapes and the scalar twin give the same bits.
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
   * The shape of this JVM: the property's, or {@link #choice()}'s.
   *
   * @throws IllegalArgumentException when {@value #PROPERTY} names no shape
   */
  public static MicroKernel chosen() {
    return choice().shape();
  }

  /**
   * Why a shape runs: pinned by {@value #PROPERTY}, a measured entry of the table for this CPU and
   * vector width, or the register rule for a CPU the table does not know.
   *
   * @param shape the micro-kernel
   * @param reason one line: "pinned by flashattn.microkernel", "measured on …", "fits N vector
   *     registers (no measurement for …)"
   */
  public record Choice(MicroKernel shape, String reason) {}

  /**
   * A measured row of the table: on CPUs of this vendor and family, models in [modelFrom, modelTo],
   * with the JIT at {@code bits}-bit vectors, {@code shape} was the faster one.
   *
   * @param evidence what was measured, where (docs/BENCHMARKS.md has the figures)
   */
  record Measured(
      String vendor,
      int family,
      int modelFrom,
      int modelTo,
      int bits,
      MicroKernel shape,
      String evidence) {

    boolean matches(CpuId cpu, int preferredBits) {
      return vendor.equals(cpu.vendor())
          && family == cpu.family()
          && cpu.model() >= modelFrom
          && cpu.model() <= modelTo
          && bits == preferredBits;
    }
  }

  /**
   * The measured table (docs/BENCHMARKS.md, "The micro-kernel per CPU", has the runs behind each
   * row). Rows are added from measurements only; a CPU without one gets the register rule.
   */
  static final List<Measured> TABLE =
      List.of(
          new Measured(
              "AMD",
              25,
              0,
              255,
              256,
              X6V2,
              "Zen 3 (EPYC, AVX2): 6x2 at 64-73% of the FMA peak; 4x4 spills in 16 registers"),
          new Measured(
              "AMD",
              26,
              0,
              255,
              512,
              X4V4,
              "Zen 5 (EPYC, AVX-512): 4x4 0.93-0.98x the time of 6x2, forward, N = 4096"),
          new Measured(
              "AMD",
              26,
              0,
              255,
              256,
              X6V2,
              "Zen 5 under -XX:UseAVX=2: 6x2 at 77-81% of the FMA peak; 4x4 does not fit"));

  /** The shape for this JVM and why (the property, the table, the register rule). */
  public static Choice choice() {
    String p = System.getProperty(PROPERTY);
    if (p != null && !p.isBlank()) {
      return new Choice(parse(p), "pinned by " + PROPERTY);
    }
    int bits = VectorModule.PRESENT ? Simd.preferredBits() : 0;
    return choose(CpuId.detect(), bits, registers());
  }

  /** The table's row for {@code cpu} at {@code bits}-bit vectors, else the register rule. */
  static Choice choose(CpuId cpu, int bits, int registers) {
    for (Measured m : TABLE) {
      if (m.matches(cpu, bits) && m.shape.registersNeeded() <= registers) {
        return new Choice(m.shape, "measured: " + m.evidence);
      }
    }
    MicroKernel fit = forRegisters(registers);
    return new Choice(
        fit,
        "fits "
            + registers
            + " vector registers (no measurement for "
            + cpu.vendor()
            + (cpu.family() < 0 ? "" : " family " + cpu.family() + " model " + cpu.model())
            + " at "
            + bits
            + " bits)");
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
    Choice c = choice();
    MicroKernel m = c.shape();
    return m.label() + " micro-kernel (" + m.x * m.vectors + " accumulators; " + c.reason() + ")";
  }
}
