package dev.flashattn4j.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cache sizes the automatic tiles are derived from, read from sysfs. */
class CacheInfoTest {

  @Test
  void cacheSizesAreReadFromSysfsWithDefaultsForWhatIsMissing(@TempDir Path dir) throws Exception {
    assertEquals(CacheInfo.DEFAULT, CacheInfo.read(dir.resolve("none")));
    write(dir.resolve("index0"), "1", "Data", "48K");
    write(dir.resolve("index1"), "1", "Instruction", "32K");
    write(dir.resolve("index2"), "2", "Unified", "2048K");
    assertEquals(new CacheInfo(48 << 10, 2 << 20, 2 << 20, true), CacheInfo.read(dir));
    write(dir.resolve("index3"), "3", "Unified", "32768K");
    assertEquals(new CacheInfo(48 << 10, 2 << 20, 32 << 20, true), CacheInfo.read(dir));
    assertEquals(3 << 20, CacheInfo.parseSize("3M"));
    assertEquals(4096, CacheInfo.parseSize("4096"));
  }

  private static void write(Path p, String level, String type, String size) throws Exception {
    Files.createDirectories(p);
    Files.writeString(p.resolve("level"), level + "\n");
    Files.writeString(p.resolve("type"), type + "\n");
    Files.writeString(p.resolve("size"), size + "\n");
  }
}
