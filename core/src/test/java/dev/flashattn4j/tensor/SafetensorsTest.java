package dev.flashattn4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SafetensorsTest {

  @TempDir Path tmp;

  private static Path resource(String name) {
    return Path.of("src/test/resources/safetensors", name);
  }

  @Test
  void readsTheFileHuggingFacesWriterWrote() throws IOException {
    // scripts/make_golden_safetensors.py: safetensors.torch.save_file
    try (Safetensors st = Safetensors.open(resource("golden.safetensors"))) {
      assertEquals(
          List.of("e.i64", "d.f64", "a.f32", "empty", "scalar", "c.bf16", "b.f16"), st.names());
      assertEquals(Map.of("format", "pt", "note", "golden \u2713"), st.metadata());
      SafetensorsEntry bf = st.entry("c.bf16");
      assertEquals(SafetensorsDtype.BF16, bf.dtype());
      assertArrayEquals(new long[] {4, 2}, bf.shape());
      assertEquals(0, st.entry("scalar").rank());
      assertEquals(1, st.entry("scalar").elements());
      assertEquals(0, st.entry("empty").elements());
      float[] expected = Npy.read(resource("expected.npy")).toFloatArray();
      float[] got = new float[expected.length];
      int at = 0;
      for (String name : st.names()) {
        if (st.entry(name).dtype().isFloat()) {
          st.readFloats(name, got, at);
          at += (int) st.entry(name).elements();
        }
      }
      assertEquals(expected.length, at);
      for (int i = 0; i < expected.length; i++) {
        assertEquals(
            Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(got[i]), "element " + i);
      }
      float[] bits = Npy.read(resource("bf16_bits.npy")).toFloatArray();
      short[] raw = st.bits16("c.bf16");
      for (int i = 0; i < bits.length; i++) {
        assertEquals((short) bits[i], raw[i]);
      }
      MemorySegment ints = st.segment("e.i64");
      assertEquals(16, ints.byteSize());
      assertEquals(
          -3L, ints.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8));
      assertTrue(ints.isReadOnly());
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> st.floats("e.i64"));
      assertTrue(e.getMessage().contains("not floating-point"), e.getMessage());
    }
  }

  @Test
  void roundTripsEveryFloatTypeAndShape() throws IOException {
    SplittableRandom r = new SplittableRandom(11);
    for (int round = 0; round < 40; round++) {
      SafetensorsFiles w = new SafetensorsFiles();
      int count = 1 + r.nextInt(5);
      float[][] values = new float[count][];
      String[] kinds = new String[count];
      for (int t = 0; t < count; t++) {
        long[] shape = randomShape(r);
        int n = (int) product(shape);
        values[t] = new float[n];
        for (int i = 0; i < n; i++) {
          values[t][i] = (float) r.nextGaussian();
        }
        kinds[t] = List.of("F32", "F16", "BF16").get(r.nextInt(3));
        switch (kinds[t]) {
          case "F32" -> w.f32("t" + t, values[t], shape);
          case "F16" -> w.f16("t" + t, values[t], shape);
          default -> w.bf16("t" + t, values[t], shape);
        }
      }
      Path f = w.write(tmp.resolve("r" + round + ".safetensors"));
      try (Safetensors st = Safetensors.open(f)) {
        for (int t = 0; t < count; t++) {
          float[] got = st.floats("t" + t);
          for (int i = 0; i < got.length; i++) {
            float want =
                switch (kinds[t]) {
                  case "F32" -> values[t][i];
                  case "F16" -> Float.float16ToFloat(Float.floatToFloat16(values[t][i]));
                  default -> Float.intBitsToFloat(SafetensorsFiles.toBf16(values[t][i]) << 16);
                };
            assertEquals(want, got[i], 0f);
          }
        }
      }
    }
  }

  private static long[] randomShape(SplittableRandom r) {
    long[] s = new long[r.nextInt(4)];
    for (int i = 0; i < s.length; i++) {
      s[i] = r.nextInt(6);
    }
    return s;
  }

  private static long product(long[] s) {
    long p = 1;
    for (long x : s) {
      p *= x;
    }
    return p;
  }

  private static final String F32_2 =
      "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";

  static Stream<Arguments> badFiles() {
    byte[] eight = new byte[8];
    return Stream.of(
        Arguments.of("empty file", new byte[0], "fewer than the 8"),
        Arguments.of("seven bytes", new byte[7], "fewer than the 8"),
        Arguments.of("length 0", SafetensorsFiles.file("", eight), "too short"),
        Arguments.of("length past the end", lengthThen(1000, F32_2), "truncated"),
        Arguments.of("length 2^63", lengthThen(Long.MIN_VALUE, F32_2), "above the limit"),
        Arguments.of("length 2^62", lengthThen(1L << 62, F32_2), "above the limit"),
        Arguments.of("not json", SafetensorsFiles.file("[1,2]", eight), "does not start with '{'"),
        Arguments.of("truncated json", SafetensorsFiles.file("{\"t\":{", eight), "malformed"),
        Arguments.of("trailing comma", SafetensorsFiles.file("{\"a\":1,}", eight), "malformed"),
        Arguments.of(
            "bad utf-8",
            withHeaderBytes(new byte[] {'{', (byte) 0xC3, '}'}, eight),
            "not valid UTF-8"),
        Arguments.of(
            "duplicate tensor",
            SafetensorsFiles.file(
                "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                    + "\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                eight),
            "duplicate key"),
        Arguments.of("unknown dtype", one("\"F33\"", "[2]", "[0,8]", 8), "\"F33\""),
        Arguments.of("dtype not string", one("4", "[2]", "[0,8]", 8), "must be a string"),
        Arguments.of("negative dim", one("\"F32\"", "[-2]", "[0,8]", 8), "non-negative"),
        Arguments.of("float dim", one("\"F32\"", "[2.0]", "[0,8]", 8), "non-negative integers"),
        Arguments.of("shape not array", one("\"F32\"", "2", "[0,8]", 8), "must be an array"),
        Arguments.of("three offsets", one("\"F32\"", "[2]", "[0,4,8]", 8), "must hold 2"),
        Arguments.of("offsets backwards", one("\"F32\"", "[0]", "[8,0]", 8), "end first"),
        Arguments.of("size mismatch", one("\"F32\"", "[3]", "[0,8]", 8), "hold 8"),
        Arguments.of("data missing", one("\"F32\"", "[4]", "[0,16]", 8), "truncated"),
        Arguments.of("data extra", one("\"F32\"", "[1]", "[0,4]", 8), "4 bytes after"),
        Arguments.of("not at 0", one("\"F32\"", "[1]", "[4,8]", 8), "must start at 0"),
        Arguments.of(
            "gap",
            SafetensorsFiles.file(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                    + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
                new byte[12]),
            "(a gap)"),
        Arguments.of(
            "overlap",
            SafetensorsFiles.file(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                    + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                new byte[8]),
            "(they overlap)"),
        Arguments.of(
            "extra key",
            SafetensorsFiles.file(
                "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", eight),
            "unexpected key \"x\""),
        Arguments.of(
            "missing key",
            SafetensorsFiles.file("{\"t\":{\"dtype\":\"F32\",\"shape\":[2]}}", eight),
            "lacks \"data_offsets\""),
        Arguments.of(
            "metadata not strings",
            SafetensorsFiles.file("{\"__metadata__\":{\"a\":1}}", new byte[0]),
            "must be a string"),
        Arguments.of(
            "tensor not object", SafetensorsFiles.file("{\"t\":[1]}", eight), "must be an object"),
        Arguments.of(
            "huge shape",
            one("\"F32\"", "[4294967296,4294967296]", "[0,8]", 8),
            "more bytes than a long"),
        Arguments.of(
            "huge offsets", one("\"F32\"", "[1099511627776]", "[0,4398046511104]", 8), "truncated"),
        Arguments.of(
            "offset beyond long",
            one("\"F32\"", "[2]", "[0,99999999999999999999]", 8),
            "fit a long"),
        Arguments.of(
            "deep nesting",
            SafetensorsFiles.file("{\"a\":" + "[".repeat(100_000) + "}", eight),
            "nested deeper"));
  }

  private static byte[] one(String dtype, String shape, String offsets, int dataBytes) {
    return SafetensorsFiles.file(
        "{\"t\":{\"dtype\":"
            + dtype
            + ",\"shape\":"
            + shape
            + ",\"data_offsets\":"
            + offsets
            + "}}",
        new byte[dataBytes]);
  }

  private static byte[] lengthThen(long n, String header) {
    byte[] text = header.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + text.length + 8).order(ByteOrder.LITTLE_ENDIAN);
    return b.putLong(n).put(text).array();
  }

  private static byte[] withHeaderBytes(byte[] header, byte[] data) {
    ByteBuffer b =
        ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    return b.putLong(header.length).put(header).put(data).array();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badFiles")
  void badFilesAreClearErrorsNamingTheFile(String name, byte[] bytes, String problem)
      throws IOException {
    Path f = Files.write(tmp.resolve("bad.safetensors"), bytes);
    SafetensorsFormatException e =
        assertThrows(SafetensorsFormatException.class, () -> Safetensors.open(f));
    assertTrue(e.getMessage().startsWith(f + ": "), e.getMessage());
    assertTrue(e.getMessage().contains(problem), e.getMessage());
  }

  @Test
  void aMissingFileNamesTheFile() {
    Path f = tmp.resolve("missing.safetensors");
    NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> Safetensors.open(f));
    assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
  }

  @Test
  void aFileThatLiesAboutItsSizesFailsBeforeAllocatingThem() throws IOException {
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    long id = Thread.currentThread().threadId();
    byte[][] liars = {
      lengthThen(99_999_999L, F32_2), // a 100 MB header in a 60-byte file
      one("\"F32\"", "[268435456]", "[0,1073741824]", 8), // 1 GiB of data in 8 bytes
      one("\"BF16\"", "[65536,65536]", "[0,8589934592]", 8), // 8 GiB
    };
    for (byte[] liar : liars) {
      Path f = Files.write(tmp.resolve("liar.safetensors"), liar);
      Safetensors.open(resource("golden.safetensors")).close(); // warm up the classes
      long before = mx.getThreadAllocatedBytes(id);
      assertThrows(SafetensorsFormatException.class, () -> Safetensors.open(f));
      long allocated = mx.getThreadAllocatedBytes(id) - before;
      assertTrue(allocated < 1 << 20, "allocated " + allocated + " bytes");
    }
  }

  @Test
  void aClosedFileRefusesReadsAndMissingTensorsAreNamed() throws IOException {
    Path f = new SafetensorsFiles().f32("w", new float[] {1, 2}, 2).write(tmp.resolve("c.st"));
    Safetensors st = Safetensors.open(f);
    IllegalArgumentException missing =
        assertThrows(IllegalArgumentException.class, () -> st.floats("v"));
    assertTrue(missing.getMessage().contains("no tensor \"v\""), missing.getMessage());
    assertThrows(IllegalArgumentException.class, () -> st.readFloats("w", new float[2], 1));
    st.close();
    st.close();
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> st.floats("w"));
    assertTrue(e.getMessage().contains("closed"), e.getMessage());
    assertThrows(IllegalStateException.class, () -> st.segment("w"));
  }

  // ---------------------------------------------------------------------------------------------
  // Fuzzing (seeded): whatever the bytes, open() either gives a file whose every tensor reads,
  // or throws SafetensorsFormatException; never another exception, never a hang.

  private static byte[] sample(SplittableRandom r) {
    SafetensorsFiles w = new SafetensorsFiles().meta("format", "pt");
    int count = 1 + r.nextInt(4);
    for (int t = 0; t < count; t++) {
      long[] shape = randomShape(r);
      float[] v = new float[(int) product(shape)];
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) r.nextGaussian();
      }
      switch (r.nextInt(3)) {
        case 0 -> w.f32("layer." + t + ".weight", v, shape);
        case 1 -> w.f16("layer." + t + ".weight", v, shape);
        default -> w.bf16("layer." + t + ".weight", v, shape);
      }
    }
    return w.bytes();
  }

  /** Opens the bytes; true when they opened (and every tensor was read), false when refused. */
  private boolean openAndReadAll(byte[] bytes, String what) throws IOException {
    Path f = Files.write(tmp.resolve("fuzz.safetensors"), bytes);
    try (Safetensors st = Safetensors.open(f)) {
      for (SafetensorsEntry e : st.entries()) {
        if (e.dtype().isFloat()) {
          assertEquals(e.elements(), st.floats(e.name()).length, what);
        } else {
          assertEquals(e.byteSize(), st.segment(e.name()).byteSize(), what);
        }
      }
      return true;
    } catch (SafetensorsFormatException expected) {
      assertTrue(expected.getMessage().startsWith(f + ": "), what);
      return false;
    } catch (RuntimeException | Error e) {
      throw new AssertionError(what + ": " + e, e);
    }
  }

  @Test
  void fuzzEveryTruncationFails() throws IOException {
    SplittableRandom r = new SplittableRandom(1);
    for (int round = 0; round < 6; round++) {
      byte[] good = sample(r);
      assertTrue(openAndReadAll(good, "the whole file"));
      for (int len = 0; len < good.length; len++) {
        byte[] cut = java.util.Arrays.copyOf(good, len);
        assertTrue(!openAndReadAll(cut, "truncated to " + len), "truncated to " + len + " opened");
      }
    }
  }

  @Test
  void fuzzBitFlips() throws IOException {
    SplittableRandom r = new SplittableRandom(2);
    int opened = 0;
    int refused = 0;
    for (int round = 0; round < 1500; round++) {
      byte[] good = sample(r);
      byte[] bad = good.clone();
      int flips = 1 + r.nextInt(3);
      boolean headerTouched = false;
      long n = ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
      for (int i = 0; i < flips; i++) {
        int at = r.nextInt(bad.length);
        bad[at] ^= (byte) (1 << r.nextInt(8));
        headerTouched |= at < 8 + n;
      }
      boolean ok = openAndReadAll(bad, "round " + round);
      if (!headerTouched) {
        assertTrue(ok, "round " + round + ": a flip in the data only must still open");
      }
      if (ok) {
        opened++;
      } else {
        refused++;
      }
    }
    // Both outcomes happen: the fuzzer reaches the reader's checks and its reads.
    assertTrue(opened > 100 && refused > 100, opened + " opened, " + refused + " refused");
  }

  @Test
  void fuzzRandomHeaders() throws IOException {
    SplittableRandom r = new SplittableRandom(3);
    String[] tokens = {
      "{",
      "}",
      "[",
      "]",
      ",",
      ":",
      "\"t\"",
      "\"dtype\"",
      "\"shape\"",
      "\"data_offsets\"",
      "\"F32\"",
      "\"BF16\"",
      "\"__metadata__\"",
      "0",
      "4",
      "8",
      "-1",
      "1e3",
      "2.5",
      "true",
      "null",
      "\"\\u00e9\"",
      "\"\\ud800\"",
      " ",
      "99999999999999999999",
      "\"a\\\"b\""
    };
    int opened = 0;
    for (int round = 0; round < 3000; round++) {
      StringBuilder h = new StringBuilder();
      if (r.nextInt(4) > 0) {
        // a plausible header with random values
        int count = r.nextInt(3);
        h.append('{');
        for (int t = 0; t < count; t++) {
          h.append(t > 0 ? "," : "").append("\"t").append(t).append("\":{\"dtype\":");
          h.append(tokens[10 + r.nextInt(2)]).append(",\"shape\":[");
          h.append(r.nextInt(3)).append("],\"data_offsets\":[");
          int a = r.nextInt(12);
          h.append(a).append(',').append(a + r.nextInt(12)).append("]}");
        }
        h.append('}');
      } else {
        int len = r.nextInt(12);
        for (int i = 0; i < len; i++) {
          h.append(tokens[r.nextInt(tokens.length)]);
        }
      }
      byte[] data = new byte[r.nextInt(24)];
      if (openAndReadAll(SafetensorsFiles.file(h.toString(), data), "header " + h)) {
        opened++;
      }
    }
    assertTrue(opened > 10, opened + " of the random headers opened");
  }

  @Test
  void fuzzRandomBytes() throws IOException {
    SplittableRandom r = new SplittableRandom(4);
    for (int round = 0; round < 2000; round++) {
      byte[] bytes = new byte[r.nextInt(64)];
      for (int i = 0; i < bytes.length; i++) {
        bytes[i] = (byte) r.nextInt(256);
      }
      if (bytes.length >= 8 && r.nextBoolean()) {
        // a length that fits the file, so the JSON parser sees the bytes
        ByteBuffer.wrap(bytes)
            .order(ByteOrder.LITTLE_ENDIAN)
            .putLong(0, r.nextInt(bytes.length - 7));
        bytes[8 % bytes.length] = '{';
      }
      openAndReadAll(bytes, "random bytes round " + round);
    }
  }
}
