package dev.flashattn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A command whose standard output could not be written fails (issue 19: {@code generate}, {@code
 * demo} and {@code verify} exited 0 with their output going to /dev/full).
 */
class StandardOutputTest {

  /** An output that fails as /dev/full does: every write throws. */
  private static final class Full extends OutputStream {
    @Override
    public void write(int b) throws IOException {
      throw new IOException("No space left on device");
    }
  }

  @Test
  void aCommandWhoseOutputWasLostExitsTwoWithOneLine() {
    PrintStream stdout = new PrintStream(new Full(), true);
    PrintWriter out = new PrintWriter(stdout, true);
    picocli.CommandLine cl = Main.commandLine();
    cl.setOut(out);
    int code = cl.execute("demo");
    assertEquals(0, code, "the command itself succeeded");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit =
        Main.checkOutput(code, out, stdout, new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(2, exit);
    String line = err.toString(StandardCharsets.UTF_8);
    assertEquals(1, line.strip().lines().count(), line);
    assertTrue(line.startsWith("error: cannot write to standard output"), line);
  }

  @Test
  void aCommandWhoseOutputWasWrittenKeepsItsCode() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream stdout = new PrintStream(bytes, true);
    PrintWriter out = new PrintWriter(stdout, true);
    PrintStream err = new PrintStream(new ByteArrayOutputStream(), true);
    assertEquals(0, Main.checkOutput(0, out, stdout, err));
    assertEquals(2, Main.checkOutput(2, out, stdout, err), "a failure stays a failure");
  }

  @Test
  void theProgramExitsTwoWhenItsOutputGoesToAFullDevice() throws Exception {
    Path full = Path.of("/dev/full");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(full), "no /dev/full here");
    // Main as a program, on this test's class path (the classes just compiled)
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p =
        new ProcessBuilder(
                java,
                "--add-modules",
                "jdk.incubator.vector",
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "demo")
            .redirectOutput(full.toFile())
            .start();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(2, p.waitFor(), err);
    assertTrue(err.contains("cannot write to standard output"), err);
  }
}
