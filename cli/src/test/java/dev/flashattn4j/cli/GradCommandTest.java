package dev.flashattn4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.tensor.Npy;
import dev.flashattn4j.tensor.NpyArray;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code grad} and {@code verify --backward} on PyTorch's autograd golden files, and misuse. */
class GradCommandTest {

  @TempDir Path dir;

  static Stream<Path> cases() throws IOException {
    return Files.list(Path.of("../core/src/test/resources/golden-backward"))
        .filter(Files::isDirectory)
        .sorted();
  }

  /** The case's inputs and options as flags. */
  private static List<String> flags(Path c) throws IOException {
    Properties p = new Properties();
    try (var r = Files.newBufferedReader(c.resolve("case.properties"))) {
      p.load(r);
    }
    List<String> a = new ArrayList<>();
    for (String n : List.of("q", "k", "v")) {
      a.add("--" + n);
      a.add(c.resolve(n + ".npy").toString());
    }
    a.add("--dout");
    a.add(c.resolve("do.npy").toString());
    if (!p.getProperty("causal", "none").equals("none")) {
      a.add("--causal");
      a.add(p.getProperty("causal"));
    }
    for (String key : List.of("scale", "softcap", "window")) {
      if (p.getProperty(key) != null) {
        a.add("--" + key);
        a.add(p.getProperty(key));
      }
    }
    if (p.getProperty("mask") != null) {
      a.add("--mask");
      a.add(c.resolve(p.getProperty("mask")).toString());
    }
    return a;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void verifyBackwardPassesAgainstPyTorch(Path c) throws IOException {
    List<String> args = new ArrayList<>(List.of("verify", "--backward"));
    args.addAll(flags(c));
    for (String g : List.of("dq", "dk", "dv")) {
      args.add("--expect-" + g);
      args.add(c.resolve(g + ".npy").toString());
    }
    Cli r = Cli.run(args);
    assertEquals(0, r.exit(), r.toString());
    assertTrue(r.out().contains("PASS"), r.toString());
  }

  @Test
  void gradWritesTheThreeGradientsWithTheInputsShapes() throws IOException {
    Path c = Path.of("../core/src/test/resources/golden-backward/gqa_6_2");
    List<String> args = new ArrayList<>(List.of("grad"));
    args.addAll(flags(c));
    args.addAll(
        List.of(
            "--out-dq", dir.resolve("dq.npy").toString(),
            "--out-dk", dir.resolve("dk.npy").toString(),
            "--out-dv", dir.resolve("dv.npy").toString()));
    Cli r = Cli.run(args);
    assertEquals(0, r.exit(), r.toString());
    for (String g : List.of("dq", "dk", "dv")) {
      NpyArray want = Npy.read(c.resolve(g + ".npy"));
      NpyArray got = Npy.read(dir.resolve(g + ".npy"));
      assertArrayEquals(want.shape(), got.shape(), g);
      float[] w = want.toFloatArray();
      float[] a = got.toFloatArray();
      for (int i = 0; i < w.length; i++) {
        assertEquals(w[i], a[i], 1e-5 * (1 + Math.abs(w[i])), g + "[" + i + "]");
      }
    }
  }

  @Test
  void misuseIsOneLineAndWritesNothing() throws IOException {
    Path c = Path.of("../core/src/test/resources/golden-backward/plain");
    List<String> base = new ArrayList<>(List.of("grad"));
    base.addAll(flags(c));
    Path x = dir.resolve("x.npy");
    List<List<String>> bad =
        List.of(
            List.of(),
            List.of("--out-dq", x.toString(), "--out-dk", x.toString()),
            List.of("--out-dq", x.toString(), "--kernel", "paper"),
            List.of("--out-dq", dir.toString()));
    for (List<String> extra : bad) {
      List<String> args = new ArrayList<>(base);
      args.addAll(extra);
      Cli r = Cli.run(args);
      assertEquals(2, r.exit(), r.toString());
      assertTrue(r.err().startsWith("error: "), r.toString());
      assertEquals(1, r.err().strip().lines().count(), r.toString());
      assertFalse(Files.exists(x), "nothing written: " + r);
    }
    // dO of the wrong shape
    List<String> args = new ArrayList<>(List.of("grad"));
    args.addAll(flags(c));
    args.set(args.indexOf("--dout") + 1, c.resolve("k.npy").toString());
    args.addAll(List.of("--out-dq", x.toString()));
    Cli r = Cli.run(args);
    assertEquals(2, r.exit(), r.toString());
    assertTrue(r.err().contains("--dout"), r.toString());
    assertFalse(Files.exists(x));
  }

  @Test
  void dropoutIsTheSameMaskInEveryKernel() throws IOException {
    Path c = Path.of("../core/src/test/resources/golden-backward/causal_top_left");
    for (String kind : List.of("forward", "backward")) {
      List<String> args = new ArrayList<>(List.of("verify"));
      if (kind.equals("backward")) {
        args.add("--backward");
      }
      args.addAll(flags(c));
      if (kind.equals("forward")) {
        int at = args.indexOf("--dout");
        args.remove(at);
        args.remove(at);
      }
      args.addAll(List.of("--dropout", "0.25,42,7"));
      Cli r = Cli.run(args);
      assertEquals(0, r.exit(), r.toString());
      assertTrue(r.out().contains("PASS"), r.toString());
    }
    for (String bad : List.of("0.3", "1,2,3", "-0.1,1,1", "0.2,x,1", "0.2,1,1,1")) {
      List<String> args =
          new ArrayList<>(List.of("grad", "--out-dq", dir.resolve("d.npy").toString()));
      args.addAll(flags(c));
      args.addAll(List.of("--dropout", bad));
      Cli r = Cli.run(args);
      assertEquals(2, r.exit(), bad + ": " + r);
      assertTrue(r.err().contains("--dropout"), r.toString());
    }
  }

  @Test
  void alibiAndSinksFromTheCommandLine() throws IOException {
    Path c = Path.of("../core/src/test/resources/golden-alibi-sinks/gpt_oss_sinks");
    Properties p = new Properties();
    try (var r = Files.newBufferedReader(c.resolve("case.properties"))) {
      p.load(r);
    }
    List<String> args =
        new ArrayList<>(
            List.of(
                "verify",
                "--q",
                c.resolve("q.npy").toString(),
                "--k",
                c.resolve("k.npy").toString(),
                "--v",
                c.resolve("v.npy").toString(),
                "--causal",
                "top-left",
                "--sinks",
                p.getProperty("sinks"),
                "--expect",
                c.resolve("o.npy").toString()));
    Cli r = Cli.run(args);
    assertEquals(0, r.exit(), r.toString());
    assertTrue(r.out().contains("PASS"), r.toString());
    Path b = Path.of("../core/src/test/resources/golden-alibi-sinks/bloom_alibi_8_heads");
    Properties pb = new Properties();
    try (var rd = Files.newBufferedReader(b.resolve("case.properties"))) {
      pb.load(rd);
    }
    r =
        Cli.run(
            "verify",
            "--q",
            b.resolve("q.npy").toString(),
            "--k",
            b.resolve("k.npy").toString(),
            "--v",
            b.resolve("v.npy").toString(),
            "--causal",
            "top-left",
            "--alibi",
            pb.getProperty("alibi"),
            "--expect",
            b.resolve("o.npy").toString());
    assertEquals(0, r.exit(), r.toString());
    // grad writes the sinks' gradient, H_q floats
    Path dsinks = dir.resolve("dsinks.npy");
    r =
        Cli.run(
            "grad",
            "--q",
            c.resolve("q.npy").toString(),
            "--k",
            c.resolve("k.npy").toString(),
            "--v",
            c.resolve("v.npy").toString(),
            "--dout",
            c.resolve("q.npy").toString(),
            "--causal",
            "top-left",
            "--sinks",
            p.getProperty("sinks"),
            "--out-dsinks",
            dsinks.toString());
    assertEquals(0, r.exit(), r.toString());
    assertArrayEquals(new int[] {8}, Npy.read(dsinks).shape());
    Cli bad =
        Cli.run(
            "verify",
            "--q",
            c.resolve("q.npy").toString(),
            "--k",
            c.resolve("k.npy").toString(),
            "--v",
            c.resolve("v.npy").toString(),
            "--sinks",
            "1,2");
    assertEquals(2, bad.exit(), bad.toString());
    assertTrue(bad.err().contains("sinks"), bad.toString());
  }
}
