package dev.flashattn4j.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The data cache sizes that the tiles are sized from: read from Linux's {@code
 * /sys/devices/system/cpu/cpu0/cache} where it exists, else common defaults (32 KiB L1d, 1 MiB L2,
 * 8 MiB L3).
 *
 * @param l1Bytes the level-1 data cache of one core
 * @param l2Bytes the level-2 cache of one core
 * @param l3Bytes the last-level cache (shared by the cores), or L2 when there is none
 * @param detected true when the sizes were read from the system
 */
public record CacheInfo(int l1Bytes, int l2Bytes, int l3Bytes, boolean detected) {

  /** The sizes assumed when the system does not tell: 32 KiB, 1 MiB and 8 MiB. */
  public static final CacheInfo DEFAULT = new CacheInfo(32 << 10, 1 << 20, 8 << 20, false);

  private static final Path SYSFS = Path.of("/sys/devices/system/cpu/cpu0/cache");

  /**
   * Checks the sizes.
   *
   * @throws IllegalArgumentException when a size is below 1 KiB
   */
  public CacheInfo {
    if (l1Bytes < 1024 || l2Bytes < 1024 || l3Bytes < 1024) {
      throw new IllegalArgumentException(
          "cache sizes must be at least 1 KiB, not L1 "
              + l1Bytes
              + ", L2 "
              + l2Bytes
              + ", L3 "
              + l3Bytes);
    }
  }

  /** L1 and L2 as given; the last level is taken to be 8 × L2 (a common ratio). */
  public CacheInfo(int l1Bytes, int l2Bytes, boolean detected) {
    this(
        l1Bytes,
        l2Bytes,
        Math.max(l2Bytes, (int) Math.min(Integer.MAX_VALUE, 8L * l2Bytes)),
        detected);
  }

  /** The sizes of this machine (read once). */
  public static CacheInfo detect() {
    return Holder.DETECTED;
  }

  private static final class Holder {
    static final CacheInfo DETECTED = read(SYSFS);
  }

  /** Reads the sysfs cache directory {@code dir}; {@link #DEFAULT} for what it does not give. */
  static CacheInfo read(Path dir) {
    int l1 = -1;
    int l2 = -1;
    int l3 = -1;
    for (int index = 0; index < 8; index++) {
      Path p = dir.resolve("index" + index);
      if (!Files.isDirectory(p)) {
        continue;
      }
      try {
        int level = Integer.parseInt(Files.readString(p.resolve("level")).trim());
        String type = Files.readString(p.resolve("type")).trim();
        int size = parseSize(Files.readString(p.resolve("size")).trim());
        if (level == 1 && type.equals("Data")) {
          l1 = size;
        } else if (level == 2 && !type.equals("Instruction")) {
          l2 = size;
        } else if (level == 3 && !type.equals("Instruction")) {
          l3 = size;
        }
      } catch (IOException | RuntimeException e) {
        // an unreadable entry: keep the default for that level
      }
    }
    if (l1 < 1024 && l2 < 1024) {
      return DEFAULT;
    }
    int l2Bytes = l2 >= 1024 ? l2 : DEFAULT.l2Bytes;
    return new CacheInfo(
        l1 >= 1024 ? l1 : DEFAULT.l1Bytes, l2Bytes, l3 >= 1024 ? l3 : l2Bytes, true);
  }

  /** "48K", "1024K", "2M" or a plain byte count. */
  static int parseSize(String s) {
    String t = s.toUpperCase(Locale.ROOT);
    int factor = 1;
    if (t.endsWith("K")) {
      factor = 1 << 10;
    } else if (t.endsWith("M")) {
      factor = 1 << 20;
    }
    String digits = factor == 1 ? t : t.substring(0, t.length() - 1);
    return Math.multiplyExact(Integer.parseInt(digits), factor);
  }

  @Override
  public String toString() {
    return String.format(
        "L1d %d KiB, L2 %d KiB, L3 %d MiB (%s)",
        l1Bytes >> 10, l2Bytes >> 10, l3Bytes >> 20, detected ? "detected" : "default");
  }
}
