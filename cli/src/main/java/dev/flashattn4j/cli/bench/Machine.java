package dev.flashattn4j.cli.bench;

import dev.flashattn4j.config.CacheInfo;
import dev.flashattn4j.config.CpuId;
import dev.flashattn4j.config.MicroKernel;
import dev.flashattn4j.config.Vectors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * What a benchmark ran on, printed with every run: CPU model and instruction set, cores, caches,
 * JDK, vector width and micro-kernel.
 *
 * @param cpu vendor, family, model and model name ({@link CpuId}), which key the micro-kernel table
 * @param cores available processors
 * @param jdk the Java runtime's version and VM
 * @param vectors the vector width and the micro-kernel the kernels use
 * @param cache the caches the tiles are sized from
 * @param isa the vector instruction set of the CPU, and what the JIT uses of it
 */
public record Machine(String cpu, int cores, String jdk, String vectors, String cache, String isa) {

  /** This machine. */
  public static Machine detect() {
    return new Machine(
        CpuId.detect().describe(),
        Runtime.getRuntime().availableProcessors(),
        Runtime.version() + " (" + System.getProperty("java.vm.name") + ")",
        kernels(),
        CacheInfo.detect().toString(),
        detectIsa());
  }

  /** The vector width and micro-kernel of this JVM, one line (for help texts too). */
  public static String kernels() {
    return Vectors.describe() + "; " + MicroKernel.describe();
  }

  /**
   * The CPU's widest vector extension (from /proc/cpuinfo's flags, or os.arch) and the width the
   * JIT prefers: "AVX-512 (JIT: 256 bits)" means the JVM was limited, e.g. by -XX:UseAVX=2.
   */
  public static String detectIsa() {
    String arch = System.getProperty("os.arch", "?");
    String cpuIsa = arch;
    List<String> flags = cpuFlags();
    if (flags.contains("avx512f")) {
      cpuIsa = "AVX-512";
    } else if (flags.contains("avx2")) {
      cpuIsa = flags.contains("fma") ? "AVX2+FMA" : "AVX2";
    } else if (flags.contains("avx")) {
      cpuIsa = "AVX";
    } else if (flags.contains("asimd") || arch.toLowerCase(Locale.ROOT).contains("aarch64")) {
      cpuIsa = "NEON";
    }
    return cpuIsa
        + " (JIT: "
        + Vectors.preferredBits()
        + "-bit vectors, "
        + MicroKernel.registers()
        + " vector registers)";
  }

  private static List<String> cpuFlags() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("flags") || line.startsWith("Features")) {
          return List.of(line.substring(line.indexOf(':') + 1).trim().split("\\s+"));
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return List.of();
  }

  /** The lines printed above a table. */
  public String describe() {
    return String.format(
        "machine: %s, %d cores, %s; %s%nJDK %s; %s", cpu, cores, isa, cache, jdk, vectors);
  }
}
