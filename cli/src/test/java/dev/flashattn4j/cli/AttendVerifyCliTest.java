package dev.flashattn4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.reference.NaiveAttention;
import dev.flashattn4j.tensor.Npy;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code attend} and {@code verify} as a user runs them: options, exit codes, bad input. */
class AttendVerifyCliTest {

  @TempDir static Path dir;

  static Path q;
  static Path k;
  static Path v;
  static Path out;

  @BeforeEach
  void inputs() throws IOException {
    q = dir.resolve("q.npy");
    k = dir.resolve("k.npy");
    v = dir.resolve("v.npy");
    out = dir.resolve("o.npy");
    Files.deleteIfExists(out);
    Npy.write(q, TestTensors.normal(1, 2, 4, 5, 8));
    Npy.write(k, TestTensors.normal(2, 2, 2, 7, 8));
    Npy.write(v, TestTensors.normal(3, 2, 2, 7, 3));
  }

  static List<String> base(String cmd) {
    List<String> a =
        new ArrayList<>(
            List.of(cmd, "--q", q.toString(), "--k", k.toString(), "--v", v.toString()));
    if (cmd.equals("attend")) {
      a.addAll(List.of("--out", out.toString()));
    }
    return a;
  }

  static Cli run(List<String> base, String... more) {
    List<String> a = new ArrayList<>(base);
    a.addAll(List.of(more));
    return Cli.run(a);
  }

  @Test
  void attendAppliesEveryOptionAsTheLibraryDoes() throws IOException {
    Path lse = dir.resolve("lse.npy");
    Path mask = dir.resolve("mask.npy");
    float[] bias = new float[5 * 7];
    for (int i = 0; i < bias.length; i++) {
      bias[i] = (i % 3 == 0) ? Float.NEGATIVE_INFINITY : i * 0.01f;
    }
    Npy.write(mask, bias, 5, 7);
    Cli r =
        run(
            base("attend"),
            "--mask",
            mask.toString(),
            "--causal",
            "bottom-right",
            "--scale",
            "0.3",
            "--window",
            "3,-1",
            "--softcap",
            "2.5",
            "--lse",
            lse.toString(),
            "--kernel",
            "naive",
            "--threads",
            "2");
    assertEquals(0, r.exit(), r.toString());
    AttentionOptions opts =
        AttentionOptions.builder()
            .mask(dev.flashattn4j.values.AttentionMask.additive(bias, 5, 7))
            .causal(dev.flashattn4j.values.Causal.BOTTOM_RIGHT)
            .scale(0.3f)
            .window(3, -1)
            .softcap(2.5f)
            .build();
    AttentionResult want =
        NaiveAttention.compute(Npy.readTensor(q), Npy.readTensor(k), Npy.readTensor(v), opts);
    Tensor got = Npy.readTensor(out);
    assertArrayEquals(new int[] {2, 4, 5, 3}, got.shape());
    assertArrayEquals(want.output().toArray(), got.toArray());
    assertArrayEquals(want.lse(), Npy.read(lse).toFloatArray());
    assertArrayEquals(new int[] {2, 4, 5}, Npy.read(lse).shape());
  }

  @Test
  void aBooleanMaskKeepsAndDrops() throws IOException {
    Path mask = dir.resolve("keep.npy");
    // a bool .npy written by hand, as NumPy writes it: (1, 7), keep the first three keys only
    String dict = "{'descr': '|b1', 'fortran_order': False, 'shape': (1, 7), }";
    String text = dict + " ".repeat(128 - 10 - 1 - dict.length()) + "\n";
    byte[] bytes = new byte[128 + 7];
    byte[] magic = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) text.length(), 0};
    System.arraycopy(magic, 0, bytes, 0, 10);
    System.arraycopy(text.getBytes(StandardCharsets.US_ASCII), 0, bytes, 10, text.length());
    bytes[128] = bytes[129] = bytes[130] = 1;
    Files.write(mask, bytes);
    Cli r = run(base("attend"), "--mask", mask.toString(), "--kernel", "naive");
    assertEquals(0, r.exit(), r.toString());
    boolean[] keep = {true, true, true, false, false, false, false};
    AttentionResult want =
        NaiveAttention.compute(
            Npy.readTensor(q),
            Npy.readTensor(k),
            Npy.readTensor(v),
            AttentionOptions.builder()
                .mask(dev.flashattn4j.values.AttentionMask.keep(keep, 1, 7))
                .build());
    assertArrayEquals(want.output().toArray(), Npy.readTensor(out).toArray());
  }

  /** int8, uint8, int16, int32 and int64 masks keep where non-zero: the bits of the bool mask. */
  @Test
  void integerMasksKeepWhereNonZero() throws IOException {
    // (5, 7): key j of row i is dropped where (i + 2j) % 3 == 0, kept with assorted non-zero values
    long[] values = new long[35];
    boolean[] keep = new boolean[35];
    for (int i = 0; i < 35; i++) {
      keep[i] = (i / 7 + 2 * (i % 7)) % 3 != 0;
      values[i] = keep[i] ? (i % 2 == 0 ? 1 : (i % 3 == 1 ? -1 : 100)) : 0;
    }
    Path boolMask = dir.resolve("bool.npy");
    Files.write(boolMask, npy("|b1", 1, values, 5, 7));
    Cli r = run(base("attend"), "--mask", boolMask.toString(), "--kernel", "naive");
    assertEquals(0, r.exit(), r.toString());
    float[] want = Npy.readTensor(out).toArray();
    AttentionResult oracle =
        NaiveAttention.compute(
            Npy.readTensor(q),
            Npy.readTensor(k),
            Npy.readTensor(v),
            AttentionOptions.builder()
                .mask(dev.flashattn4j.values.AttentionMask.keep(keep, 5, 7))
                .build());
    assertArrayEquals(oracle.output().toArray(), want, "the bool mask itself");
    String[][] types = {{"|i1", "1"}, {"|u1", "1"}, {"<i2", "2"}, {"<i4", "4"}, {"<i8", "8"}};
    for (String[] t : types) {
      long[] vals = values.clone();
      if (t[0].equals("|u1")) {
        for (int i = 0; i < vals.length; i++) {
          vals[i] = vals[i] == -1 ? 255 : vals[i];
        }
      }
      Path m = dir.resolve("mask" + t[1] + t[0].charAt(1) + ".npy");
      Files.write(m, npy(t[0], Integer.parseInt(t[1]), vals, 5, 7));
      Files.delete(out);
      Cli ri = run(base("attend"), "--mask", m.toString(), "--kernel", "naive");
      assertEquals(0, ri.exit(), t[0] + ": " + ri);
      assertArrayEquals(want, Npy.readTensor(out).toArray(), t[0] + " as a keep-mask");
    }
  }

  /** A .npy file as NumPy writes it: little-endian integers of {@code size} bytes. */
  private static byte[] npy(String descr, int size, long[] values, int... shape) {
    String dict =
        "{'descr': '"
            + descr
            + "', 'fortran_order': False, 'shape': ("
            + shape[0]
            + ", "
            + shape[1]
            + "), }";
    String text = dict + " ".repeat(128 - 10 - 1 - dict.length()) + "\n";
    java.nio.ByteBuffer b =
        java.nio.ByteBuffer.allocate(128 + values.length * size)
            .order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) text.length(), 0});
    b.put(text.getBytes(StandardCharsets.US_ASCII));
    for (long x : values) {
      switch (size) {
        case 1 -> b.put((byte) (descr.equals("|b1") ? (x != 0 ? 1 : 0) : x));
        case 2 -> b.putShort((short) x);
        case 4 -> b.putInt((int) x);
        default -> b.putLong(x);
      }
    }
    return b.array();
  }

  @Test
  void verifyPassesForTheFastKernelAndPrintsTheErrors() {
    Cli r = run(base("verify"), "--causal", "top-left");
    assertEquals(0, r.exit(), r.toString());
    assertTrue(r.out().contains("max abs") && r.out().contains("max rel"), r.out());
    assertTrue(r.out().contains("budget"), r.out());
    assertTrue(r.out().contains("PASS"), r.out());
  }

  @Test
  void theDefaultKernelIsFastAndTheSramDefaultIsDocumented() {
    String help = Cli.run("attend", "--help").out().replaceAll("\\s+", " ");
    assertTrue(help.contains("(default fast)"), help);
    assertTrue(help.contains("(default " + AttentionInputs.DEFAULT_SRAM + ")"), help);
  }

  @Test
  void verifyWithAWrongShapedReferenceIsBadInput() throws IOException {
    Path ref = dir.resolve("ref.npy");
    Npy.write(ref, new float[4 * 5 * 8], 1, 4, 5, 8);
    Cli r = run(base("verify"), "--expect", ref.toString());
    assertEquals(Main.EXIT_BAD_INPUT, r.exit(), r.toString());
    assertTrue(r.err().contains("[2, 4, 5, 3]"), r.err());
    assertEquals("", r.out());
  }

  static Stream<Arguments> badInputs() throws IOException {
    return Stream.of(
        Arguments.of("missing q", List.of("--q", "/no/such/q.npy"), "no such file"),
        Arguments.of("not npy", List.of("--k", "@notnpy"), "magic"),
        Arguments.of("rank 1 q", List.of("--q", "@rank1"), "rank 2, 3 or 4"),
        Arguments.of("d of q != d of k", List.of("--k", "@k6"), "d of q (8) must equal d of k (6)"),
        Arguments.of(
            "heads", List.of("--k", "@k3heads", "--v", "@v3heads"), "multiple of the heads"),
        Arguments.of("mask", List.of("--mask", "@mask56"), "does not broadcast"),
        Arguments.of("mask of 3 keys for 7", List.of("--mask", "@rank1"), "does not broadcast"),
        Arguments.of("scale 0", List.of("--scale", "0"), "--scale must be positive"),
        Arguments.of("scale -1", List.of("--scale", "-1"), "--scale must be positive"),
        Arguments.of("scale text", List.of("--scale", "big"), "--scale must be a number"),
        Arguments.of("softcap 0", List.of("--softcap", "0"), "--softcap must be positive"),
        Arguments.of("softcap nan", List.of("--softcap", "NaN"), "--softcap must be positive"),
        Arguments.of("window 1", List.of("--window", "3"), "--window must be LEFT,RIGHT"),
        Arguments.of("window x", List.of("--window", "a,b"), "--window must be LEFT,RIGHT"),
        Arguments.of("window -2", List.of("--window", "-2,0"), "--window must be LEFT,RIGHT"),
        Arguments.of(
            "kernel", List.of("--kernel", "cuda"), "--kernel must be fast, paper or naive"),
        Arguments.of(
            "causal", List.of("--causal", "yes"), "--causal must be top-left or bottom-right"),
        Arguments.of("threads", List.of("--threads", "0"), "--threads must be a whole number"),
        Arguments.of(
            "threads 5000",
            List.of("--threads", "5000"),
            "--threads 5000 is more than the "
                + Runtime.getRuntime().availableProcessors()
                + " processors"),
        Arguments.of("sram", List.of("--sram", "-5"), "--sram must be a whole number"));
  }

  /** The base arguments with each (flag, value) pair replacing the base's or added. */
  private static List<String> withFlags(List<String> base, List<String> flags) {
    List<String> args = new ArrayList<>(base);
    for (int i = 0; i < flags.size(); i += 2) {
      int at = args.indexOf(flags.get(i));
      if (at >= 0) {
        args.set(at + 1, flags.get(i + 1));
      } else {
        args.addAll(flags.subList(i, i + 2));
      }
    }
    return args;
  }

  private static List<String> resolve(List<String> flags) throws IOException {
    List<String> out = new ArrayList<>();
    for (String f : flags) {
      out.add(f.startsWith("@") ? fixture(f.substring(1)).toString() : f);
    }
    return out;
  }

  private static Path fixture(String name) throws IOException {
    Path p = dir.resolve(name + ".npy");
    switch (name) {
      case "notnpy" -> Files.writeString(p, "q,k,v\n1,2,3\n");
      case "rank1" -> Npy.write(p, new float[3], 3);
      case "k6" -> Npy.write(p, TestTensors.normal(4, 2, 2, 7, 6));
      case "k3heads" -> Npy.write(p, TestTensors.normal(5, 2, 3, 7, 8));
      case "v3heads" -> Npy.write(p, TestTensors.normal(6, 2, 3, 7, 3));
      case "mask56" -> Npy.write(p, new float[5 * 6], 5, 6);
      default -> throw new IllegalArgumentException(name);
    }
    return p;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badInputs")
  void badInputExits2WithOneLineAndNoOutputFile(String name, List<String> flags, String message)
      throws IOException {
    for (String cmd : List.of("attend", "verify")) {
      List<String> args = withFlags(base(cmd), resolve(flags));
      Cli r = Cli.run(args);
      assertEquals(Main.EXIT_BAD_INPUT, r.exit(), cmd + " " + name + ": " + r);
      String err = r.err().strip();
      assertEquals(1, err.lines().count(), "one line: " + r);
      assertTrue(err.startsWith("error: "), err);
      if (message != null) {
        assertTrue(err.contains(message), name + ": " + err);
      }
      assertEquals("", r.out(), "nothing on stdout");
      assertTrue(Files.notExists(out), "no output file");
      try (Stream<Path> files = Files.list(dir)) {
        assertTrue(
            files.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")), "no temp file");
      }
    }
  }

  @Test
  void anOutputInAMissingFolderIsBadInputBeforeAnyWork() {
    Path nowhere = dir.resolve("no/such/folder/o.npy");
    Cli r =
        Cli.run(
            "attend",
            "--q",
            q.toString(),
            "--k",
            k.toString(),
            "--v",
            v.toString(),
            "--out",
            nowhere.toString());
    assertEquals(Main.EXIT_BAD_INPUT, r.exit(), r.toString());
    assertTrue(r.err().contains("does not exist"), r.err());
  }

  @Test
  void aMissingRequiredFlagIsBadInput() {
    Cli r = Cli.run("attend", "--q", q.toString(), "--k", k.toString(), "--v", v.toString());
    assertEquals(Main.EXIT_BAD_INPUT, r.exit(), r.toString());
    assertTrue(r.err().contains("--out"), r.err());
  }
}
