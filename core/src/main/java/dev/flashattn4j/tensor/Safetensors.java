package dev.flashattn4j.tensor;

import dev.flashattn4j.internal.Checks;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file (Hugging Face's checkpoint format), memory-mapped: {@code N}, an 8-byte
 * little-endian length; {@code N} bytes of a UTF-8 JSON object that names every tensor with its
 * {@code dtype}, {@code shape} and {@code data_offsets} (and may hold a {@code __metadata__} map of
 * strings); then the data, every tensor's bytes at its offsets, little-endian.
 *
 * <p>{@link #open} checks the whole header before anything else: the length is at least 2 and at
 * most {@value #MAX_HEADER_BYTES} bytes and within the file; the text is valid UTF-8 and strict
 * JSON (parsed inside core, {@link StrictJson}); every tensor has exactly a known dtype, a shape of
 * non-negative integers and two offsets; its byte count is its dtype's size times its element count
 * (no overflow); and the tensors, sorted by offset, tile the data region exactly (no gap, no
 * overlap, no byte before or after), as the reference implementation requires. A file that lies
 * about its sizes therefore fails with a {@link SafetensorsFormatException} (an {@link
 * IllegalArgumentException} naming the file) before anything the size of a tensor is allocated.
 *
 * <p>The data is mapped, not read: {@link #segment} is a read-only view, {@link #floats} and {@link
 * #bits16} copy one tensor out (float16, bfloat16 and float64 widened or rounded to float32). The
 * mapping lives in a shared arena, so threads may read at once; {@link #close()} unmaps it, after
 * which every read throws {@link IllegalStateException}.
 */
public final class Safetensors implements AutoCloseable {

  /** The reference implementation's limit on the header's length. */
  public static final long MAX_HEADER_BYTES = 100_000_000L;

  /** The largest array Java can hold. */
  private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

  private static final ValueLayout.OfFloat F32 =
      ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfShort I16 =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfDouble F64 =
      ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private final Path file;
  private final Arena arena;
  private final MemorySegment data;
  private final Map<String, SafetensorsEntry> entries;
  private final Map<String, String> metadata;

  private Safetensors(
      Path file,
      Arena arena,
      MemorySegment data,
      Map<String, SafetensorsEntry> entries,
      Map<String, String> metadata) {
    this.file = file;
    this.arena = arena;
    this.data = data;
    this.entries = entries;
    this.metadata = metadata;
  }

  /**
   * Opens and checks a safetensors file, and maps it.
   *
   * @throws SafetensorsFormatException when the file is not a safetensors file or its header does
   *     not describe it
   * @throws NoSuchFileException when there is no such file
   * @throws IOException when it cannot be read
   */
  public static Safetensors open(Path file) throws IOException {
    Checks.notNull(file, "file");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < 8) {
        throw new SafetensorsFormatException(
            file,
            "not a safetensors file: " + size + " bytes, fewer than the 8 of the header's length");
      }
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, len, 0);
      long n = len.getLong(0);
      checkHeaderLength(file, n, size);
      ByteBuffer text = ByteBuffer.allocate((int) n);
      readFully(ch, text, 8);
      if (text.hasRemaining()) {
        throw new SafetensorsFormatException(file, "the file shrank while its header was read");
      }
      long dataBytes = size - 8 - n;
      Header header = parseHeader(file, decode(file, text.array()), dataBytes);
      Arena arena = Arena.ofShared();
      try {
        MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        MemorySegment data = mapped.asSlice(8 + n, dataBytes).asReadOnly();
        return new Safetensors(file, arena, data, header.entries, header.metadata);
      } catch (IOException | RuntimeException | Error e) {
        arena.close();
        throw e;
      }
    } catch (NoSuchFileException e) {
      throw new NoSuchFileException(file.toString(), null, "no such file");
    }
  }

  private static void checkHeaderLength(Path file, long n, long size) {
    if (n < 0 || n > MAX_HEADER_BYTES) {
      throw new SafetensorsFormatException(
          file,
          "the header's length "
              + Long.toUnsignedString(n)
              + " is above the limit of "
              + MAX_HEADER_BYTES
              + " bytes (a file of "
              + size
              + " bytes)");
    }
    if (n > size - 8) {
      throw new SafetensorsFormatException(
          file,
          "truncated: the header's length is "
              + n
              + " bytes but the file holds "
              + (size - 8)
              + " after it");
    }
    if (n < 2) {
      throw new SafetensorsFormatException(
          file, "the header's length is " + n + " bytes, too short for a JSON object");
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long at) throws IOException {
    long p = at;
    while (buf.hasRemaining()) {
      int r = ch.read(buf, p);
      if (r < 0) {
        return;
      }
      p += r;
    }
  }

  private static String decode(Path file, byte[] bytes) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new SafetensorsFormatException(file, "the header is not valid UTF-8", e);
    }
  }

  /** The header's tensors (in file order) and metadata. */
  private record Header(Map<String, SafetensorsEntry> entries, Map<String, String> metadata) {}

  private static Header parseHeader(Path file, String text, long dataBytes) {
    if (text.charAt(0) != '{') {
      throw new SafetensorsFormatException(
          file, "the header does not start with '{': not a safetensors file");
    }
    Object root;
    try {
      root = StrictJson.parse(text);
    } catch (IllegalArgumentException e) {
      throw new SafetensorsFormatException(file, "malformed header: " + e.getMessage(), e);
    }
    if (!(root instanceof Map<?, ?> map)) {
      throw new SafetensorsFormatException(file, "the header is not a JSON object");
    }
    Map<String, SafetensorsEntry> entries = new LinkedHashMap<>();
    Map<String, String> metadata = Map.of();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      String name = (String) e.getKey();
      if (name.equals("__metadata__")) {
        metadata = metadata(file, e.getValue());
      } else {
        entries.put(name, entry(file, name, e.getValue()));
      }
    }
    checkTiling(file, entries, dataBytes);
    return new Header(Collections.unmodifiableMap(entries), metadata);
  }

  private static Map<String, String> metadata(Path file, Object value) {
    if (!(value instanceof Map<?, ?> map)) {
      throw new SafetensorsFormatException(
          file, "__metadata__ must be an object of strings, not " + jsonType(value));
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      if (!(e.getValue() instanceof String s)) {
        throw new SafetensorsFormatException(
            file,
            "__metadata__ value of \""
                + e.getKey()
                + "\" must be a string, not "
                + jsonType(e.getValue()));
      }
      out.put((String) e.getKey(), s);
    }
    return Collections.unmodifiableMap(out);
  }

  private static SafetensorsEntry entry(Path file, String name, Object value) {
    if (!(value instanceof Map<?, ?> info)) {
      throw new SafetensorsFormatException(
          file, "tensor \"" + name + "\" must be an object, not " + jsonType(value));
    }
    for (Object key : info.keySet()) {
      if (!key.equals("dtype") && !key.equals("shape") && !key.equals("data_offsets")) {
        throw new SafetensorsFormatException(
            file,
            "tensor \""
                + name
                + "\" has an unexpected key \""
                + key
                + "\" (dtype, shape, data_offsets expected)");
      }
    }
    for (String key : List.of("dtype", "shape", "data_offsets")) {
      if (!info.containsKey(key)) {
        throw new SafetensorsFormatException(file, "tensor \"" + name + "\" lacks \"" + key + "\"");
      }
    }
    if (!(info.get("dtype") instanceof String dtypeName)) {
      throw new SafetensorsFormatException(
          file,
          "dtype of tensor \"" + name + "\" must be a string, not " + jsonType(info.get("dtype")));
    }
    SafetensorsDtype dtype = SafetensorsDtype.byName(dtypeName);
    if (dtype == null) {
      throw new SafetensorsFormatException(
          file,
          "tensor \""
              + name
              + "\" has dtype \""
              + dtypeName
              + "\", not one this reader knows (F64, F32, F16, BF16, F8_E4M3, F8_E5M2, I64, ...,"
              + " U8, BOOL)");
    }
    long[] shape = longs(file, name, "shape", info.get("shape"), -1);
    long[] offsets = longs(file, name, "data_offsets", info.get("data_offsets"), 2);
    long elements = 1;
    try {
      for (long s : shape) {
        elements = Math.multiplyExact(elements, s);
      }
      Math.multiplyExact(elements, dtype.byteSize());
    } catch (ArithmeticException overflow) {
      throw new SafetensorsFormatException(
          file,
          "tensor \""
              + name
              + "\" of shape "
              + java.util.Arrays.toString(shape)
              + " has more bytes than a long counts");
    }
    long begin = offsets[0];
    long end = offsets[1];
    if (end < begin) {
      throw new SafetensorsFormatException(
          file,
          "tensor \"" + name + "\" has data_offsets [" + begin + ", " + end + "] that end first");
    }
    long bytes = elements * dtype.byteSize();
    if (end - begin != bytes) {
      throw new SafetensorsFormatException(
          file,
          "tensor \""
              + name
              + "\" is "
              + dtype.lowerName()
              + " "
              + java.util.Arrays.toString(shape)
              + ", "
              + bytes
              + " bytes, but its data_offsets ["
              + begin
              + ", "
              + end
              + "] hold "
              + (end - begin));
    }
    return new SafetensorsEntry(name, dtype, shape, begin, end);
  }

  /** A JSON array of non-negative integers ({@code count} of them unless it is −1). */
  private static long[] longs(Path file, String name, String key, Object value, int count) {
    if (!(value instanceof List<?> list)) {
      throw new SafetensorsFormatException(
          file,
          key + " of tensor \"" + name + "\" must be an array of integers, not " + jsonType(value));
    }
    if (count >= 0 && list.size() != count) {
      throw new SafetensorsFormatException(
          file,
          key + " of tensor \"" + name + "\" must hold " + count + " integers, not " + list.size());
    }
    long[] out = new long[list.size()];
    for (int i = 0; i < out.length; i++) {
      if (!(list.get(i) instanceof Long v) || v < 0) {
        throw new SafetensorsFormatException(
            file,
            key
                + " of tensor \""
                + name
                + "\" must hold non-negative integers (that fit a long), not "
                + (list.get(i) instanceof String s
                    ? "\"" + s + "\""
                    : String.valueOf(list.get(i))));
      }
      out[i] = v;
    }
    return out;
  }

  /** Sorted by offset, the tensors must cover [0, dataBytes) exactly: no gap, no overlap. */
  private static void checkTiling(
      Path file, Map<String, SafetensorsEntry> entries, long dataBytes) {
    List<SafetensorsEntry> sorted = new ArrayList<>(entries.values());
    sorted.sort(
        Comparator.comparingLong(SafetensorsEntry::begin).thenComparingLong(SafetensorsEntry::end));
    long expected = 0;
    String previous = null;
    for (SafetensorsEntry e : sorted) {
      if (e.begin() != expected) {
        throw new SafetensorsFormatException(
            file,
            "tensor \""
                + e.name()
                + "\" starts at byte "
                + e.begin()
                + " of the data, but "
                + (previous == null
                    ? "the first tensor must start at 0"
                    : "\"" + previous + "\" ends at byte " + expected)
                + (e.begin() < expected ? " (they overlap)" : " (a gap)"));
      }
      expected = e.end();
      previous = e.name();
    }
    if (expected > dataBytes) {
      throw new SafetensorsFormatException(
          file,
          "truncated: the tensors need "
              + expected
              + " bytes of data but the file holds "
              + dataBytes
              + " after its header");
    }
    if (expected < dataBytes) {
      throw new SafetensorsFormatException(
          file,
          (dataBytes - expected)
              + " bytes after the last tensor's data: the header does not describe the file");
    }
  }

  private static String jsonType(Object v) {
    if (v instanceof Map<?, ?>) {
      return "an object";
    }
    if (v instanceof List<?>) {
      return "an array";
    }
    if (v instanceof String) {
      return "a string";
    }
    if (v instanceof Boolean) {
      return "a boolean";
    }
    if (v == StrictJson.NULL) {
      return "null";
    }
    return "the number " + v;
  }

  // ---------------------------------------------------------------------------------------------
  // What the file holds

  /** The file this was opened from. */
  public Path file() {
    return file;
  }

  /** The tensors' names, in the header's order. */
  public List<String> names() {
    return List.copyOf(entries.keySet());
  }

  /** The tensors, in the header's order. */
  public List<SafetensorsEntry> entries() {
    return List.copyOf(entries.values());
  }

  /** True when the file holds a tensor of this name. */
  public boolean contains(String name) {
    return entries.containsKey(name);
  }

  /**
   * The tensor of this name.
   *
   * @throws IllegalArgumentException when the file holds none, naming the file
   */
  public SafetensorsEntry entry(String name) {
    Checks.notNull(name, "name");
    SafetensorsEntry e = entries.get(name);
    if (e == null) {
      throw new IllegalArgumentException(
          file + " holds no tensor \"" + name + "\" (it holds " + entries.size() + " tensors)");
    }
    return e;
  }

  /** The {@code __metadata__} map (empty when the header has none). */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** Bytes of tensor data (the file's size less the header). */
  public long dataBytes() {
    return data.byteSize();
  }

  /**
   * A read-only view of one tensor's bytes (little-endian), valid until {@link #close()}.
   *
   * @throws IllegalStateException when the file was closed
   */
  public MemorySegment segment(String name) {
    SafetensorsEntry e = entry(name);
    checkOpen();
    return data.asSlice(e.begin(), e.byteSize());
  }

  /**
   * One floating-point tensor as float32, row-major: F32 as stored, F16 and BF16 widened exactly,
   * F64 rounded to nearest.
   *
   * @throws IllegalArgumentException when there is no such tensor, it is not floating-point, or it
   *     has more elements than a Java array holds
   */
  public float[] floats(String name) {
    SafetensorsEntry e = entry(name);
    float[] out = new float[checkFloatRead(e)];
    copyFloats(e, out, 0);
    return out;
  }

  /**
   * Copies one floating-point tensor as float32 into {@code dst} from {@code offset} on.
   *
   * @throws IllegalArgumentException when it does not fit, or as {@link #floats}
   */
  public void readFloats(String name, float[] dst, int offset) {
    SafetensorsEntry e = entry(name);
    int n = checkFloatRead(e);
    Checks.notNull(dst, "dst");
    if (offset < 0 || (long) offset + n > dst.length) {
      throw new IllegalArgumentException(
          "tensor \""
              + name
              + "\" has "
              + n
              + " elements; they do not fit dst["
              + dst.length
              + "] from "
              + offset);
    }
    copyFloats(e, dst, offset);
  }

  private int checkFloatRead(SafetensorsEntry e) {
    if (!e.dtype().isFloat()) {
      throw new IllegalArgumentException(
          file
              + ": tensor \""
              + e.name()
              + "\" is "
              + e.describe()
              + ", not floating-point (F32, F16, BF16 or F64)");
    }
    return checkElements(e);
  }

  private int checkElements(SafetensorsEntry e) {
    if (e.elements() > MAX_ELEMENTS) {
      throw new IllegalArgumentException(
          file
              + ": tensor \""
              + e.name()
              + "\" has "
              + e.elements()
              + " elements, more than a Java array holds");
    }
    checkOpen();
    return (int) e.elements();
  }

  private void copyFloats(SafetensorsEntry e, float[] dst, int offset) {
    int n = (int) e.elements();
    long at = e.begin();
    switch (e.dtype()) {
      case F32 -> MemorySegment.copy(data, F32, at, dst, offset, n);
      case F16 -> {
        for (int i = 0; i < n; i++) {
          dst[offset + i] = Float.float16ToFloat(data.get(I16, at + 2L * i));
        }
      }
      case BF16 -> {
        for (int i = 0; i < n; i++) {
          dst[offset + i] = Float.intBitsToFloat(data.get(I16, at + 2L * i) << 16);
        }
      }
      case F64 -> {
        for (int i = 0; i < n; i++) {
          dst[offset + i] = (float) data.get(F64, at + 8L * i);
        }
      }
      default -> throw new IllegalStateException("not a float type: " + e.dtype());
    }
  }

  /**
   * One F16 or BF16 tensor's 16-bit patterns, row-major, as stored (for weights kept in 16 bits).
   *
   * @throws IllegalArgumentException when there is no such tensor or it is not F16 or BF16
   */
  public short[] bits16(String name) {
    SafetensorsEntry e = entry(name);
    if (e.dtype() != SafetensorsDtype.F16 && e.dtype() != SafetensorsDtype.BF16) {
      throw new IllegalArgumentException(
          file + ": tensor \"" + name + "\" is " + e.describe() + ", not f16 or bf16");
    }
    short[] out = new short[checkElements(e)];
    MemorySegment.copy(data, I16, e.begin(), out, 0, out.length);
    return out;
  }

  private void checkOpen() {
    if (!arena.scope().isAlive()) {
      throw new IllegalStateException(file + " was closed");
    }
  }

  /** Unmaps the file; later reads throw {@link IllegalStateException}. Idempotent. */
  @Override
  public void close() {
    if (arena.scope().isAlive()) {
      arena.close();
    }
  }

  @Override
  public String toString() {
    return "Safetensors[" + file + ", " + entries.size() + " tensors]";
  }
}
