package dev.flashattn4j.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Which CPU this is, as the micro-kernel table ({@link MicroKernel#choice()}) keys it: the vendor,
 * family and model from Linux's {@code /proc/cpuinfo} (x86: {@code vendor_id}, {@code cpu family},
 * {@code model}; Arm: {@code CPU implementer} and {@code CPU part}), read once. Elsewhere, or when
 * the file says nothing, the vendor is "unknown" and the family and model are −1.
 *
 * @param vendor "AMD", "Intel", "Arm" (any Arm implementer) or "unknown"
 * @param family the x86 family (AMD Zen 3 and 4: 25, Zen 5: 26; Intel Core and Xeon: 6), or the Arm
 *     implementer code; −1 when unknown
 * @param model the x86 model (Sapphire Rapids: 143, Emerald Rapids: 207), or the Arm part number;
 *     −1 when unknown
 * @param name the model name as the system prints it (or {@code os.arch})
 */
public record CpuId(String vendor, int family, int model, String name) {

  private static final CpuId DETECTED = read(Path.of("/proc/cpuinfo"));

  /** This machine's CPU (read once per JVM). */
  public static CpuId detect() {
    return DETECTED;
  }

  /** "AMD family 26 model 2 (AMD EPYC 9R45)": what a benchmark header prints. */
  public String describe() {
    return family < 0
        ? vendor + " (" + name + ")"
        : vendor + " family " + family + " model " + model + " (" + name + ")";
  }

  /** Parses a {@code /proc/cpuinfo} file: the first processor's lines. */
  static CpuId read(Path cpuinfo) {
    try {
      return parse(Files.readAllLines(cpuinfo));
    } catch (IOException | RuntimeException e) {
      return unknown();
    }
  }

  /** Parses the lines of a {@code /proc/cpuinfo}: the first processor's fields. */
  static CpuId parse(List<String> lines) {
    String vendor = null;
    String name = null;
    int family = -1;
    int model = -1;
    int implementer = -1;
    int part = -1;
    for (String line : lines) {
      int colon = line.indexOf(':');
      if (colon < 0) {
        continue;
      }
      String key = line.substring(0, colon).trim();
      String value = line.substring(colon + 1).trim();
      switch (key) {
        case "vendor_id" -> vendor = vendor == null ? value : vendor;
        case "model name" -> name = name == null ? value : name;
        case "cpu family" -> family = family < 0 ? number(value) : family;
        case "model" -> model = model < 0 ? number(value) : model;
        case "CPU implementer" -> implementer = implementer < 0 ? number(value) : implementer;
        case "CPU part" -> part = part < 0 ? number(value) : part;
        default -> {}
      }
    }
    String arch = System.getProperty("os.arch", "?");
    if (vendor != null) {
      String v =
          switch (vendor) {
            case "AuthenticAMD", "HygonGenuine" -> "AMD";
            case "GenuineIntel" -> "Intel";
            default -> vendor;
          };
      return new CpuId(v, family, model, name == null ? arch : name);
    }
    if (implementer >= 0) {
      return new CpuId("Arm", implementer, part, name == null ? arch : name);
    }
    return unknown();
  }

  private static CpuId unknown() {
    return new CpuId("unknown", -1, -1, System.getProperty("os.arch", "?"));
  }

  /** A decimal or 0x-prefixed hexadecimal field; −1 when it is neither. */
  private static int number(String value) {
    try {
      String v = value.toLowerCase(Locale.ROOT);
      return v.startsWith("0x") ? Integer.parseInt(v.substring(2), 16) : Integer.parseInt(v);
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
