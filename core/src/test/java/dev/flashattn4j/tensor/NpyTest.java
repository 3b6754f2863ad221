package dev.flashattn4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class NpyTest {

  @TempDir Path tmp;

  static Path resource(String name) {
    try {
      return Path.of(NpyTest.class.getResource("/npy/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static Stream<int[]> shapes() {
    return Stream.of(
        new int[] {},
        new int[] {0},
        new int[] {1},
        new int[] {7},
        new int[] {3, 0},
        new int[] {5, 3},
        new int[] {2, 3, 4},
        new int[] {2, 0, 3, 4},
        new int[] {2, 3, 5, 7},
        new int[] {1, 1, 1, 1});
  }

  private static int size(int[] shape) {
    int n = 1;
    for (int s : shape) {
      n *= s;
    }
    return n;
  }

  @ParameterizedTest
  @MethodSource("shapes")
  void float32RoundTrips(int[] shape) throws IOException {
    SplittableRandom r = new SplittableRandom(Arrays.hashCode(shape));
    float[] data = new float[size(shape)];
    for (int i = 0; i < data.length; i++) {
      data[i] = (float) r.nextGaussian();
    }
    if (data.length > 2) {
      data[0] = Float.NEGATIVE_INFINITY;
      data[1] = -0f;
      data[2] = Float.NaN;
    }
    Path f = tmp.resolve("a.npy");
    Npy.write(f, data, shape);
    NpyArray a = Npy.read(f);
    assertEquals(NpyDtype.FLOAT32, a.dtype());
    assertArrayEquals(shape, a.shape());
    float[] back = a.toFloatArray();
    for (int i = 0; i < data.length; i++) {
      assertEquals(Float.floatToRawIntBits(data[i]), Float.floatToRawIntBits(back[i]), "at " + i);
    }
    assertEquals(0, headerLength(f) % 64, "header aligned to 64 bytes");
  }

  @ParameterizedTest
  @MethodSource("shapes")
  void float64RoundTrips(int[] shape) throws IOException {
    SplittableRandom r = new SplittableRandom(31L * Arrays.hashCode(shape));
    double[] data = r.doubles(size(shape)).map(x -> x * 1e300 - 3e299).toArray();
    Path f = tmp.resolve("d.npy");
    Npy.write(f, data, shape);
    NpyArray a = Npy.read(f);
    assertEquals(NpyDtype.FLOAT64, a.dtype());
    assertArrayEquals(shape, a.shape());
    assertArrayEquals(data, a.toDoubleArray());
    assertEquals(0, headerLength(f) % 64);
  }

  private static long headerLength(Path f) throws IOException {
    byte[] b = Files.readAllBytes(f);
    return 10 + ((b[8] & 0xFF) | (b[9] & 0xFF) << 8);
  }

  @Test
  void aBigArrayRoundTripsAcrossReadChunks() throws IOException {
    int n = 17 * 46263; // 3 MiB of float32 and more: several 1 MiB chunks, a short last one
    float[] data = new float[n];
    double[] wide = new double[n];
    for (int i = 0; i < n; i++) {
      data[i] = i * 0.5f - 7f;
      wide[i] = i * 0.25 + 1e-9;
    }
    Path f = tmp.resolve("big.npy");
    Npy.write(f, data, 17, n / 17);
    assertArrayEquals(data, Npy.read(f).toFloatArray());
    Npy.write(f, wide, n);
    assertArrayEquals(wide, Npy.read(f).toDoubleArray());
  }

  @Test
  void tensorsRoundTripWithTheirRankIncludingViews() throws IOException {
    float[] backing = new float[2 * 3 * 4 * 5 + 3];
    for (int i = 0; i < backing.length; i++) {
      backing[i] = i;
    }
    Tensor packed = Tensor.view(backing, 3, new int[] {2, 3, 4, 5}, new int[] {60, 20, 5});
    Path f = tmp.resolve("t.npy");
    Npy.write(f, packed);
    Tensor back = Npy.readTensor(f);
    assertArrayEquals(packed.shape(), back.shape());
    assertArrayEquals(packed.toArray(), back.toArray());

    Tensor strided = Tensor.ofBnhd(Arrays.copyOf(backing, 120), 2, 4, 3, 5);
    Npy.write(f, strided);
    assertArrayEquals(strided.toArray(), Npy.readTensor(f).toArray());

    Tensor rank2 = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
    Npy.write(f, rank2);
    Tensor r2 = Npy.readTensor(f);
    assertEquals(2, r2.rank());
    assertArrayEquals(new int[] {3, 2}, r2.shape());
  }

  @Test
  void writesTheBytesNumpyWrites() throws IOException {
    Path golden = Path.of("src/test/resources/golden/plain/o.npy");
    NpyArray a = Npy.read(golden);
    Path f = tmp.resolve("same.npy");
    Npy.write(f, a.toFloatArray(), a.shape());
    assertArrayEquals(Files.readAllBytes(golden), Files.readAllBytes(f));

    Path scalar = resource("scalar_f8.npy");
    NpyArray s = Npy.read(scalar);
    assertEquals(0, s.rank());
    assertArrayEquals(new double[] {2.5}, s.toDoubleArray());
    Npy.write(f, s.toDoubleArray());
    assertArrayEquals(Files.readAllBytes(scalar), Files.readAllBytes(f));
  }

  @Test
  void readsFloat16Exactly() throws IOException {
    NpyArray a = Npy.read(resource("half.npy"));
    assertEquals(NpyDtype.FLOAT16, a.dtype());
    assertArrayEquals(new int[] {2, 4}, a.shape());
    float[] expected = {
      0f,
      -0f,
      1f,
      65504f,
      1023 * 0x1p-24f,
      0x1p-24f,
      Float.POSITIVE_INFINITY,
      Float.NEGATIVE_INFINITY
    };
    float[] got = a.toFloatArray();
    for (int i = 0; i < expected.length; i++) {
      assertEquals(
          Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(got[i]), "at " + i);
    }
    assertEquals(2, a.toTensor().rank());
  }

  @Test
  void readsBoolsAndVersion2() throws IOException {
    NpyArray b = Npy.read(resource("bools.npy"));
    assertEquals(NpyDtype.BOOL, b.dtype());
    assertArrayEquals(new boolean[] {true, false, true, false, false, true}, b.toBooleanArray());
    assertThrows(IllegalArgumentException.class, b::toTensor);
    assertThrows(IllegalArgumentException.class, b::toFloatArray);

    NpyArray v2 = Npy.read(resource("f4_v2.npy"));
    assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, v2.toFloatArray());
    assertArrayEquals(new int[] {2, 3}, v2.shape());
  }

  @Test
  void readsVersion3AndDoubleQuotesAndNoTrailingComma() throws IOException {
    Path f = tmp.resolve("v3.npy");
    Files.write(
        f,
        file(
            3,
            "{\"descr\": \"<f4\", \"shape\": (2,), \"fortran_order\": False}\n",
            floats(1.5f, -2f)));
    assertArrayEquals(new float[] {1.5f, -2f}, Npy.read(f).toFloatArray());
  }

  /** Integer arrays saved by NumPy: their values, and as bool (NumPy's astype(bool)). */
  @Test
  void readsIntegerArraysAndTheirTruthAsNumPyDoes() throws IOException {
    record Case(String file, NpyDtype dtype, long[] values, int... shape) {}
    List<Case> cases =
        List.of(
            new Case("int8.npy", NpyDtype.INT8, new long[] {-128, -1, 0, 1, 127}, 5),
            new Case("uint8.npy", NpyDtype.UINT8, new long[] {0, 1, 2, 3}, 4),
            new Case("int16.npy", NpyDtype.INT16, new long[] {-32768, 0, 5, 32767}, 4),
            new Case("int32_2d.npy", NpyDtype.INT32, new long[] {0, -7, 2147483647L, 0}, 2, 2),
            new Case("int64.npy", NpyDtype.INT64, new long[] {0, 1, 2, 3}, 4));
    for (Case c : cases) {
      NpyArray a = Npy.read(resource(c.file()));
      assertEquals(c.dtype(), a.dtype(), c.file());
      assertTrue(a.dtype().isInteger() && !a.dtype().isFloat(), c.file());
      assertArrayEquals(c.shape(), a.shape(), c.file());
      assertArrayEquals(c.values(), a.toLongArray(), c.file());
      boolean[] truth = a.toBooleanArray();
      float[] floats = a.toFloatArray();
      for (int i = 0; i < truth.length; i++) {
        assertEquals(c.values()[i] != 0, truth[i], c.file() + " [" + i + "]");
        assertEquals((float) c.values()[i], floats[i], c.file() + " [" + i + "]");
      }
      assertThrows(IllegalArgumentException.class, a::toTensor, c.file());
    }
    // one-byte types have no byte order: '<u1' is '|u1'
    Path f = tmp.resolve("u1.npy");
    Files.write(
        f,
        file(1, "{'descr': '<u1', 'fortran_order': False, 'shape': (2,), }", new byte[] {0, -1}));
    assertArrayEquals(new long[] {0, 255}, Npy.read(f).toLongArray());
  }

  static Stream<Arguments> badFiles() {
    String ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
    byte[] two = floats(1, 2);
    return Stream.of(
        Arguments.of("fortran.npy", null, "Fortran"),
        Arguments.of("big_endian.npy", null, "big-endian"),
        Arguments.of("complex64.npy", null, "'<c8' is not read"),
        Arguments.of("int32_big_endian.npy", null, "big-endian dtype '>i4'"),
        Arguments.of(
            "bad magic",
            "not numpy at all, really not".getBytes(StandardCharsets.US_ASCII),
            "magic"),
        Arguments.of("empty file", new byte[0], "magic"),
        Arguments.of("version 9", file(9, ok, two), "version 9.0"),
        Arguments.of("truncated data", file(1, ok, floats(1)), "truncated"),
        Arguments.of("extra data", file(1, ok, floats(1, 2, 3)), "4 bytes after the data"),
        Arguments.of(
            "truncated header", Arrays.copyOf(file(1, ok, two), 30), "truncated in the header"),
        Arguments.of("no shape", file(1, "{'descr': '<f4', 'fortran_order': False}", two), "lacks"),
        Arguments.of(
            "unknown key",
            file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", two),
            "unexpected key 'x'"),
        Arguments.of("no dict", file(1, "descr <f4", two), "malformed header"),
        Arguments.of(
            "bad shape",
            file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1), }", two),
            "non-negative integer"),
        Arguments.of(
            "int not tuple",
            file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", two),
            "trailing comma"),
        Arguments.of(
            "bad bool",
            file(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", two),
            "True or False"),
        Arguments.of(
            "unterminated",
            file(1, "{'descr': '<f4, 'fortran_order': False, 'shape': (2,)", two),
            "malformed header"),
        Arguments.of(
            "huge dimension",
            file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999,), }", two),
            "too large"),
        Arguments.of(
            "bool not 0/1",
            file(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", new byte[] {1, 7}),
            "not 0 or 1"),
        Arguments.of(
            "float16 big-endian",
            file(1, "{'descr': '>f2', 'fortran_order': False, 'shape': (1,), }", new byte[2]),
            "big-endian"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badFiles")
  void badFilesAreClearErrorsNamingTheFile(String name, byte[] bytes, String problem)
      throws IOException {
    Path f = bytes == null ? resource(name) : Files.write(tmp.resolve("bad.npy"), bytes);
    NpyFormatException e = assertThrows(NpyFormatException.class, () -> Npy.read(f));
    assertTrue(e.getMessage().startsWith(f.toString() + ": "), e.getMessage());
    assertTrue(e.getMessage().contains(problem), e.getMessage());
  }

  @Test
  void aMissingFileNamesTheFile() {
    Path f = tmp.resolve("missing.npy");
    NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> Npy.read(f));
    assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
  }

  @Test
  void aHeaderClaimingHugeDataFailsFastWithoutAllocating() throws IOException {
    Path f = tmp.resolve("liar.npy");
    // 2^40 elements: more than any Java array
    Files.write(
        f,
        file(
            1,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1048576, 1048576), }",
            floats(1, 2)));
    NpyFormatException e = assertThrows(NpyFormatException.class, () -> Npy.read(f));
    assertTrue(e.getMessage().contains("1099511627776 elements"), e.getMessage());
    // 2^29 float64 elements (4 GiB) fit a Java array but not a 100-byte file: fails before
    // allocating
    Files.write(
        f,
        file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (536870912,), }", floats(1, 2)));
    e = assertThrows(NpyFormatException.class, () -> Npy.read(f));
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    assertTrue(e.getMessage().contains("4294967296 bytes"), e.getMessage());
    // a product that overflows a long
    Files.write(
        f,
        file(
            1,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2147483647, 2147483647, 2147483647), }",
            floats(1)));
    e = assertThrows(NpyFormatException.class, () -> Npy.read(f));
    assertTrue(e.getMessage().contains("overflows"), e.getMessage());
  }

  @Test
  void readTensorRejectsOtherRanksAndBools() throws IOException {
    Path f = tmp.resolve("r1.npy");
    Npy.write(f, new float[] {1, 2, 3}, 3);
    NpyFormatException e = assertThrows(NpyFormatException.class, () -> Npy.readTensor(f));
    assertTrue(e.getMessage().contains("rank 2, 3 or 4"), e.getMessage());
    assertThrows(NpyFormatException.class, () -> Npy.readTensor(resource("bools.npy")));
  }

  @Test
  void aFailedWriteLeavesNoFileAndKeepsTheOldOne() throws IOException {
    Path f = tmp.resolve("out.npy");
    assertThrows(IllegalArgumentException.class, () -> Npy.write(f, new float[5], 2, 3));
    assertTrue(Files.notExists(f));
    Npy.write(f, new float[] {1, 2}, 2);
    byte[] before = Files.readAllBytes(f);
    assertThrows(IllegalArgumentException.class, () -> Npy.write(f, new float[5], 2, 3));
    assertArrayEquals(before, Files.readAllBytes(f));
    try (Stream<Path> left = Files.list(tmp)) {
      assertEquals(1, left.count(), "no temp file left behind");
    }
    assertThrows(
        NoSuchFileException.class,
        () -> Npy.write(tmp.resolve("no/such/dir/x.npy"), new float[1], 1));
  }

  @Test
  void aNewFileIsWorldReadableAndAReplacedOneKeepsItsPermissions() throws IOException {
    Assumptions.assumeTrue(
        Files.getFileStore(tmp).supportsFileAttributeView(PosixFileAttributeView.class));
    Path f = tmp.resolve("perm.npy");
    Npy.write(f, new float[] {1}, 1);
    assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-rw----"));
    Npy.write(f, new double[] {2}, 1);
    assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
    assertArrayEquals(new double[] {2}, Npy.read(f).toDoubleArray());
  }

  /** A .npy file of the given version with the dict padded to 64 bytes, then the data. */
  static byte[] file(int major, String dict, byte[] data) {
    int prefix = major == 1 || major == 9 ? 10 : 12;
    int total = prefix + dict.length() + 1;
    int padded = (total + 63) / 64 * 64;
    String text = dict + " ".repeat(padded - total) + "\n";
    ByteBuffer b = ByteBuffer.allocate(padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
    if (prefix == 10) {
      b.putShort((short) text.length());
    } else {
      b.putInt(text.length());
    }
    b.put(text.getBytes(StandardCharsets.UTF_8)).put(data);
    return b.array();
  }

  static byte[] floats(float... x) {
    ByteBuffer b = ByteBuffer.allocate(4 * x.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : x) {
      b.putFloat(f);
    }
    return b.array();
  }
}
