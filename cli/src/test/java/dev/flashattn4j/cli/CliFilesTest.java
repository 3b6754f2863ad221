package dev.flashattn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.flashattn4j.tensor.Npy;
import dev.flashattn4j.testing.TestTensors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code attend}'s files: outputs never replace what is not a regular file, never half-written. */
class CliFilesTest {

  @TempDir Path dir;

  Path q;
  Path k;
  Path v;

  @BeforeEach
  void inputs() throws IOException {
    q = dir.resolve("q.npy");
    k = dir.resolve("k.npy");
    v = dir.resolve("v.npy");
    Npy.write(q, TestTensors.normal(1, 2, 4, 5, 8));
    Npy.write(k, TestTensors.normal(2, 2, 2, 7, 8));
    Npy.write(v, TestTensors.normal(3, 2, 2, 7, 3));
  }

  Cli attend(String... more) {
    List<String> a =
        new ArrayList<>(
            List.of("attend", "--q", q.toString(), "--k", k.toString(), "--v", v.toString()));
    a.addAll(List.of(more));
    return Cli.run(a);
  }

  static void assertOneLineError(Cli r, String part) {
    assertEquals(2, r.exit(), r.toString());
    assertEquals(1, r.err().strip().lines().count(), r.toString());
    assertTrue(r.err().startsWith("error: ") && r.err().contains(part), r.toString());
  }

  @Test
  void aSymbolicLinkAsOutputIsRefusedAndLeftAlone() throws IOException {
    Path target = dir.resolve("precious.txt");
    Files.writeString(target, "keep me");
    Path link = dir.resolve("o.npy");
    Files.createSymbolicLink(link, target);
    assertOneLineError(attend("--out", link.toString()), "symbolic link");
    assertTrue(Files.isSymbolicLink(link));
    assertEquals("keep me", Files.readString(target));
  }

  @Test
  void aDeviceAsOutputIsRefused() {
    Path devNull = Path.of("/dev/null");
    assumeTrue(Files.exists(devNull), "no /dev/null here");
    assertOneLineError(attend("--out", devNull.toString()), "not a regular file");
    assertFalse(Files.isRegularFile(devNull), "/dev/null is still a device");
  }

  @Test
  void whenTheLseCannotBeWrittenNeitherFileIs() throws IOException {
    Path out = dir.resolve("o.npy");
    Path lse = dir.resolve("l".repeat(300) + ".npy"); // longer than a file name may be
    Cli r = attend("--out", out.toString(), "--lse", lse.toString());
    assertOneLineError(r, "cannot write");
    assertFalse(Files.exists(out), "O written although the LSE failed");
    try (var files = Files.list(dir)) {
      assertTrue(files.noneMatch(p -> p.getFileName().toString().contains(".tmp")), "temp left");
    }
  }

  @Test
  void oneFileForBothOutputsIsRefused() {
    Path out = dir.resolve("o.npy");
    assertOneLineError(attend("--out", out.toString(), "--lse", out.toString()), "same file");
    assertFalse(Files.exists(out));
  }

  @Test
  void anOutputNeverReplacesAnInput() throws IOException {
    // issue 19: attend --out q.npy overwrote its own input
    byte[] before = Files.readAllBytes(q);
    assertOneLineError(attend("--out", q.toString()), "names the input --q");
    assertOneLineError(
        attend("--out", dir.resolve("o.npy").toString(), "--lse", v.toString()), "input --v");
    // the same file under another name (a hard link) is the same file
    Path alias = dir.resolve("alias.npy");
    Files.createLink(alias, k);
    assertOneLineError(attend("--out", alias.toString()), "names the input --k");
    Path dout = dir.resolve("dout.npy");
    Npy.write(dout, TestTensors.normal(4, 2, 4, 5, 3));
    Cli grad =
        Cli.run(
            "grad",
            "--q",
            q.toString(),
            "--k",
            k.toString(),
            "--v",
            v.toString(),
            "--dout",
            dout.toString(),
            "--out-dq",
            dir.resolve("dq.npy").toString(),
            "--out-dv",
            dout.toString());
    assertOneLineError(grad, "names the input --dout");
    org.junit.jupiter.api.Assertions.assertArrayEquals(before, Files.readAllBytes(q));
    assertFalse(Files.exists(dir.resolve("dq.npy")), "dq written although --out-dv was refused");
  }

  @Test
  void emptySequencesAreTakenAsPyTorchTakesThem() throws IOException {
    // issue 19: N_q = 0 (attend) and N_k = 0 (grad) were "a view whose elements overlap"
    Npy.write(q, TestTensors.normal(1, 2, 4, 0, 8));
    Path out = dir.resolve("o.npy");
    Cli r = attend("--out", out.toString());
    assertEquals(0, r.exit(), r.toString());
    org.junit.jupiter.api.Assertions.assertArrayEquals(
        new int[] {2, 4, 0, 3}, Npy.read(out).shape());
    Npy.write(q, TestTensors.normal(1, 2, 4, 5, 8));
    Npy.write(k, TestTensors.normal(2, 2, 2, 0, 8));
    Npy.write(v, TestTensors.normal(3, 2, 2, 0, 3));
    Path dout = dir.resolve("dout.npy");
    Npy.write(dout, TestTensors.normal(4, 2, 4, 5, 3));
    Path dq = dir.resolve("dq.npy");
    Cli g =
        Cli.run(
            "grad",
            "--q",
            q.toString(),
            "--k",
            k.toString(),
            "--v",
            v.toString(),
            "--dout",
            dout.toString(),
            "--out-dq",
            dq.toString());
    assertEquals(0, g.exit(), g.toString());
    for (float x : Npy.read(dq).toFloatArray()) {
      assertEquals(0f, x, "no key: dQ = 0");
    }
  }

  @Test
  void aFifoAsInputIsRefusedWithoutWaiting() throws Exception {
    Path fifo = dir.resolve("q.fifo");
    Process p = new ProcessBuilder("mkfifo", fifo.toString()).start();
    assumeTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0, "no mkfifo here");
    q = fifo;
    assertOneLineError(attend("--out", dir.resolve("o.npy").toString()), "not a regular file");
  }

  @Test
  void controlBytesFromAFileNeverReachTheTerminal() throws IOException {
    // a .npy header whose dtype holds an escape sequence, a NUL and a newline
    String header = "{'descr': '\u001b[31m\u0000x\n', 'fortran_order': False, 'shape': (2, 2), }";
    StringBuilder h = new StringBuilder(header);
    while ((10 + h.length() + 1) % 64 != 0) {
      h.append(' ');
    }
    h.append('\n');
    byte[] text = h.toString().getBytes(StandardCharsets.ISO_8859_1);
    byte[] file = new byte[10 + text.length + 16];
    byte[] magic = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    System.arraycopy(magic, 0, file, 0, 8);
    file[8] = (byte) (text.length & 0xFF);
    file[9] = (byte) (text.length >> 8);
    System.arraycopy(text, 0, file, 10, text.length);
    Files.write(q, file);
    Cli r = attend("--out", dir.resolve("o.npy").toString());
    assertEquals(2, r.exit(), r.toString());
    assertFalse(r.err().chars().anyMatch(c -> c < 0x20 && c != '\n'), r.toString());
    assertEquals(1, r.err().strip().lines().count(), r.toString());
  }
}
