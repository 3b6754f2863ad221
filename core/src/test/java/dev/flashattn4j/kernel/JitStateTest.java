package dev.flashattn4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flashattn4j.testing.BitsProbe;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The same bits whatever the JIT has done: every option's call in a JVM that only interprets, in
 * one that stops at C1, and here after C2 has compiled it all (hundreds of repeats), on the SIMD
 * and scalar paths, forward, varlen and decode ({@link BitsProbe}).
 */
class JitStateTest {

  @Test
  void everyOptionGivesTheSameBitsInterpretedAtC1AndAtC2() throws Exception {
    Map<String, Long> first = BitsProbe.run();
    Map<String, Long> compiled = first;
    for (int i = 0; i < 400; i++) {
      compiled = BitsProbe.run();
      assertEquals(first, compiled, "repeat " + i + " moved");
    }
    assertEquals(compiled, probe("-Xint"), "interpreted");
    assertEquals(compiled, probe("-XX:TieredStopAtLevel=1"), "C1 only");
  }

  /** BitsProbe's checksums from a fresh JVM started with {@code flag}. */
  private static Map<String, Long> probe(String flag) throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    cmd.add(flag);
    cmd.add("--add-modules=jdk.incubator.vector");
    String bits = System.getProperty("flashattn.vector.bits");
    if (bits != null) {
      cmd.add("-Dflashattn.vector.bits=" + bits);
    }
    String micro = System.getProperty("flashattn.microkernel");
    if (micro != null) {
      cmd.add("-Dflashattn.microkernel=" + micro);
    }
    // everything on the class path (the tests may run inside the module, patched in)
    String path = System.getProperty("java.class.path");
    String modules = System.getProperty("jdk.module.path");
    if (modules != null && !modules.isEmpty()) {
      path = modules + File.pathSeparator + path;
    }
    cmd.add("-cp");
    cmd.add(path);
    cmd.add(BitsProbe.class.getName());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError(flag + ": the probe did not finish");
    }
    assertEquals(0, p.exitValue(), flag + ": " + out);
    Map<String, Long> sums = new LinkedHashMap<>();
    for (String line : out.split("\n")) {
      int eq = line.lastIndexOf('=');
      if (eq > 0 && !line.startsWith("WARNING")) {
        sums.put(line.substring(0, eq), Long.parseLong(line.substring(eq + 1).trim()));
      }
    }
    return sums;
  }
}
