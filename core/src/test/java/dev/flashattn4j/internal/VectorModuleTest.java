package dev.flashattn4j.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.testing.BitsProbe;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A program started without {@code --add-modules jdk.incubator.vector} (a plain class-path
 * application) runs every path, forward with every option, varlen, decode and backward, on the
 * scalar twins: the same bits as the scalar path here, one warning line on standard error, and not
 * one class that uses the Vector API loaded.
 */
class VectorModuleTest {

  /** The classes that use the Vector API: none may load in a JVM without the module. */
  private static final List<String> VECTOR_CLASSES =
      List.of(
          "dev.flashattn4j.internal.Simd",
          "dev.flashattn4j.kernel.PanelBlocks",
          "dev.flashattn4j.kernel.TileVectors",
          "dev.flashattn4j.kernel.decode.DecodeVectors",
          "dev.flashattn4j.kernel.decode.DecodeDotVectors",
          "dev.flashattn4j.kernel.decode.LaneSums");

  @Test
  void thisJvmHasTheModule() {
    assertTrue(VectorModule.PRESENT, "the tests run with --add-modules jdk.incubator.vector");
  }

  @Test
  void withoutTheModuleEveryPathRunsScalarWithOneWarningLine() throws Exception {
    Map<String, Long> here = BitsProbe.run();
    Probe p = probe();
    assertEquals(0, p.exit, p.stderr);
    assertEquals(List.of(VectorModule.WARNING), p.stderrLines(), "stderr: one line, the warning");
    Map<String, Long> scalarHere = new LinkedHashMap<>();
    here.forEach(
        (name, sum) -> {
          if (name.startsWith("scalar ")) {
            scalarHere.put(name.substring("scalar ".length()), sum);
          }
        });
    assertFalse(scalarHere.isEmpty());
    for (var e : scalarHere.entrySet()) {
      assertEquals(e.getValue(), p.sums.get("scalar " + e.getKey()), "scalar " + e.getKey());
      // the SIMD request falls back to the scalar twins: the same bits
      assertEquals(e.getValue(), p.sums.get("simd " + e.getKey()), "simd " + e.getKey());
    }
    assertEquals(here.keySet(), p.sums.keySet());
    for (String c : VECTOR_CLASSES) {
      assertFalse(p.loaded.contains(c), c + " was loaded without the module");
    }
    assertTrue(p.loaded.contains("dev.flashattn4j.kernel.FlashForward"), "the class log works");
  }

  @Test
  void askingForTheScalarPathSilencesTheWarning() throws Exception {
    Probe p = probe("-Dflashattn.vector.bits=0");
    assertEquals(0, p.exit, p.stderr);
    assertEquals(List.of(), p.stderrLines());
  }

  private record Probe(int exit, Map<String, Long> sums, String stderr, List<String> loaded) {
    List<String> stderrLines() {
      return stderr.lines().filter(l -> !l.isBlank()).toList();
    }
  }

  /**
   * BitsProbe in a fresh JVM without the module, on the class path (as a plain application runs),
   * with the classes it loads logged to a file.
   */
  private static Probe probe(String... flags) throws IOException, InterruptedException {
    Path log = Files.createTempFile("flashattn-classes", ".log");
    Path errors = Files.createTempFile("flashattn-stderr", ".txt");
    try {
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      List<String> cmd = new ArrayList<>();
      cmd.add(java);
      cmd.addAll(List.of(flags));
      cmd.add("-Xlog:class+load=info:file=" + log);
      String path = System.getProperty("java.class.path");
      String modules = System.getProperty("jdk.module.path");
      if (modules != null && !modules.isEmpty()) {
        path = modules + File.pathSeparator + path;
      }
      cmd.add("-cp");
      cmd.add(path);
      cmd.add(BitsProbe.class.getName());
      Process p = new ProcessBuilder(cmd).redirectError(errors.toFile()).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(5, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new AssertionError("the probe did not finish");
      }
      String stderr = Files.readString(errors);
      Map<String, Long> sums = new LinkedHashMap<>();
      for (String line : out.split("\n")) {
        int eq = line.lastIndexOf('=');
        if (eq > 0) {
          sums.put(line.substring(0, eq), Long.parseLong(line.substring(eq + 1).trim()));
        }
      }
      List<String> loaded = new ArrayList<>();
      for (String line : Files.readAllLines(log)) {
        int at = line.indexOf("] ");
        if (at >= 0) {
          String rest = line.substring(at + 2);
          int sp = rest.indexOf(' ');
          loaded.add(sp < 0 ? rest : rest.substring(0, sp));
        }
      }
      return new Probe(p.exitValue(), sums, stderr, loaded);
    } finally {
      Files.deleteIfExists(log);
      Files.deleteIfExists(errors);
    }
  }
}
