package dev.flashattn4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.tensor.Npy;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * GGUF files written by the {@code gguf} Python package (scripts/make_gguf_fixtures.py, the way
 * llama.cpp's converter writes them) against the same weights from safetensors: the same logits bit
 * for bit where the weights are the same numbers (F32; BF16; Q8_0 against our own Q8_0 quantisation
 * at load, which is GGML's), Q4_0 through the Q8_0 kernels against its dequantised float32 weights;
 * the reader's dequantisation against the package's; and damaged files refused in one line.
 */
class GgufTest {

  private static final Path FIXTURES = Path.of("src/test/resources/gguf");

  /**
   * A model directory in {@code tmp}: the family's config.json and tokenizer.json, and the file.
   */
  private static Path directory(Path tmp, String family, String gguf) throws IOException {
    Path d = Files.createTempDirectory(tmp, family);
    for (String f : new String[] {"config.json", "tokenizer.json"}) {
      Files.copy(Fixtures.dir(family).resolve(f), d.resolve(f));
    }
    Files.copy(FIXTURES.resolve(gguf), d.resolve(gguf));
    return d;
  }

  private static int[] ids(String family) throws IOException {
    Fixtures.Case c = Fixtures.expected(family).cases().get(0);
    int[] all = Arrays.copyOf(c.ids(), c.ids().length + c.greedy().length);
    System.arraycopy(c.greedy(), 0, all, c.ids().length, c.greedy().length);
    return all;
  }

  private static float[] logits(Path dir, WeightFormat w, int[] ids) throws IOException {
    try (Model m = Model.load(dir, ModelOptions.defaults().withThreads(2).withWeights(w))) {
      return Q8ModelTest.allLogits(m, ids);
    }
  }

  private static void assertSameBits(float[] want, float[] got, String what) {
    assertEquals(want.length, got.length);
    for (int i = 0; i < want.length; i++) {
      if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
        throw new AssertionError(what + ": logit " + i + " is " + got[i] + ", not " + want[i]);
      }
    }
  }

  /**
   * Bit for bit: the file holds the same numbers as the safetensors checkpoint (llama's q and k
   * rows permuted back, gemma's 1 + w norms, qwen2's BF16 kept as BF16), or the same Q8_0 bytes as
   * our quantisation at load (llama's down_proj, K = 112, is F32 in the file and quantised at load
   * on both sides).
   */
  @ParameterizedTest(name = "{1} as {2}")
  @CsvSource({
    "llama, llama-f32.gguf, FLOAT32",
    "gemma2, gemma2-f32.gguf, FLOAT32",
    "qwen2, qwen2-bf16.gguf, AS_STORED",
    "llama, llama-q8_0.gguf, Q8_0",
    "qwen2, qwen2-q8_0.gguf, Q8_0",
    "qwen2, qwen2-q8_0.gguf, AS_STORED"
  })
  void sameLogitsAsTheSafetensorsCheckpoint(
      String family, String gguf, WeightFormat format, @TempDir Path tmp) throws IOException {
    int[] ids = ids(family);
    WeightFormat reference =
        format == WeightFormat.AS_STORED && gguf.contains("q8_0") ? WeightFormat.Q8_0 : format;
    float[] want = logits(Fixtures.dir(family), reference, ids);
    Path dir = directory(tmp, family, gguf);
    assertSameBits(want, logits(dir, format, ids), gguf + " (directory)");
    assertSameBits(want, logits(dir.resolve(gguf), format, ids), gguf + " (file)");
  }

  /**
   * Q4_0 (mistral, llama architecture: permuted rows) through the Q8_0 kernels equals the float32
   * product of its dequantised weights bit for bit, and is near the float32 checkpoint: relative
   * logit error measured 0.240 (4-bit weights of a random-weight model: a step of a sixteenth of
   * the block's range), budget 0.35.
   */
  @Test
  void q4IsServedByTheQ8KernelsExactly(@TempDir Path tmp) throws IOException {
    int[] ids = ids("mistral");
    Path dir = directory(tmp, "mistral", "mistral-q4_0.gguf");
    try (Model m = Model.load(dir, ModelOptions.defaults().withThreads(2))) {
      assertTrue(m.hasQ8Weights());
    }
    float[] q4 = logits(dir, WeightFormat.AS_STORED, ids);
    assertSameBits(logits(dir, WeightFormat.FLOAT32, ids), q4, "Q4_0 as float32");
    float[] f32 = logits(Fixtures.dir("mistral"), WeightFormat.FLOAT32, ids);
    double worst = 0;
    double max = 0;
    for (int i = 0; i < f32.length; i++) {
      worst = Math.max(worst, Math.abs(q4[i] - f32[i]));
      max = Math.max(max, Math.abs(f32[i]));
    }
    System.out.printf(Locale.ROOT, "Q4_0 mistral: relative logit error %.4f%n", worst / max);
    assertTrue(worst / max <= 0.35, "relative logit error " + worst / max);
  }

  /**
   * A .gguf file alone (no config.json, no tokenizer.json beside it): the config from its metadata
   * and the tokenizer from tokenizer.ggml.* give the Python tokenizer's ids and, bit for bit, the
   * logits of the safetensors checkpoint with its config.json.
   */
  @ParameterizedTest(name = "{1}")
  @CsvSource({"qwen2, qwen2-q8_0.gguf, Q8_0", "qwen2, qwen2-bf16.gguf, AS_STORED"})
  void aGgufFileAloneBuildsItsConfigAndTokenizer(
      String family, String gguf, WeightFormat format, @TempDir Path tmp) throws IOException {
    Path d = Files.createTempDirectory(tmp, "alone");
    Files.copy(FIXTURES.resolve(gguf), d.resolve(gguf));
    ModelOptions options = ModelOptions.defaults().withThreads(2).withWeights(format);
    int[] ids = ids(family);
    float[] want = logits(Fixtures.dir(family), format, ids);
    for (Path path : new Path[] {d.resolve(gguf), d}) {
      try (Model alone = Model.load(path, options)) {
        for (Fixtures.Case c : Fixtures.expected(family).cases()) {
          assertArrayEquals(c.ids(), alone.tokenizer().encode(c.prompt(), true), c.prompt());
          assertEquals(c.prompt(), alone.tokenizer().decode(c.ids(), true));
        }
        assertSameBits(want, Q8ModelTest.allLogits(alone, ids), gguf + " alone");
      }
    }
  }

  /** What GGUF metadata cannot say is refused, asking for the file. */
  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "llama-f32.gguf, config.json, rope_freqs",
    "gemma2-f32.gguf, config.json, query_pre_attn_scalar"
  })
  void aGgufFileAloneThatNeedsItsConfig(String gguf, String file, String why, @TempDir Path tmp)
      throws IOException {
    Files.copy(FIXTURES.resolve(gguf), tmp.resolve(gguf));
    String m = refused(tmp.resolve(gguf));
    assertTrue(m.contains(why) && m.contains("put the model's " + file), m);
  }

  /** blk.0.attn_q dequantised by the reader equals gguf.quants.dequantize, in the file's order. */
  @ParameterizedTest
  @ValueSource(strings = {"llama-q8_0.gguf", "mistral-q4_0.gguf", "qwen2-q8_0.gguf"})
  void dequantisationEqualsThePythonPackage(String gguf) throws IOException {
    float[] want = Npy.read(FIXTURES.resolve(gguf + ".attn_q.npy")).toFloatArray();
    try (Gguf g = Gguf.open(FIXTURES.resolve(gguf))) {
      Gguf.Tensor t = g.tensors().get("blk.0.attn_q.weight");
      float[] got = g.floats(t);
      assertEquals(want.length, got.length);
      for (int i = 0; i < want.length; i++) {
        assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), "" + i);
      }
      assertEquals("llama", g.metaString("general.architecture").replace("qwen2", "llama"));
    }
  }

  /**
   * A file built here byte by byte (GGUF v3, alignment 32): an F16, a BF16, a Q8_0 and a Q4_0
   * tensor with hand-computed values, and metadata of every scalar type and a string array.
   */
  @Test
  void aHandBuiltFile(@TempDir Path tmp) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(Gguf.MAGIC).putInt(3).putLong(4).putLong(5);
    putString(b, "general.architecture");
    b.putInt(8);
    putString(b, "llama");
    putString(b, "a.u8");
    b.putInt(0).put((byte) 200);
    putString(b, "a.i16");
    b.putInt(3).putShort((short) -5);
    putString(b, "a.f32");
    b.putInt(6).putFloat(0.25f);
    putString(b, "a.strings");
    b.putInt(9).putInt(8).putLong(2);
    putString(b, "x");
    putString(b, "yz");
    // tensor infos: name, dims, ne..., type, offset (relative to the aligned data section)
    putString(b, "h");
    b.putInt(1).putLong(2).putInt(1).putLong(0); // F16 [2]
    putString(b, "bf");
    b.putInt(1).putLong(2).putInt(30).putLong(32); // BF16 [2]
    putString(b, "q8");
    b.putInt(2).putLong(32).putLong(1).putInt(8).putLong(64); // Q8_0 [32, 1]: 34 bytes
    putString(b, "q4");
    b.putInt(2).putLong(32).putLong(1).putInt(2).putLong(128); // Q4_0 [32, 1]: 18 bytes
    int data = (b.position() + 31) / 32 * 32;
    b.position(data);
    b.putShort(Float.floatToFloat16(1.5f)).putShort(Float.floatToFloat16(-2f));
    b.position(data + 32);
    b.putShort((short) (Float.floatToIntBits(3f) >>> 16)).putShort((short) 0xBF80); // 3, -1
    b.position(data + 64);
    b.putShort(Float.floatToFloat16(0.5f));
    for (int i = 0; i < 32; i++) {
      b.put((byte) (i - 16)); // q = −16 … 15
    }
    b.position(data + 128);
    b.putShort(Float.floatToFloat16(2f));
    for (int j = 0; j < 16; j++) {
      b.put((byte) (j | (15 - j) << 4)); // value j: j − 8; value j + 16: 7 − j
    }
    Path f = tmp.resolve("hand.gguf");
    Files.write(f, Arrays.copyOf(b.array(), data + 128 + 18));
    try (Gguf g = Gguf.open(f)) {
      assertEquals("llama", g.metaString("general.architecture"));
      assertEquals(200L, g.meta("a.u8"));
      assertEquals(-5L, g.meta("a.i16"));
      assertEquals(0.25, g.metaDouble("a.f32"));
      assertArrayEquals(new String[] {"x", "yz"}, g.metaStrings("a.strings"));
      assertArrayEquals(new float[] {1.5f, -2f}, g.floats(g.tensors().get("h")));
      assertArrayEquals(new float[] {3f, -1f}, g.floats(g.tensors().get("bf")));
      float[] q8 = g.floats(g.tensors().get("q8"));
      float[] q4 = g.floats(g.tensors().get("q4"));
      for (int i = 0; i < 32; i++) {
        assertEquals((i - 16) * 0.5f, q8[i]);
        assertEquals(2f * (i < 16 ? i - 8 : 7 - (i - 16)), q4[i], "q4 " + i);
      }
    }
  }

  private static void putString(ByteBuffer b, String s) {
    byte[] u = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    b.putLong(u.length).put(u);
  }

  /** A GGUF file alone brings its chat template (tokenizer.chat_template) with its tokens. */
  @Test
  void aGgufFileAloneBringsItsChatTemplate(@TempDir Path tmp) throws IOException {
    Path file = Files.copy(FIXTURES.resolve("qwen2-q8_0.gguf"), tmp.resolve("qwen2-q8_0.gguf"));
    try (Model m = Model.load(file)) {
      ChatTemplate t = m.chatTemplate().orElseThrow();
      assertEquals(
          "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
              + "<|im_start|>assistant\n",
          t.render(List.of(new ChatTemplate.Message("user", "Hi")), true));
    }
  }

  @Test
  void ggmlNamesMapToTransformers() {
    assertEquals(
        "model.layers.3.self_attn.o_proj.weight",
        GgufSource.hfName("blk.3.attn_output.weight", false));
    assertEquals(
        "model.layers.0.post_attention_layernorm.weight",
        GgufSource.hfName("blk.0.ffn_norm.weight", false));
    assertEquals(
        "model.layers.0.pre_feedforward_layernorm.weight",
        GgufSource.hfName("blk.0.ffn_norm.weight", true));
    assertEquals(
        "model.layers.1.post_feedforward_layernorm.weight",
        GgufSource.hfName("blk.1.post_ffw_norm.weight", true));
    assertEquals(
        "model.layers.1.self_attn.q_proj.bias", GgufSource.hfName("blk.1.attn_q.bias", false));
    assertEquals("lm_head.weight", GgufSource.hfName("output.weight", false));
    assertEquals(null, GgufSource.hfName("blk.x.attn_q.weight", false));
    assertEquals(null, GgufSource.hfName("blk.0.attn_q.scale", false));
  }

  // ---------------------------------------------------------------------------------------------
  // Damaged and unsupported files: one line, naming the file, nothing allocated by a bad count

  private static Path damaged(Path tmp, String family, java.util.function.Consumer<ByteBuffer> harm)
      throws IOException {
    Path d = directory(tmp, family, family.equals("qwen2") ? "qwen2-q8_0.gguf" : "llama-f32.gguf");
    Path f;
    try (var s = Files.list(d)) {
      f = s.filter(p -> p.toString().endsWith(".gguf")).findFirst().orElseThrow();
    }
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
    harm.accept(b);
    Files.write(f, Arrays.copyOf(b.array(), b.limit()));
    return d;
  }

  private static String refused(Path dir) {
    ModelFormatException e =
        assertThrows(ModelFormatException.class, () -> Model.load(dir).close());
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    assertTrue(e.getMessage().contains(".gguf"), e.getMessage());
    return e.getMessage();
  }

  @Test
  void badMagicIsNotAGgufFile(@TempDir Path tmp) throws IOException {
    String m = refused(damaged(tmp, "llama", b -> b.put(0, (byte) 'X')));
    assertTrue(m.contains("not a GGUF file"), m);
  }

  @Test
  void unsupportedVersion(@TempDir Path tmp) throws IOException {
    String m = refused(damaged(tmp, "llama", b -> b.putInt(4, 7)));
    assertTrue(m.contains("version 7"), m);
  }

  @ParameterizedTest(name = "cut to {0} bytes")
  @ValueSource(ints = {30, 100, 2000, 300000})
  void truncatedFiles(int length, @TempDir Path tmp) throws IOException {
    String m = refused(damaged(tmp, "llama", b -> b.limit(length)));
    assertTrue(m.contains("truncated") || m.contains("past the end"), m);
  }

  @Test
  void absurdCounts(@TempDir Path tmp) throws IOException {
    assertTrue(
        refused(damaged(tmp, "llama", b -> b.putLong(8, 1L << 60))).contains("tensor count"));
    assertTrue(refused(damaged(tmp, "qwen2", b -> b.putLong(16, -1L))).contains("metadata count"));
    // the first key's length
    assertTrue(refused(damaged(tmp, "qwen2", b -> b.putLong(24, 1L << 62))).contains("needs"));
  }

  @Test
  void aTensorPastTheEnd(@TempDir Path tmp) throws IOException {
    // the last tensor info's offset (the 8 bytes before the data section's padding) made huge
    String m =
        refused(
            damaged(
                tmp,
                "llama",
                b -> {
                  int at = lastTensorOffsetAt(b);
                  b.putLong(at, 1L << 40);
                }));
    assertTrue(m.contains("past the end"), m);
  }

  @Test
  void metadataThatContradictsTheConfig(@TempDir Path tmp) throws IOException {
    Path d = directory(tmp, "llama", "llama-f32.gguf");
    Files.writeString(
        d.resolve("config.json"),
        Files.readString(d.resolve("config.json"))
            .replace("\"intermediate_size\": 112", "\"intermediate_size\": 96"));
    String m = refused(d);
    assertTrue(m.contains("feed_forward_length") || m.contains("config.json implies"), m);
  }

  @Test
  void twoGgufFilesInOneDirectoryAreAmbiguous(@TempDir Path tmp) throws IOException {
    Path d = directory(tmp, "llama", "llama-f32.gguf");
    Files.copy(FIXTURES.resolve("llama-q8_0.gguf"), d.resolve("llama-q8_0.gguf"));
    String m = refused(d);
    assertTrue(m.contains("2 .gguf files"), m);
  }

  @Test
  void anArchitectureNotSupported(@TempDir Path tmp) throws IOException {
    // "llama" → "llamb": general.architecture is the first key, its value after the key
    String m =
        refused(
            damaged(
                tmp,
                "llama",
                b -> {
                  byte[] all = Arrays.copyOf(b.array(), b.limit());
                  int at = indexOf(all, "general.architecture".getBytes()) + 20 + 4 + 8;
                  b.put(at + 4, (byte) 'b');
                }));
    assertTrue(m.contains("\"llamb\" is not supported"), m);
  }

  /** Where the last tensor info's offset lies: parsed as the reader does (strings, dims). */
  private static int lastTensorOffsetAt(ByteBuffer b) {
    long tensors = b.getLong(8);
    long kvs = b.getLong(16);
    int at = 24;
    for (long i = 0; i < kvs; i++) {
      at += 8 + (int) b.getLong(at); // key
      int type = b.getInt(at);
      at += 4;
      at = skipValue(b, at, type);
    }
    int last = -1;
    for (long i = 0; i < tensors; i++) {
      at += 8 + (int) b.getLong(at);
      int dims = b.getInt(at);
      at += 4 + 8 * dims + 4;
      last = at;
      at += 8;
    }
    return last;
  }

  private static int skipValue(ByteBuffer b, int at, int type) {
    return switch (type) {
      case 0, 1, 7 -> at + 1;
      case 2, 3 -> at + 2;
      case 4, 5, 6 -> at + 4;
      case 10, 11, 12 -> at + 8;
      case 8 -> at + 8 + (int) b.getLong(at);
      case 9 -> {
        int elem = b.getInt(at);
        long n = b.getLong(at + 4);
        int p = at + 12;
        for (long i = 0; i < n; i++) {
          p = skipValue(b, p, elem);
        }
        yield p;
      }
      default -> throw new IllegalStateException("type " + type);
    };
  }

  private static int indexOf(byte[] a, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= a.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (a[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
