package dev.flashattn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.tensor.Npy;
import dev.flashattn4j.testing.TestTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What every command does with the files it writes: each gets mode rw-r--r-- (a file replaced keeps
 * its mode), one path named for two outputs is refused before any work, and a mistyped command or
 * option is answered with the one it was probably meant to be.
 */
class OutputsTest {

  @TempDir Path dir;

  Path q;
  Path k;
  Path v;
  Path dout;

  @BeforeEach
  void inputs() throws IOException {
    q = dir.resolve("q.npy");
    k = dir.resolve("k.npy");
    v = dir.resolve("v.npy");
    dout = dir.resolve("do.npy");
    Npy.write(q, TestTensors.normal(1, 1, 2, 5, 8));
    Npy.write(k, TestTensors.normal(2, 1, 2, 7, 8));
    Npy.write(v, TestTensors.normal(3, 1, 2, 7, 3));
    Npy.write(dout, TestTensors.normal(4, 1, 2, 5, 3));
  }

  private List<String> qkv(String command) {
    return new ArrayList<>(
        List.of(command, "--q", q.toString(), "--k", k.toString(), "--v", v.toString()));
  }

  private static String mode(Path p) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  private static void assertWritten(Cli r, Path... files) throws IOException {
    assertEquals(0, r.exit(), r.toString());
    for (Path f : files) {
      assertTrue(Files.isRegularFile(f), f + " was not written: " + r);
      assertEquals("rw-r--r--", mode(f), f.getFileName().toString());
    }
  }

  @Test
  void everyFileEveryCommandWritesIsReadableByAll() throws IOException {
    Path o = dir.resolve("o.npy");
    Path lse = dir.resolve("lse.npy");
    List<String> attend = qkv("attend");
    attend.addAll(List.of("--out", o.toString(), "--lse", lse.toString()));
    assertWritten(Cli.run(attend), o, lse);

    Path dq = dir.resolve("dq.npy");
    Path dk = dir.resolve("dk.npy");
    Path dv = dir.resolve("dv.npy");
    List<String> grad = qkv("grad");
    grad.addAll(
        List.of(
            "--dout",
            dout.toString(),
            "--out-dq",
            dq.toString(),
            "--out-dk",
            dk.toString(),
            "--out-dv",
            dv.toString()));
    assertWritten(Cli.run(grad), dq, dk, dv);

    Path csv = dir.resolve("bench.csv");
    Path plot = dir.resolve("bench.png");
    assertWritten(
        Cli.run(
            Stream.concat(
                    tinyBench().stream(),
                    Stream.of("--csv", csv.toString(), "--plot", plot.toString()))
                .toList()),
        csv,
        plot);

    Path decodeCsv = dir.resolve("decode.csv");
    assertWritten(
        Cli.run(
            "bench-decode",
            "--cache-len",
            "64",
            "--batch",
            "1",
            "--storage",
            "float32",
            "--heads",
            "2",
            "--kv-heads",
            "1",
            "--d",
            "8",
            "--page-size",
            "16",
            "--min-time",
            "0",
            "--bandwidth-mib",
            "8",
            "--threads",
            "1",
            "--csv",
            decodeCsv.toString()),
        decodeCsv);

    Path io = dir.resolve("io.png");
    assertWritten(Cli.run("io", "--n", "64", "--d", "8", "--sweep", "--plot", io.toString()), io);
    Path matvec = dir.resolve("matvec.gif");
    assertWritten(Cli.run("animate", "matvec", "--out", matvec.toString()), matvec);
    Path schedule = dir.resolve("schedule.gif");
    assertWritten(Cli.run("animate", "schedule", "--out", schedule.toString()), schedule);
    Path page = dir.resolve("page.html");
    assertWritten(Cli.run("explain", "--out", page.toString()), page);
  }

  @Test
  void aFileReplacedKeepsItsMode() throws IOException {
    Path o = dir.resolve("o.npy");
    Path gif = dir.resolve("m.gif");
    for (Path p : List.of(o, gif)) {
      Files.writeString(p, "old");
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-rw----"));
    }
    List<String> attend = qkv("attend");
    attend.addAll(List.of("--out", o.toString()));
    Cli r = Cli.run(attend);
    assertEquals(0, r.exit(), r.toString());
    r = Cli.run("animate", "matvec", "--out", gif.toString());
    assertEquals(0, r.exit(), r.toString());
    for (Path p : List.of(o, gif)) {
      assertTrue(Files.size(p) > 3, p + " was not replaced");
      assertEquals("rw-rw----", mode(p), p.getFileName().toString());
    }
  }

  private static List<String> tinyBench() {
    return List.of(
        "bench",
        "--n",
        "16",
        "--d",
        "8",
        "--heads",
        "1",
        "--threads",
        "1",
        "--kernel",
        "fast",
        "--warmup",
        "0",
        "--iters",
        "1",
        "--no-progress");
  }

  static void assertRefused(Cli r, String part) {
    assertEquals(2, r.exit(), r.toString());
    assertEquals(1, r.err().strip().lines().count(), r.toString());
    assertTrue(r.err().startsWith("error: ") && r.err().contains(part), r.toString());
  }

  @Test
  void onePathForTwoOutputsIsRefusedBeforeAnyWork() {
    Path x = dir.resolve("x.npy");
    List<String> attend = qkv("attend");
    attend.addAll(List.of("--out", x.toString(), "--lse", x.toString()));
    assertRefused(Cli.run(attend), "--out and --lse name the same file");

    List<String> grad = qkv("grad");
    grad.addAll(
        List.of(
            "--dout",
            dout.toString(),
            "--out-dq",
            x.toString(),
            "--out-dk",
            dir.resolve("dk.npy").toString(),
            "--out-dv",
            dir.resolve("./x.npy").toString()));
    assertRefused(Cli.run(grad), "--out-dq and --out-dv name the same file");
    assertFalse(Files.exists(dir.resolve("dk.npy")), "grad wrote dK although it refused");

    Path both = dir.resolve("bench.png");
    List<String> bench = new ArrayList<>(tinyBench());
    bench.addAll(List.of("--csv", both.toString(), "--plot", both.toString()));
    Cli r = Cli.run(bench);
    assertRefused(r, "--csv and --plot name the same file");
    assertFalse(r.out().contains("GFLOP"), "bench ran before it refused: " + r);
    assertFalse(Files.exists(x) || Files.exists(both), "a file was written");
  }

  @Test
  void aMistypedCommandOrOptionGetsASuggestion() {
    assertRefused(Cli.run("atend"), "unknown command 'atend'; did you mean 'attend'?");
    assertRefused(Cli.run("bnech"), "unknown command 'bnech'; did you mean 'bench'?");
    assertRefused(
        Cli.run("animate", "schedul"), "unknown command 'schedul'; did you mean 'schedule'?");
    Cli far = Cli.run("frobnicate");
    assertRefused(far, "unknown command 'frobnicate'");
    assertFalse(far.err().contains("did you mean"), far.toString());
    List<String> attend = qkv("attend");
    attend.addAll(List.of("--otu", dir.resolve("o.npy").toString()));
    assertRefused(Cli.run(attend), "unknown option '--otu'; did you mean '--out'?");
  }

  @ParameterizedTest
  @ValueSource(strings = {"files", "dir"})
  void aKilledCommandLeavesNoTemporaries(String mode) throws Exception {
    // issue 19: a kill (SIGTERM) during grad's writes left .tmp files of 4 MB each
    Path out = Files.createDirectory(dir.resolve("killed"));
    String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p =
        new ProcessBuilder(
                javaBin,
                "-cp",
                System.getProperty("java.class.path"),
                OutputsKillProbe.class.getName(),
                out.toString(),
                mode)
            .redirectErrorStream(true)
            .start();
    try (var said = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()))) {
      String line = said.readLine(); // "writing": both temporaries exist now
      assertEquals("writing", line);
      try (Stream<Path> files = Files.walk(out)) {
        assertEquals(
            mode.equals("dir") ? 4 : 3, files.count(), "the temporaries, before the kill: " + out);
      }
      p.destroy(); // SIGTERM
      assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "the probe did not exit");
    } finally {
      p.destroyForcibly();
    }
    try (Stream<Path> files = Files.list(out)) {
      assertEquals(List.of(), files.toList(), "left behind");
    }
  }

  /**
   * Issue 19: several outputs appear together or not at all. A shutdown hook (what SIGTERM runs)
   * that comes while the outputs are written deletes every temporary and no target appears.
   */
  @Test
  void aShutdownWhileWritingLeavesNoOutput() {
    Path a = dir.resolve("a.npy");
    Path b = dir.resolve("b.npy");
    Outputs outputs = new Outputs().add("--a", a).add("--b", b);
    List<Outputs.Commit> seen = new ArrayList<>();
    BadInputException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            BadInputException.class,
            () ->
                outputs.writeAll(
                    Map.of(
                        "--a",
                        file -> Files.write(file, new byte[8]),
                        "--b",
                        file -> {
                          throw new IOException("never reached");
                        }),
                    (from, to, option) -> {
                      throw new AssertionError("renamed after the shutdown");
                    },
                    commit -> {
                      seen.add(commit);
                      commit.abort(); // the hook, after the first file
                    }));
    assertTrue(e.getMessage().contains("shutting down"), e.getMessage());
    assertEquals(1, seen.size());
    assertFalse(Files.exists(a));
    assertFalse(Files.exists(b));
    assertEquals(List.of(), hidden());
  }

  /**
   * A hook that comes while the outputs are renamed waits for every rename: the targets all change.
   * The test holds the commit inside its first rename until the hook's thread is blocked on it.
   */
  @Test
  void aShutdownWhileRenamingWaitsForEveryRename() throws Exception {
    Path a = dir.resolve("a.npy");
    Path b = dir.resolve("b.npy");
    Path c = dir.resolve("c.npy");
    Files.write(b, new byte[] {9}); // an old b is replaced too
    Outputs outputs = new Outputs().add("--a", a).add("--b", b).add("--c", c);
    Outputs.Writer eight = file -> Files.write(file, new byte[8]);
    Outputs.Commit[] commit = new Outputs.Commit[1];
    Thread[] hook = new Thread[1];
    outputs.writeAll(
        Map.of("--a", eight, "--b", eight, "--c", eight),
        (from, to, option) -> {
          if (hook[0] == null) {
            hook[0] = new Thread(commit[0]::abort, "hook");
            hook[0].start();
            while (hook[0].getState() != Thread.State.BLOCKED) {
              Thread.onSpinWait();
            }
          }
          Files.move(from, to, option);
        },
        x -> commit[0] = x);
    hook[0].join(30_000);
    assertFalse(hook[0].isAlive());
    for (Path p : List.of(a, b, c)) {
      assertEquals(8, Files.size(p), p.toString());
    }
    assertFalse(commit[0].aborted());
    assertEquals(List.of(), hidden());
  }

  private List<Path> hidden() {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.getFileName().toString().startsWith(".")).toList();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** grad --out-dir: one folder, new or empty, that appears whole; refused before any work. */
  @Test
  void gradWritesAFolderWhole() throws IOException {
    Path grads = dir.resolve("grads");
    List<String> grad = qkv("grad");
    grad.addAll(List.of("--dout", dout.toString(), "--out-dir", grads.toString()));
    Cli r = Cli.run(grad);
    assertWritten(r, grads.resolve("dq.npy"), grads.resolve("dk.npy"), grads.resolve("dv.npy"));
    try (Stream<Path> files = Files.list(grads)) {
      assertEquals(3, files.count());
    }
    assertEquals(List.of(), hidden());
    Cli again = Cli.run(grad);
    assertRefused(again, "is not empty");
    Path empty = Files.createDirectory(dir.resolve("empty"));
    List<String> intoEmpty = qkv("grad");
    intoEmpty.addAll(List.of("--dout", dout.toString(), "--out-dir", empty.toString()));
    assertWritten(Cli.run(intoEmpty), empty.resolve("dq.npy"));
    List<String> both = new ArrayList<>(grad);
    both.addAll(List.of("--out-dq", dir.resolve("dq.npy").toString()));
    assertRefused(Cli.run(both), "--out-dir writes every gradient");
    List<String> onFile = qkv("grad");
    onFile.addAll(List.of("--dout", dout.toString(), "--out-dir", q.toString()));
    assertRefused(Cli.run(onFile), "exists and is not a folder");
  }
}
