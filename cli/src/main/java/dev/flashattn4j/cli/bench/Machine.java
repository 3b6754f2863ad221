package dev.flashattn4j.cli.bench;

import dev.flashattn4j.kernel.CacheInfo;
import dev.flashattn4j.kernel.Simd;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a benchmark ran on, printed with every run: CPU model, cores, caches, JDK, vector width.
 *
 * @param cpu the model name from /proc/cpuinfo (or os.arch)
 * @param cores available processors
 * @param jdk the Java runtime's version and VM
 * @param vectors the vector width the kernels use
 * @param cache the caches the tiles are sized from
 */
public record Machine(String cpu, int cores, String jdk, String vectors, String cache) {

  /** This machine. */
  public static Machine detect() {
    return new Machine(
        cpuModel(),
        Runtime.getRuntime().availableProcessors(),
        Runtime.version() + " (" + System.getProperty("java.vm.name") + ")",
        Simd.describe(),
        CacheInfo.detect().toString());
  }

  private static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: fall through
    }
    return System.getProperty("os.arch");
  }

  /** The lines printed above a table. */
  public String describe() {
    return String.format("machine: %s, %d cores; %s%nJDK %s; %s", cpu, cores, cache, jdk, vectors);
  }
}
